//! Where in a profile's horizon a time falls: each interval's start as tables, JSON and clocks
//! show it, and the interval a user names (`loadtest --start`), as a clock time or, on a dated
//! horizon, a local date-time in the profile's zone.

use jiff::civil::DateTime;

use super::calendar::{self, Local, parse_local};
use super::{DAY_SECS, Profile, clock_label, parse_clock};

/// A point of the horizon as a flag gives it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum StartAt {
    /// Seconds after midnight: the first interval starting at that clock time.
    Clock(f64),
    /// A local date-time in the profile's zone (dated horizons only).
    Local(DateTime),
}

impl StartAt {
    /// Reads `"HH:MM"` or `"YYYY-MM-DDTHH:MM"`.
    pub fn parse(text: &str) -> Result<StartAt, String> {
        if text.contains('T') {
            parse_local(text).map(StartAt::Local)
        } else {
            parse_clock(text).map(StartAt::Clock)
        }
    }
}

impl Profile {
    /// Table label of interval `i`: the clock time `"08:30"` (`"08:30:15"` when not on a whole
    /// minute, wrapping past midnight) for an undated horizon, `"Mon 07 08:30"` for a dated one.
    pub fn interval_label(&self, i: usize) -> String {
        if self.calendar.dated {
            calendar::short_label(self.interval_zoned(i).datetime())
        } else {
            clock_label(self.start_secs + i as f64 * self.interval_secs)
        }
    }

    /// The `start` of interval `i` in JSON and CSV: the clock label when undated, RFC 3339 with
    /// the offset when dated (`"2026-10-25T02:30:00+01:00"`, unambiguous in a fold).
    pub fn interval_start_text(&self, i: usize) -> String {
        if self.calendar.dated {
            calendar::start_text(&self.interval_zoned(i))
        } else {
            clock_label(self.start_secs + i as f64 * self.interval_secs)
        }
    }

    /// The text of the instant `secs` after the horizon's start, as interval starts are
    /// written (any instant, inside the horizon or not).
    pub fn instant_text(&self, secs: f64) -> String {
        if self.calendar.dated {
            calendar::start_text(&self.calendar.zoned(secs))
        } else {
            clock_label(self.start_secs + secs)
        }
    }

    /// Start of interval `i` in the profile's zone (1970-01-01 UTC for an undated horizon).
    pub fn interval_zoned(&self, i: usize) -> jiff::Zoned {
        self.calendar.zoned(i as f64 * self.interval_secs)
    }

    /// Whether interval `i` is within opening hours (true past the horizon's end).
    pub fn is_open(&self, i: usize) -> bool {
        self.open.get(i).copied().unwrap_or(true)
    }

    /// Seconds after midnight at which interval `i` starts, in `0..86400`; for a dated horizon, the local clock time in its zone.
    pub fn interval_clock_secs(&self, i: usize) -> f64 {
        if self.calendar.dated {
            let time = self.interval_zoned(i).time();
            let secs = i64::from(time.hour()) * 3600
                + i64::from(time.minute()) * 60
                + i64::from(time.second());
            return secs as f64 + f64::from(time.subsec_nanosecond()) / 1e9;
        }
        (self.start_secs + i as f64 * self.interval_secs).rem_euclid(DAY_SECS)
    }

    /// Length of the whole planning horizon in seconds.
    pub fn horizon_secs(&self) -> f64 {
        self.intervals as f64 * self.interval_secs
    }

    /// The interval starting at `at`: for a clock time the first interval starting then (on a
    /// dated horizon, the first day's), for a local date-time the interval starting at that
    /// instant (in a fold as clocks go back, the first occurrence). The error names the valid
    /// starts.
    pub fn interval_at(&self, at: StartAt) -> Result<usize, String> {
        let (found, asked) = match at {
            StartAt::Clock(clock) => (
                (0..self.intervals).find(|&i| (self.interval_clock_secs(i) - clock).abs() < 0.5),
                clock_label(clock),
            ),
            StartAt::Local(local) => (self.local_interval(local)?, local_text(local)),
        };
        found.ok_or_else(|| {
            let (first, last) = (self.start_hint(0), self.start_hint(self.intervals - 1));
            format!(
                "{asked} is not the start of an interval of profile {:?}; use an interval \
                 start from {first} to {last} in steps of {}",
                self.name,
                super::duration::format_duration(self.interval_secs)
            )
        })
    }

