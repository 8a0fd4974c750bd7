//! Forecast CSV import: per-interval volume (and optionally handle time) for queues, as
//! exported by a workforce-management tool. The header is exactly
//! `interval_start,queue,volume,aht_secs`; rows are matched to queues by name and to intervals
//! by clock time, so a file written for one day fits any profile covering those clock times.
//! A dated horizon's rows give local date-times instead (`2026-12-07T08:30`), with the offset
//! (`2026-10-25T02:30+01:00`) where a daylight-saving fold makes the local time ambiguous.

use std::path::Path;

use jiff::Timestamp;
use jiff::civil::DateTime;

use super::calendar::parse_local;
use super::{MAX_DURATION_SECS, MIN_POSITIVE_SECS, ProfileError, parse_clock, read_hint};

/// The required header.
pub(crate) const HEADER: [&str; 4] = ["interval_start", "queue", "volume", "aht_secs"];

/// When a row's interval starts, as written.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum RowTime {
    /// A clock time, whole seconds after midnight (`08:30`).
    Clock(u64),
    /// A local date-time in the profile's zone (`2026-12-07T08:30`).
    Local(DateTime),
    /// A date-time with its offset (`2026-10-25T02:30+01:00`).
    Instant(Timestamp),
}

/// One data row.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ForecastRow {
    /// 1-based line in the file.
    pub line: usize,
    /// The interval start as written (`"08:30"`, `"2026-12-07T08:30"`).
    pub label: String,
    /// The interval start.
    pub at: RowTime,
    /// Queue name.
    pub queue: String,
    /// Expected chats.
    pub volume: f64,
    /// Mean handle time, when given.
    pub aht_secs: Option<f64>,
}

/// A parsed forecast file.
#[derive(Debug, Clone)]
pub(crate) struct Forecast {
    /// The file as named in errors.
    pub path: String,
    /// Data rows in file order.
    pub rows: Vec<ForecastRow>,
}

