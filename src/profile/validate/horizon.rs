//! The planning horizon: how many intervals a profile covers (given, counted from `days` on
//! the calendar, or read from its volume lists or forecast files), the limits on its length,
//! which intervals are open, and how forecast rows are matched to intervals (by clock time on
//! an undated horizon, by instant on a dated one).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use toml::Value;

use super::super::calendar::{Local, start_text};
use super::super::duration::format_duration;
use super::super::forecast::{Forecast, ForecastRow, RowTime};
use super::super::locate::{FieldPath, Issue};
use super::super::raw::{RawProfile, RawQueue};
use super::super::{DAY_SECS, clock_label};
use super::Failure;
use super::dated::{When, open_flags};

/// Longest horizon of a profile, days: a year, leap day included. Longer is a slip of the
/// interval count, and would only make a plan that runs for hours.
const MAX_HORIZON_DAYS: f64 = 366.0;

/// Most intervals a profile may give.
const MAX_INTERVALS: i64 = 100_000;

/// The intervals a profile covers, with what set their number (for messages about lists of
/// the wrong length) and their start times.
pub(super) struct Horizon {
    /// Number of intervals.
    pub(super) intervals: usize,
    /// Length of one interval, seconds.
    pub(super) interval_secs: f64,
    /// What gave the number of intervals, e.g. `intervals = 28`.
    pub(super) origin: String,
    /// The `start` text of each interval (`"08:30"`, or RFC 3339 when dated), for messages.
    pub(super) labels: Vec<String>,
    /// Per interval, whether it is within opening hours.
    pub(super) open: Vec<bool>,
    /// Clock time of the first interval, seconds after midnight.
    start_secs: f64,
    /// Where the horizon sits in calendar time.
    calendar: super::super::Calendar,
}

impl Horizon {
    /// Counts the intervals, checks the horizon's length and marks the open ones.
    pub(super) fn read(
        raw: &RawProfile,
        forecasts: &HashMap<PathBuf, Forecast>,
        base_dir: Option<&Path>,
        when: &When,
        interval_secs: f64,
    ) -> Result<Horizon, Failure> {
        let (intervals, origin) = intervals(raw, forecasts, base_dir, when, interval_secs)?;
        let clock_matched = !forecasts.is_empty() && !when.calendar.dated;
        check_length(intervals, interval_secs, clock_matched)?;
        let labels = (0..intervals)
            .map(|i| {
                let secs = i as f64 * interval_secs;
                if when.calendar.dated {
                    start_text(&when.calendar.zoned(secs))
                } else {
                    clock_label(when.start_secs + secs)
                }
            })
            .collect();
        Ok(Horizon {
            intervals,
            interval_secs,
            origin,
            labels,
            open: open_flags(when, intervals, interval_secs),
            start_secs: when.start_secs,
            calendar: when.calendar.clone(),
        })
    }

    /// The interval a forecast row starts, `None` when it starts none of them.
    pub(super) fn interval_of(&self, row: &ForecastRow) -> Result<Option<usize>, String> {
        let offset = row_offset(self.start_secs, &self.calendar, row)?;
        let steps = offset / self.interval_secs;
        let whole = steps >= 0.0 && (steps - steps.round()).abs() < 1e-6;
        Ok((whole && (steps.round() as usize) < self.intervals).then(|| steps.round() as usize))
    }

    /// Length of the whole horizon, seconds.
    fn secs(&self) -> f64 {
        self.intervals as f64 * self.interval_secs
    }

    /// The warm-up must leave some of the horizon to measure.
    pub(super) fn check_warmup(&self, warmup_secs: f64) -> Result<(), Issue> {
        if warmup_secs < self.secs() {
            return Ok(());
        }
        Err(Issue::new(
            &FieldPath::root().key("simulation").key("warmup"),
            format!(
                "= {:?} is not shorter than the horizon ({} intervals of {} = {}); use a shorter warmup",
                format_duration(warmup_secs),
                self.intervals,
                format_duration(self.interval_secs),
                format_duration(self.secs()),
            ),
        ))
    }
}

