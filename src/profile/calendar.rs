//! Where a horizon sits in calendar time: the instant its first interval starts and the time
//! zone its clock times are read in. Intervals are laid end to end in absolute time, so a day
//! of 23 or 25 hours simply holds fewer or more intervals; jiff does the calendar arithmetic.
//!
//! An undated profile (`start = "08:00"`) is placed on 1970-01-01 in UTC, so a simulated chat
//! log of it still has full timestamps.
//!
//! Local date-times that a daylight-saving change makes ambiguous are never guessed silently
//! where it matters: a time in a gap (it never happens) is an error naming the valid times
//! around it; a time in a fold (it happens twice) is the earlier instant for a horizon's start,
//! and elsewhere the caller decides (a forecast row must then give its offset).

use jiff::civil::DateTime;
use jiff::tz::{AmbiguousOffset, Offset, TimeZone};
use jiff::{SignedDuration, Timestamp, Zoned};

use super::duration::format_duration;

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

    /// A dated horizon starting at the local date-time `start_local` (`"2026-12-07T00:00"`,
    /// seconds optional) in the IANA zone `zone_name`. A start in a daylight-saving gap is an
    /// error naming the valid times around it; a start in a fold is the earlier instant.
    pub fn dated(zone_name: &str, start_local: &str) -> Result<Calendar, String> {
        let zone = zone_by_name(zone_name)?;
        let local = parse_local(start_local)?;
        let start = match resolve_local(&zone, zone_name, local)? {
            Local::Unique(t) => t,
            Local::Fold { earlier, .. } => earlier,
        };
        Ok(Calendar {
            zone,
            zone_name: zone_name.to_string(),
            start,
            dated: true,
        })
    }

    /// How many intervals of `interval_secs` fit between the start and the same local time
    /// `days` days later (a 23-hour day holds 46 half hours); an error when that span is not a
    /// whole number of intervals.
    pub fn intervals_for_days(&self, days: u32, interval_secs: f64) -> Result<usize, String> {
        let first = self.start.to_zoned(self.zone.clone());
        let last = first
            .checked_add(jiff::Span::new().days(i64::from(days)))
            .map_err(|e| {
                format!(
                    "{days} days after {} leave the calendar: {e}",
                    local_text(&first)
                )
            })?;
        let span_secs = last
            .timestamp()
            .duration_since(first.timestamp())
            .as_secs_f64();
        let count = span_secs / interval_secs;
        if !(interval_secs > 0.0 && count >= 1.0 && (count - count.round()).abs() < 1e-6) {
            return Err(format!(
                "the {days} days from {} to {} last {}, not a whole number of {} intervals; \
                 use an interval that divides an hour, e.g. interval = \"30m\"",
                local_text(&first),
                local_text(&last),
                format_duration(span_secs),
                format_duration(interval_secs),
            ));
        }
        Ok(count.round() as usize)
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

    /// The instant of a local date-time in this zone: a gap is an error naming the valid times
    /// around it, a fold gives both instants.
    pub(crate) fn resolve(&self, local: DateTime) -> Result<Local, String> {
        resolve_local(&self.zone, &self.zone_name, local)
    }
}

/// A local date-time placed in a zone.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Local {
    /// It happens once.
    Unique(Timestamp),
    /// It happens twice, as clocks fall back: before and after the change.
    Fold {
        /// The first occurrence (summer time).
        earlier: Timestamp,
        /// The second occurrence.
        later: Timestamp,
        /// The offset of the first occurrence.
        earlier_offset: Offset,
        /// The offset of the second occurrence.
        later_offset: Offset,
    },
}

/// The zone called `name` in the bundled IANA database.
pub(crate) fn zone_by_name(name: &str) -> Result<TimeZone, String> {
    TimeZone::get(name).map_err(|_| {
        format!(
            "{name:?} is not an IANA time zone name; write one such as \"Europe/London\", \
             \"America/New_York\" or \"UTC\""
        )
    })
}