impl Forecast {
    /// Reads and checks a forecast file: header, column count, numbers, clock times.
    pub(crate) fn load(path: &Path) -> Result<Forecast, ProfileError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| ProfileError::Read {
            path: shown.clone(),
            message: read_hint(
                &e,
                "the forecast path is relative to the profile's directory",
            ),
        })?;
        Forecast::parse(&text, &shown)
    }

    /// Parses forecast text; `path` names it in errors.
    pub(crate) fn parse(text: &str, path: &str) -> Result<Forecast, ProfileError> {
        let err = |line: Option<usize>, message: String| ProfileError::Forecast {
            path: path.to_string(),
            line,
            message,
        };
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .trim(csv::Trim::All)
            .from_reader(text.as_bytes());
        let mut rows = Vec::new();
        let mut saw_header = false;
        for record in reader.records() {
            let record = record.map_err(|e| {
                let line = e.position().map(|p| p.line() as usize);
                err(line, format!("unreadable CSV: {e}"))
            })?;
            let line = record.position().map_or(0, |p| p.line() as usize);
            let checked = if saw_header {
                row(&record, line).map(|r| rows.push(r))
            } else {
                saw_header = true;
                header(&record)
            };
            checked.map_err(|message| err(Some(line), message))?;
        }
        if !saw_header {
            return Err(err(
                None,
                format!(
                    "file is empty; the first line must be exactly {}",
                    HEADER.join(",")
                ),
            ));
        }
        if rows.is_empty() {
            return Err(err(
                None,
                format!(
                    "has a header but no rows; add one row per queue and interval under it, e.g. 08:00,orders,42,420 (columns {})",
                    HEADER.join(",")
                ),
            ));
        }
        Ok(Forecast {
            path: path.to_string(),
            rows,
        })
    }

    /// The intervals `queue`'s rows span from the horizon's start in steps of `interval_secs`,
    /// up to its latest row on that grid, and that row's label; `None` without such rows.
    /// `offset` places a row's start in seconds after the horizon's start (`None`: it cannot).
    /// A row missing inside the span is then named as missing, not miscounted.
    pub(crate) fn span(
        &self,
        queue: &str,
        interval_secs: f64,
        offset: impl Fn(&ForecastRow) -> Option<f64>,
    ) -> Option<(usize, &str)> {
        self.rows
            .iter()
            .filter(|r| r.queue == queue)
            .filter_map(|r| {
                let steps = offset(r)? / interval_secs;
                (steps >= 0.0 && steps.fract().abs() < 1e-9)
                    .then(|| (steps as usize + 1, r.label.as_str()))
            })
            .max_by_key(|&(n, _)| n)
    }

    /// Checks that every row names one of `queues`.
    pub(crate) fn check_queues(&self, queues: &[&str]) -> Result<(), ProfileError> {
        match self
            .rows
            .iter()
            .find(|r| !queues.contains(&r.queue.as_str()))
        {
            Some(row) => Err(ProfileError::Forecast {
                path: self.path.clone(),
                line: Some(row.line),
                message: format!(
                    "queue {:?} is not a queue of the profile; use one of {}",
                    row.queue,
                    queues.join(", ")
                ),
            }),
            None => Ok(()),
        }
    }

    /// Volume and handle time per interval for `queue`. `interval_of` finds a row's interval
    /// (`Ok(None)`: none of the profile's; `Err`: what is wrong with its time) and `labels`
    /// names each interval.
    pub(crate) fn series(
        &self,
        queue: &str,
        interval_of: impl Fn(&ForecastRow) -> Result<Option<usize>, String>,
        labels: &[String],
    ) -> Result<(Vec<f64>, Vec<Option<f64>>), ProfileError> {
        let err = |line: Option<usize>, message: String| ProfileError::Forecast {
            path: self.path.clone(),
            line,
            message,
        };
        let mut volume = vec![f64::NAN; labels.len()];
        let mut aht = vec![None; labels.len()];
        let mut seen_at: Vec<Option<usize>> = vec![None; labels.len()];
        for row in self.rows.iter().filter(|r| r.queue == queue) {
            let Some(i) = interval_of(row).map_err(|m| err(Some(row.line), m))? else {
                let starts = match labels {
                    [first, second, _, _, ..] => {
                        format!("{first}, {second}, ... {}", labels[labels.len() - 1])
                    }
                    few => few.join(", "),
                };
                return Err(err(
                    Some(row.line),
                    format!(
                        "interval_start {:?} is not an interval of the profile; its intervals start at {starts}",
                        row.label
                    ),
                ));
            };
            if let Some(first_line) = seen_at.get(i).copied().flatten() {
                return Err(err(
                    Some(row.line),
                    format!(
                        "duplicate row for queue {queue:?} at {} (first at line {first_line}); give each interval once",
                        row.label
                    ),
                ));
            }
            if let (Some(seen), Some(v), Some(a)) =
                (seen_at.get_mut(i), volume.get_mut(i), aht.get_mut(i))
            {
                *seen = Some(row.line);
                *v = row.volume;
                *a = row.aht_secs;
            }
        }
        if let Some(missing) = seen_at.iter().position(Option::is_none) {
            let count = seen_at.iter().filter(|s| s.is_none()).count();
            let label = labels.get(missing).map_or("", String::as_str);
            return Err(err(
                None,
                format!(
                    "queue {queue:?} has no row for interval {label} ({count} of {} intervals missing); every interval needs exactly one row",
                    labels.len()
                ),
            ));
        }
        Ok((volume, aht))
    }
}

/// Checks the header line; the message says what it must be.
fn header(record: &csv::StringRecord) -> Result<(), String> {
    let fields: Vec<&str> = record.iter().collect();
    if fields == HEADER {
        return Ok(());
    }
    Err(format!(
        "header is {:?}; the first line must be exactly {}",
        fields.join(","),
        HEADER.join(",")
    ))
}