/// One value for every interval, or a list with one per interval (`one` names an entry in
/// the error, e.g. "volume"); `item` reads and checks each value at its path.
pub(super) fn per_interval<T: Clone>(
    value: &Value,
    path: &FieldPath,
    horizon: &Horizon,
    one: &str,
    item: impl Fn(&Value, &FieldPath) -> Result<T, Issue>,
) -> Result<Vec<T>, Issue> {
    let intervals = horizon.intervals;
    match value {
        Value::Array(items) => {
            if items.len() != intervals {
                return Err(Issue::new(
                    path,
                    format!(
                        "has {} entries but the profile has {intervals} intervals ({}); give one {one} per interval",
                        items.len(),
                        horizon.origin
                    ),
                ));
            }
            items
                .iter()
                .enumerate()
                .map(|(i, v)| item(v, &path.index(i)))
                .collect()
        }
        single => Ok(vec![item(single, path)?; intervals]),
    }
}

/// At most [`MAX_HORIZON_DAYS`], and a day when forecast rows are matched by clock time.
fn check_length(intervals: usize, interval_secs: f64, has_forecasts: bool) -> Result<(), Issue> {
    let path = FieldPath::root().key("intervals");
    let horizon = intervals as f64 * interval_secs;
    if horizon > MAX_HORIZON_DAYS * DAY_SECS {
        let most = (MAX_HORIZON_DAYS * DAY_SECS / interval_secs).floor();
        let length = format_duration(interval_secs);
        return Err(Issue::new(
            &path,
            format!(
                "= {intervals} intervals of {length} cover {:.0} days; a profile covers at most \
                 {MAX_HORIZON_DAYS} days: give at most {most} intervals of {length}",
                horizon / DAY_SECS,
            ),
        ));
    }
    if has_forecasts && horizon > DAY_SECS {
        return Err(Issue::new(
            &path,
            format!(
                "= {intervals} covers {} but forecast rows are matched by clock time; keep the horizon within 24 hours",
                format_duration(horizon)
            ),
        ));
    }
    Ok(())
}

/// Where a queue's forecast file is: relative paths are resolved in `base_dir`.
pub(super) fn forecast_path(base_dir: Option<&Path>, file: &str) -> PathBuf {
    let path = Path::new(file);
    match base_dir {
        Some(dir) if path.is_relative() => dir.join(path),
        _ => path.to_path_buf(),
    }
}

/// Reads every forecast file named by a queue once, and checks it names only known queues.
pub(super) fn load_forecasts(
    queues: &[RawQueue],
    queue_names: &[String],
    base_dir: Option<&Path>,
) -> Result<HashMap<PathBuf, Forecast>, Failure> {
    let mut forecasts = HashMap::new();
    let names: Vec<&str> = queue_names.iter().map(String::as_str).collect();
    for (i, q) in queues.iter().enumerate() {
        let Some(file) = &q.forecast else { continue };
        let path = FieldPath::root().key("queues").index(i);
        if q.volume.is_some() {
            return Err(Issue::new(
                &path.key("volume"),
                "and forecast are both given; keep one of them",
            )
            .into());
        }
        if file.trim().is_empty() {
            return Err(Issue::new(
                &path.key("forecast"),
                "= \"\" is empty; name a CSV file, e.g. forecast = \"forecast.csv\"",
            )
            .into());
        }
        let resolved = forecast_path(base_dir, file);
        if let std::collections::hash_map::Entry::Vacant(slot) = forecasts.entry(resolved) {
            let forecast = Forecast::load(slot.key())?;
            forecast.check_queues(&names)?;
            slot.insert(forecast);
        }
    }
    Ok(forecasts)
}