    /// The interval a local date-time starts, `None` when it starts none.
    fn local_interval(&self, local: DateTime) -> Result<Option<usize>, String> {
        if !self.calendar.dated {
            return Err(format!(
                "{} is a date-time but profile {:?} covers one undated day; give a clock \
                 time such as 08:00",
                local_text(local),
                self.name
            ));
        }
        let instant = match self.calendar.resolve(local)? {
            Local::Unique(t) => t,
            Local::Fold { earlier, .. } => earlier,
        };
        let secs = instant.duration_since(self.calendar.start).as_secs_f64();
        let steps = secs / self.interval_secs;
        let whole = steps >= 0.0 && (steps - steps.round()).abs() < 1e-6;
        Ok((whole && (steps.round() as usize) < self.intervals).then(|| steps.round() as usize))
    }

    /// Interval `i`'s start as a flag would give it.
    fn start_hint(&self, i: usize) -> String {
        if self.calendar.dated {
            local_text(self.interval_zoned(i).datetime())
        } else {
            self.interval_label(i)
        }
    }
}

/// `"2026-12-07T08:00"`.
fn local_text(local: DateTime) -> String {
    local.strftime("%Y-%m-%dT%H:%M").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn profile(start: &str, extra: &str) -> Profile {
        let text = format!(
            "name = \"p\"\ninterval = \"1h\"\nstart = \"{start}\"\n{extra}\n[[queues]]\n\
             name = \"q\"\nvolume = 10\nhandle_time = {{ dist = \"exponential\", mean = \"5m\" }}\n\
             [[agents]]\nname = \"a\"\nskills = [\"q\"]\n"
        );
        super::super::parse(&text, "p.toml", None).expect("profile parses")
    }

    #[test]
    fn a_dated_horizon_takes_a_local_date_time_or_the_first_days_clock_time() {
        let p = profile("2026-10-24T00:00", "days = 2\ntimezone = \"Europe/Paris\"");
        let at = |text: &str| p.interval_at(StartAt::parse(text).unwrap());
        assert_eq!(at("09:00"), Ok(9));
        assert_eq!(at("2026-10-24T09:00"), Ok(9));
        // Clocks go back at 03:00 on the 25th: 02:00 happens twice, the first is taken, and
        // the day holds 25 hours.
        assert_eq!(at("2026-10-25T02:00"), Ok(26));
        assert_eq!(at("2026-10-25T03:00"), Ok(28));
        assert_eq!(at("2026-10-25T23:00"), Ok(48));
        let e = at("2026-10-26T00:00").unwrap_err();
        assert!(
            e.contains("from 2026-10-24T00:00 to 2026-10-25T23:00 in steps of 1h"),
            "{e}"
        );
        assert!(at("2026-10-24T09:30").is_err());
    }

    #[test]
    fn an_undated_day_takes_clock_times_only() {
        let p = profile("08:00", "intervals = 4");
        assert_eq!(p.interval_at(StartAt::Clock(10.0 * 3600.0)), Ok(2));
        let e = p
            .interval_at(StartAt::parse("2026-12-07T08:00").unwrap())
            .unwrap_err();
        assert!(e.contains("undated") && e.contains("08:00"), "{e}");
        let e = p.interval_at(StartAt::Clock(7.0 * 3600.0)).unwrap_err();
        assert!(e.contains("from 08:00 to 11:00"), "{e}");
        assert!(StartAt::parse("25:00").is_err());
        assert!(StartAt::parse("2026-12-07T08:00+01:00").is_err());
    }
}