/// Reads one data row at `line`; the message says what is wrong with it.
fn row(record: &csv::StringRecord, line: usize) -> Result<ForecastRow, String> {
    if record.len() != HEADER.len() {
        return Err(format!(
            "row has {} columns; write {} columns: {}",
            record.len(),
            HEADER.len(),
            HEADER.join(",")
        ));
    }
    let field = |i: usize| record.get(i).unwrap_or("");
    let label = field(0).to_string();
    let at = row_time(&label)?;
    let queue = field(1).to_string();
    if queue.is_empty() {
        return Err("queue is empty; name the profile queue".to_string());
    }
    let volume = match field(2).parse::<f64>() {
        Ok(v) if v.is_finite() && v >= 0.0 => v,
        _ => {
            return Err(format!(
                "volume {:?} is not a number >= 0; write expected chats, e.g. 42",
                field(2)
            ));
        }
    };
    let aht_secs = match field(3) {
        "" => None,
        text => match text.parse::<f64>() {
            Ok(v) if (MIN_POSITIVE_SECS..=MAX_DURATION_SECS).contains(&v) => Some(v),
            _ => {
                return Err(format!(
                    "aht_secs {text:?} is not a number of seconds from {MIN_POSITIVE_SECS} to {MAX_DURATION_SECS} (a year); write e.g. 420, or leave it empty to use handle_time.mean"
                ));
            }
        },
    };
    Ok(ForecastRow {
        line,
        label,
        at,
        queue,
        volume,
        aht_secs,
    })
}

/// A clock time, a local date-time, or a date-time with an offset (or `Z`).
fn row_time(text: &str) -> Result<RowTime, String> {
    if !text.contains('T') {
        let clock = parse_clock(text).map_err(|m| {
            format!(
                "interval_start {m}, or a date-time such as 2026-12-07T08:30 for a dated profile"
            )
        })?;
        return Ok(RowTime::Clock(clock.round() as u64));
    }
    if let Ok(instant) = text.parse::<Timestamp>() {
        return Ok(RowTime::Instant(instant));
    }
    parse_local(text).map(RowTime::Local).map_err(|_| {
        format!(
            "interval_start {text:?} is not a date-time; write 2026-12-07T08:30 (local time in \
                 the profile's timezone), or with its offset 2026-10-25T02:30+01:00"
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Finds a clock-time row among intervals starting at `clocks`.
    fn by_clock(clocks: &[u64]) -> impl Fn(&ForecastRow) -> Result<Option<usize>, String> + '_ {
        |row| match row.at {
            RowTime::Clock(c) => Ok(clocks.iter().position(|&x| x == c)),
            _ => Err("not a clock time".to_string()),
        }
    }

    #[test]
    fn date_times_parse_with_and_without_offset() {
        let f = Forecast::parse(
            "interval_start,queue,volume,aht_secs\n2026-12-07T08:30,q,1,\n2026-10-25T02:30+01:00,q,2,\n",
            "f.csv",
        )
        .unwrap();
        assert!(matches!(f.rows[0].at, RowTime::Local(_)));
        let RowTime::Instant(t) = f.rows[1].at else {
            panic!("{:?}", f.rows[1].at)
        };
        assert_eq!(t.to_string(), "2026-10-25T01:30:00Z");
        let e = Forecast::parse(
            "interval_start,queue,volume,aht_secs\n2026-12-07X,q,1,\n",
            "f.csv",
        )
        .unwrap_err();
        assert!(e.to_string().contains("f.csv:2: interval_start"), "{e}");
    }

    const GOOD: &str =
        "interval_start,queue,volume,aht_secs\n08:00,orders,10,400\n08:30,orders,12,\n";

    #[test]
    fn parses_rows_with_lines() {
        let f = Forecast::parse(GOOD, "f.csv").unwrap();
        assert_eq!(f.rows.len(), 2);
        assert_eq!(f.rows[0].line, 2);
        assert_eq!(f.rows[0].at, RowTime::Clock(28_800));
        assert_eq!(f.rows[0].aht_secs, Some(400.0));
        assert_eq!(f.rows[1].aht_secs, None);
        let (v, a) = f
            .series(
                "orders",
                by_clock(&[28_800, 30_600]),
                &["08:00".into(), "08:30".into()],
            )
            .unwrap();
        assert_eq!(v, vec![10.0, 12.0]);
        assert_eq!(a, vec![Some(400.0), None]);
    }

    #[test]
    fn missing_interval_is_named() {
        let f = Forecast::parse(GOOD, "f.csv").unwrap();
        let labels = [
            "08:00".to_string(),
            "08:30".to_string(),
            "09:00".to_string(),
        ];
        let e = f
            .series("orders", by_clock(&[28_800, 30_600, 32_400]), &labels)
            .unwrap_err();
        assert!(e.to_string().contains("no row for interval 09:00"), "{e}");
    }
}
