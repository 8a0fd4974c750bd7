//! Where the horizon sits in calendar time: `start` (a clock time, or a local date-time that
//! makes the horizon dated), `timezone`, `days` and `[hours]`. The keys that only make sense on
//! a calendar are refused on an undated horizon with the fix, rather than read against the
//! arbitrary day an undated horizon sits on.

use super::super::calendar::{Calendar, zone_by_name};
use super::super::locate::{FieldPath, Issue};
use super::super::raw::{RawHours, RawProfile};
use super::super::{DAY_SECS, parse_clock};

/// Most days a horizon may span.
const MAX_DAYS: i64 = 366;

/// The horizon's start and calendar as the profile gives them.
pub(super) struct When {
    /// Clock time of the first interval in its zone, seconds after midnight.
    pub(super) start_secs: f64,
    /// The calendar (undated: 1970-01-01 UTC).
    pub(super) calendar: Calendar,
    /// `days = N`, when given.
    pub(super) days: Option<u32>,
    /// Opening hours per weekday, Monday first; `None` without `[hours]`.
    pub(super) hours: Option<WeekHours>,
}

/// Per weekday (Monday first), the open span in seconds after local midnight; `None` is closed.
pub(super) type WeekHours = [Option<(f64, f64)>; 7];

/// Reads `start`, `timezone`, `days` and `[hours]`.
pub(super) fn when(raw: &RawProfile) -> Result<When, Issue> {
    let root = FieldPath::root();
    let start = raw.start.as_deref().map(str::trim);
    let dated_start = start.filter(|s| s.contains('T') || s.contains('-'));
    let Some(local) = dated_start else {
        let start_secs = match start {
            None => 0.0,
            Some(text) => parse_clock(text).map_err(|m| {
                Issue::new(
                    &root.key("start"),
                    format!("= {m}, or a date-time \"2026-12-07T08:00\" for a dated horizon"),
                )
            })?,
        };
        refuse_undated(raw, start)?;
        return Ok(When {
            start_secs,
            calendar: Calendar::undated(start_secs),
            days: None,
            hours: None,
        });
    };
    let zone_name = raw.timezone.as_deref().unwrap_or("UTC").trim();
    zone_by_name(zone_name).map_err(|m| Issue::new(&root.key("timezone"), format!("= {m}")))?;
    let calendar = Calendar::dated(zone_name, local)
        .map_err(|m| Issue::new(&root.key("start"), format!("= {m}")))?;
    let time = calendar.zoned(0.0).time();
    let start_secs = f64::from(time.hour()) * 3600.0
        + f64::from(time.minute()) * 60.0
        + f64::from(time.second());
    Ok(When {
        start_secs,
        calendar,
        days: days(raw)?,
        hours: raw.hours.as_ref().map(week_hours).transpose()?,
    })
}

/// `timezone`, `days` and `[hours]` need a dated start.
fn refuse_undated(raw: &RawProfile, start: Option<&str>) -> Result<(), Issue> {
    let given = [
        ("timezone", raw.timezone.is_some()),
        ("days", raw.days.is_some()),
        ("hours", raw.hours.is_some()),
    ];
    let Some((key, _)) = given.iter().find(|(_, set)| *set) else {
        return Ok(());
    };
    let now = start.map_or("no start".to_string(), |s| format!("start = {s:?}"));
    Err(Issue::new(
        &FieldPath::root().key(key),
        format!(
            "needs a dated horizon but the profile has {now}; write start = \"2026-12-07T00:00\" \
             (a local date-time), or remove {key}"
        ),
    ))
}

/// `days = N`: 1 to [`MAX_DAYS`], and not beside `intervals`.
fn days(raw: &RawProfile) -> Result<Option<u32>, Issue> {
    let Some(n) = raw.days else { return Ok(None) };
    let path = FieldPath::root().key("days");
    if raw.intervals.is_some() {
        return Err(Issue::new(
            &path,
            "and intervals are both given; keep one of them (days = 7 counts the intervals \
             from the calendar, days of 23 or 25 hours included)",
        ));
    }
    if !(1..=MAX_DAYS).contains(&n) {
        return Err(Issue::new(
            &path,
            format!("= {n} is out of range; use 1 to {MAX_DAYS} days"),
        ));
    }
    Ok(Some(n as u32))
}

/// Reads `[hours]`: a weekday not named takes `default`, else is open all day.
fn week_hours(raw: &RawHours) -> Result<WeekHours, Issue> {
    let path = FieldPath::root().key("hours");
    let all_day = Some((0.0, DAY_SECS));
    let default = match &raw.default {
        Some(text) => span(text, &path.key("default"))?,
        None => all_day,
    };
    let days = [
        ("mon", &raw.mon),
        ("tue", &raw.tue),
        ("wed", &raw.wed),
        ("thu", &raw.thu),
        ("fri", &raw.fri),
        ("sat", &raw.sat),
        ("sun", &raw.sun),
    ];
    let mut week = [default; 7];
    for (slot, (key, text)) in week.iter_mut().zip(days) {
        if let Some(text) = text {
            *slot = span(text, &path.key(key))?;
        }
    }
    Ok(week)
}

/// `"08:00-22:00"` (end up to `"24:00"`, after the start) or `"closed"`.
fn span(text: &str, path: &FieldPath) -> Result<Option<(f64, f64)>, Issue> {
    let text = text.trim();
    if text.eq_ignore_ascii_case("closed") {
        return Ok(None);
    }
    let bad = |why: &str| {
        Issue::new(
            path,
            format!(
                "= {text:?} {why}; write \"08:00-22:00\" (from-to in local time, to up to \
                 \"24:00\"), \"00:00-24:00\" for all day, or \"closed\""
            ),
        )
    };
    let (from, to) = text
        .split_once('-')
        .ok_or_else(|| bad("is not a range of opening hours"))?;
    let clock = |t: &str| match t.trim() {
        "24:00" => Ok(DAY_SECS),
        t => parse_clock(t),
    };
    let (Ok(from), Ok(to)) = (clock(from), clock(to)) else {
        return Err(bad("does not hold two clock times HH:MM"));
    };
    if to <= from {
        return Err(bad(
            "ends before it starts (hours past midnight go on the next day's line)",
        ));
    }
    Ok(Some((from, to)))
}

/// Per interval, whether its local start time falls within its weekday's hours.
pub(super) fn open_flags(when: &When, intervals: usize, interval_secs: f64) -> Vec<bool> {
    let Some(week) = &when.hours else {
        return vec![true; intervals];
    };
    (0..intervals)
        .map(|i| {
            let local = when.calendar.zoned(i as f64 * interval_secs);
            let day = local.weekday().to_monday_zero_offset() as usize;
            let time = local.time();
            let secs = f64::from(time.hour()) * 3600.0
                + f64::from(time.minute()) * 60.0
                + f64::from(time.second());
            week[day].is_some_and(|(from, to)| (from..to).contains(&secs))
        })
        .collect()
}