/// The number of intervals: `intervals`, else `days` on the calendar, else the first volume
/// list, else the span of the first forecast queue's rows.
fn intervals(
    raw: &RawProfile,
    forecasts: &HashMap<PathBuf, Forecast>,
    base_dir: Option<&Path>,
    when: &When,
    interval_secs: f64,
) -> Result<(usize, String), Failure> {
    let path = FieldPath::root().key("intervals");
    if let Some(days) = when.days {
        let n = when
            .calendar
            .intervals_for_days(days, interval_secs)
            .map_err(|m| Issue::new(&FieldPath::root().key("days"), format!("= {days}: {m}")))?;
        if n as i64 > MAX_INTERVALS {
            return Err(Issue::new(
                &FieldPath::root().key("days"),
                format!("= {days} gives {n} intervals, over {MAX_INTERVALS}; use fewer days or a longer interval"),
            )
            .into());
        }
        return Ok((n, format!("days = {days} gives {n} intervals")));
    }
    if let Some(n) = raw.intervals {
        if !(1..=MAX_INTERVALS).contains(&n) {
            return Err(Issue::new(
                &path,
                format!("= {n} is out of range; use 1 to {MAX_INTERVALS} intervals"),
            )
            .into());
        }
        return Ok((n as usize, format!("intervals = {n}")));
    }
    for q in &raw.queues {
        if let Some(Value::Array(items)) = &q.volume {
            let name = q.name.as_deref().unwrap_or("");
            if items.is_empty() {
                continue;
            }
            return Ok((
                items.len(),
                format!("queue {name:?} has {} volume entries", items.len()),
            ));
        }
    }
    check_row_times(raw, forecasts, base_dir, when)?;
    // The longest span of any forecast queue, so that a row missing at the end of one queue is
    // named as missing rather than the other queues' last rows as surplus.
    let longest = raw
        .queues
        .iter()
        .filter_map(|q| {
            let (file, name) = (q.forecast.as_ref()?, q.name.as_ref()?);
            let forecast = forecasts.get(&forecast_path(base_dir, file))?;
            let offset = |row: &ForecastRow| row_offset(when.start_secs, &when.calendar, row).ok();
            let (n, last) = forecast.span(name, interval_secs, offset)?;
            let first = if when.calendar.dated {
                start_text(&when.calendar.zoned(0.0))
            } else {
                clock_label(when.start_secs)
            };
            let origin = format!(
                "{}'s rows for queue {name:?} run from {first} to {last}",
                forecast.path,
            );
            Some((n, origin))
        })
        .max_by_key(|(n, _)| *n);
    if let Some(found) = longest {
        return Ok(found);
    }
    Err(Issue::new(
        &path,
        "is missing; with a single-number volume, set intervals = N (e.g. intervals = 28), or give volume as a list",
    )
    .into())
}

/// Every forecast row of a queue that reads the file has a time of the horizon's kind.
fn check_row_times(
    raw: &RawProfile,
    forecasts: &HashMap<PathBuf, Forecast>,
    base_dir: Option<&Path>,
    when: &When,
) -> Result<(), Failure> {
    for q in &raw.queues {
        let (Some(file), Some(name)) = (&q.forecast, &q.name) else {
            continue;
        };
        let Some(forecast) = forecasts.get(&forecast_path(base_dir, file)) else {
            continue;
        };
        for row in forecast.rows.iter().filter(|r| &r.queue == name) {
            if let Err(message) = row_offset(when.start_secs, &when.calendar, row) {
                return Err(super::super::ProfileError::Forecast {
                    path: forecast.path.clone(),
                    line: Some(row.line),
                    message,
                }
                .into());
            }
        }
    }
    Ok(())
}

/// Seconds from the horizon's start to a forecast row's start: by clock time (within a day)
/// on an undated horizon, by instant on a dated one. Each kind of horizon takes its own kind
/// of row, and a local time a daylight-saving fold repeats must give its offset.
fn row_offset(
    start_secs: f64,
    calendar: &super::super::Calendar,
    row: &ForecastRow,
) -> Result<f64, String> {
    let label = &row.label;
    let instant = match (calendar.dated, row.at) {
        (false, RowTime::Clock(clock)) => {
            return Ok((clock as f64 - start_secs).rem_euclid(DAY_SECS));
        }
        (false, _) => {
            return Err(format!(
                "interval_start {label:?} is a date-time but the profile's start is a clock \
                 time; write clock times (08:30), or give the profile a dated start such as \
                 start = \"2026-12-07T00:00\""
            ));
        }
        (true, RowTime::Clock(_)) => {
            return Err(format!(
                "interval_start {label:?} is a clock time but the profile's horizon is dated; \
                 write local date-times such as 2026-12-07T08:30"
            ));
        }
        (true, RowTime::Instant(t)) => t,
        (true, RowTime::Local(local)) => match calendar.resolve(local) {
            Ok(Local::Unique(t)) => t,
            Ok(Local::Fold {
                earlier_offset,
                later_offset,
                ..
            }) => {
                return Err(format!(
                    "interval_start {label:?} happens twice in {} as clocks go back; add its \
                     offset: {label}{earlier_offset} (the first) or {label}{later_offset}",
                    calendar.zone_name
                ));
            }
            Err(m) => return Err(format!("interval_start {m}")),
        },
    };
    Ok(instant.duration_since(calendar.start).as_secs_f64())
}