/// Reads `"YYYY-MM-DDTHH:MM"` or `"YYYY-MM-DDTHH:MM:SS"`, nothing else (an offset here would
/// be ignored, so it is refused).
pub(crate) fn parse_local(text: &str) -> Result<DateTime, String> {
    let text = text.trim();
    let bad = || {
        format!(
            "{text:?} is not a local date-time; write \"YYYY-MM-DDTHH:MM\", e.g. \
             \"2026-12-07T08:00\" (or a clock time \"HH:MM\" for one undated day)"
        )
    };
    let parsed: DateTime = text.parse().map_err(|_| bad())?;
    let formats = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"];
    if formats
        .iter()
        .any(|f| parsed.strftime(f).to_string() == text)
    {
        Ok(parsed)
    } else {
        Err(bad())
    }
}

fn resolve_local(zone: &TimeZone, zone_name: &str, local: DateTime) -> Result<Local, String> {
    let ambiguous = zone.to_ambiguous_timestamp(local);
    let shown = local.strftime("%Y-%m-%dT%H:%M");
    match ambiguous.offset() {
        AmbiguousOffset::Unambiguous { offset } => offset
            .to_timestamp(local)
            .map(Local::Unique)
            .map_err(|e| format!("{shown} is out of range: {e}")),
        AmbiguousOffset::Fold { before, after } => {
            let at = |o: Offset| o.to_timestamp(local).map_err(|e| format!("{shown}: {e}"));
            Ok(Local::Fold {
                earlier: at(before)?,
                later: at(after)?,
                earlier_offset: before,
                later_offset: after,
            })
        }
        AmbiguousOffset::Gap { before, after } => {
            Err(gap_message(zone, zone_name, local, before, after))
        }
    }
}

/// Names the clock change a local time in a gap falls into and the valid times around it.
fn gap_message(
    zone: &TimeZone,
    zone_name: &str,
    local: DateTime,
    before: Offset,
    after: Offset,
) -> String {
    let shown = local.strftime("%Y-%m-%dT%H:%M");
    let change = after
        .to_timestamp(local)
        .ok()
        .and_then(|t| zone.following(t).next())
        .map(|transition| transition.timestamp());
    match change {
        Some(t) => {
            let from = before.to_datetime(t).strftime("%H:%M");
            let to = after.to_datetime(t).strftime("%Y-%m-%dT%H:%M");
            format!(
                "{shown} does not exist in {zone_name}: clocks jump from {from} to {}; start at \
                 {to} or before {from}",
                after.to_datetime(t).strftime("%H:%M")
            )
        }
        None => format!(
            "{shown} does not exist in {zone_name} (a clock change skips it); pick another time"
        ),
    }
}

/// `"2026-12-07T08:00"`: a zoned time as a profile writes it.
fn local_text(zoned: &Zoned) -> String {
    zoned.strftime("%Y-%m-%dT%H:%M").to_string()
}

/// RFC 3339 with the offset (`"2026-12-07T08:30:00+01:00"`): the `start` of a dated row in
/// JSON and CSV, unambiguous in a fold.
pub(crate) fn start_text(zoned: &Zoned) -> String {
    zoned.strftime("%Y-%m-%dT%H:%M:%S%:z").to_string()
}

/// `"Mon 07 08:30"` (seconds shown when not zero): the short label of a dated row in tables.
pub(crate) fn short_label(local: DateTime) -> String {
    if local.second() == 0 {
        local.strftime("%a %d %H:%M").to_string()
    } else {
        local.strftime("%a %d %H:%M:%S").to_string()
    }
}

/// The table label of a row's `start`: an RFC 3339 date-time (`"2026-12-07T08:30:00+01:00"`)
/// becomes `"Mon 07 08:30"` in its own local time; a clock time (`"08:30"`) is kept.
pub fn table_label(start: &str) -> String {
    match start.parse::<DateTime>() {
        Ok(local) if start.contains('T') => short_label(local),
        _ => start.to_string(),
    }
}
