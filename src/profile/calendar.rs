//! Where a horizon sits in calendar time: the instant its first interval starts and the time
//! zone its clock times are read in. Intervals are laid end to end in absolute time, so a day
//! of 23 or 25 hours simply holds fewer or more intervals; jiff does the calendar arithmetic.
//!
//! An undated profile (`start = "08:00"`) is placed on 1970-01-01 in UTC, so a simulated chat
//! log of it still has full timestamps.

use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp, Zoned};

/// The calendar position of a profile's horizon.
#[derive(Debug, Clone, PartialEq)]
pub struct Calendar {
    /// The zone clock times and opening hours are read in (UTC unless `timezone` is set).
    pub zone: TimeZone,
    /// The zone's name as written in the profile (`"UTC"` by default).
    pub zone_name: String,
    /// The instant the first interval starts.
    pub start: Timestamp,
    /// Whether the profile gave a date (`start = "2026-12-07T00:00"`); an undated horizon
    /// is one day from a clock time.
    pub dated: bool,
}

impl Calendar {
    /// An undated horizon starting `start_secs` after midnight, on 1970-01-01 in UTC.
    pub fn undated(start_secs: f64) -> Calendar {
        Calendar {
            zone: TimeZone::UTC,
            zone_name: "UTC".to_string(),
            start: Timestamp::UNIX_EPOCH + SignedDuration::from_secs_f64(start_secs),
            dated: false,
        }
    }

    /// The instant `secs` seconds after the horizon's start.
    pub fn instant(&self, secs: f64) -> Timestamp {
        // Horizons are at most a year long, far inside jiff's range.
        self.start
            .checked_add(SignedDuration::from_secs_f64(secs))
            .unwrap_or(self.start)
    }

    /// The local date-time `secs` seconds after the horizon's start.
    pub fn zoned(&self, secs: f64) -> Zoned {
        self.instant(secs).to_zoned(self.zone.clone())
    }
}
