//! `[[shifts]]`: shift rules for `chatcap roster`, each checked on its own (start window,
//! step, lengths and breaks on the interval grid, weekly limits that can be met) and against the
//! horizon (every open interval of a group serving a queue can be covered by some rule).

use toml::Value;

use super::super::locate::{FieldPath, Issue};
use super::super::raw::RawShift;
use super::super::shifts::{BreakRule, ShiftRule};
use super::super::{AgentGroupSpec, DAY_SECS, parse_clock};
use super::dated::When;
use super::horizon::Horizon;
use super::values::{positive_duration, shown, unique_names};
use crate::profile::duration::format_duration;

/// What the rules are checked against.
pub(super) struct ShiftContext<'a> {
    pub horizon: &'a Horizon,
    pub when: &'a When,
    pub interval_secs: f64,
    pub agents: &'a [AgentGroupSpec],
    /// Per group, whether it serves some queue (so it needs cover in open intervals).
    pub serving: Vec<bool>,
}

/// Every rule, then the check that each serving group's open intervals can be covered.
pub(super) fn shifts(raw: &[RawShift], cx: &ShiftContext<'_>) -> Result<Vec<ShiftRule>, Issue> {
    if raw.is_empty() {
        return Ok(Vec::new());
    }
    let path = FieldPath::root().key("shifts");
    unique_names(
        raw.iter().map(|s| s.name.as_deref()),
        &path,
        "name = \"day\"",
    )?;
    let rules = raw
        .iter()
        .enumerate()
        .map(|(i, r)| rule(r, &path.index(i), cx))
        .collect::<Result<Vec<_>, Issue>>()?;
    check_coverage(&rules, cx, &path)?;
    Ok(rules)
}

fn rule(raw: &RawShift, path: &FieldPath, cx: &ShiftContext<'_>) -> Result<ShiftRule, Issue> {
    let groups = groups(raw.groups.as_deref(), &path.key("groups"), cx.agents)?;
    let (start_from_secs, start_to_secs) = start_window(raw.start.as_deref(), path, cx)?;
    let step_secs = match &raw.step {
        None => cx.interval_secs,
        Some(v) => whole_intervals(v, &path.key("step"), cx.interval_secs)?,
    };
    let lengths_secs = lengths(raw.length.as_ref(), &path.key("length"), cx.interval_secs)?;
    let shortest = lengths_secs.iter().copied().fold(f64::INFINITY, f64::min);
    let breaks = breaks(raw.breaks.as_deref(), &path.key("breaks"), shortest)?;
    let (days_per_week, consecutive_days_off) = week_limits(raw, path, cx)?;
    let max_starts_per_interval = match raw.max_starts_per_interval {
        None => None,
        Some(n) if n >= 1 && n <= i64::from(u32::MAX) => Some(n as u32),
        Some(n) => {
            return Err(Issue::new(
                &path.key("max_starts_per_interval"),
                format!("= {n} is not a number of shifts from 1; write e.g. 10 or leave it out"),
            ));
        }
    };
    Ok(ShiftRule {
        name: raw.name.clone().unwrap_or_default(),
        groups,
        start_from_secs,
        start_to_secs,
        step_secs,
        lengths_secs,
        breaks,
        days_per_week,
        consecutive_days_off,
        max_starts_per_interval,
    })
}

/// The groups named (default: every group).
fn groups(
    raw: Option<&[String]>,
    path: &FieldPath,
    agents: &[AgentGroupSpec],
) -> Result<Vec<usize>, Issue> {
    let Some(names) = raw else {
        return Ok((0..agents.len()).collect());
    };
    let known: Vec<&str> = agents.iter().map(|a| a.name.as_str()).collect();
    if names.is_empty() {
        return Err(Issue::new(
            path,
            format!(
                "= [] is empty; name groups among {}, or leave it out for all",
                known.join(", ")
            ),
        ));
    }
    let mut out = Vec::with_capacity(names.len());
    for (j, name) in names.iter().enumerate() {
        match known.iter().position(|k| k == name) {
            Some(g) if !out.contains(&g) => out.push(g),
            Some(_) => {
                return Err(Issue::new(
                    &path.index(j),
                    format!("= {name:?} is named twice; name each group once"),
                ));
            }
            None => {
                return Err(Issue::new(
                    &path.index(j),
                    format!(
                        "= {name:?} is no agent group; use one of {}",
                        known.join(", ")
                    ),
                ));
            }
        }
    }
    Ok(out)
}

/// `start = "06:00-14:00"` (or one time, `"09:00"`), on the interval grid.
fn start_window(
    raw: Option<&str>,
    path: &FieldPath,
    cx: &ShiftContext<'_>,
) -> Result<(f64, f64), Issue> {
    let path = path.key("start");
    let text = raw.ok_or_else(|| {
        Issue::new(
            &path,
            "is missing; add a window of start times, e.g. start = \"06:00-14:00\"",
        )
    })?;
    let bad = |why: String| {
        Issue::new(
            &path,
            format!(
                "= {text:?} {why}; write \"06:00-14:00\" (earliest-latest start, local time) or one time \"09:00\""
            ),
        )
    };
    let (from, to) = text.split_once('-').unwrap_or((text, text));
    let (Ok(from), Ok(to)) = (parse_clock(from.trim()), parse_clock(to.trim())) else {
        return Err(bad("does not hold clock times HH:MM".into()));
    };
    if to < from {
        return Err(bad(
            "ends before it starts (a later start belongs in another rule)".into(),
        ));
    }
    let origin = cx.when.start_secs.rem_euclid(cx.interval_secs);
    for t in [from, to] {
        let off = (t - origin).rem_euclid(cx.interval_secs);
        if off > 1e-6 && cx.interval_secs - off > 1e-6 {
            return Err(bad(format!(
                "is off the profile's {} interval grid",
                format_duration(cx.interval_secs)
            )));
        }
    }
    Ok((from, to))
}

/// A duration in whole intervals.
fn whole_intervals(value: &Value, path: &FieldPath, interval: f64) -> Result<f64, Issue> {
    let secs = positive_duration(value, path, "write e.g. \"30m\"")?;
    let n = secs / interval;
    if (n - n.round()).abs() > 1e-9 {
        return Err(Issue::new(
            path,
            format!(
                "= {} is not whole intervals of {}; write e.g. {:?}",
                shown(value),
                format_duration(interval),
                format_duration(interval * n.round().max(1.0))
            ),
        ));
    }
    Ok(secs)
}

/// `length = "8h"` or `["8h", "6h"]`: whole intervals, at most a day.
fn lengths(raw: Option<&Value>, path: &FieldPath, interval: f64) -> Result<Vec<f64>, Issue> {
    let raw = raw.ok_or_else(|| {
        Issue::new(
            path,
            "is missing; add length = \"8h\" or a list such as [\"8h\", \"6h\"]",
        )
    })?;
    let items: Vec<(FieldPath, &Value)> = match raw {
        Value::Array(items) if items.is_empty() => {
            return Err(Issue::new(
                path,
                "= [] is empty; give at least one length, e.g. [\"8h\"]",
            ));
        }
        Value::Array(items) => items
            .iter()
            .enumerate()
            .map(|(j, v)| (path.index(j), v))
            .collect(),
        one => vec![(path.clone(), one)],
    };
    let mut out = Vec::with_capacity(items.len());
    for (at, v) in items {
        let secs = whole_intervals(v, &at, interval)?;
        if secs > DAY_SECS {
            return Err(Issue::new(
                &at,
                format!(
                    "= {} is longer than a day; a shift lasts at most \"24h\"",
                    shown(v)
                ),
            ));
        }
        out.push(secs);
    }
    Ok(out)
}

/// `breaks = [{ length = "30m", after = "3h-5h", paid = false }, ...]`: each within the
/// shortest length, windows apart from one another.
fn breaks(raw: Option<&[Value]>, path: &FieldPath, shortest: f64) -> Result<Vec<BreakRule>, Issue> {
    let mut out: Vec<BreakRule> = Vec::new();
    for (j, v) in raw.unwrap_or_default().iter().enumerate() {
        let at = path.index(j);
        let table = v.as_table().ok_or_else(|| Issue::new(&at, format!("= {v} is not a break; write {{ length = \"30m\", after = \"3h-5h\", paid = false }}")))?;
        if let Some(key) = table
            .keys()
            .find(|k| !["length", "after", "paid"].contains(&k.as_str()))
        {
            return Err(Issue::new(
                &at.key(key),
                "is not a break key; use length, after and paid",
            ));
        }
        let length = table
            .get("length")
            .ok_or_else(|| Issue::new(&at.key("length"), "is missing; add length = \"30m\""))?;
        let length_secs = positive_duration(length, &at.key("length"), "write e.g. \"15m\"")?;
        let (after_from_secs, after_to_secs) = after_window(table.get("after"), &at.key("after"))?;
        let paid = match table.get("paid") {
            None => false,
            Some(Value::Boolean(b)) => *b,
            Some(other) => {
                return Err(Issue::new(
                    &at.key("paid"),
                    format!("= {other} is not true or false"),
                ));
            }
        };
        if after_to_secs + length_secs > shortest {
            return Err(Issue::new(
                &at,
                format!(
                    "runs past the end of the shortest shift ({}): the latest break ends {} after the start; move the window earlier or shorten it",
                    format_duration(shortest),
                    format_duration(after_to_secs + length_secs)
                ),
            ));
        }
        let b = BreakRule {
            length_secs,
            after_from_secs,
            after_to_secs,
            paid,
        };
        if let Some(prev) = out.iter().find(|p| {
            p.after_from_secs < b.after_to_secs + b.length_secs
                && b.after_from_secs < p.after_to_secs + p.length_secs
        }) {
            return Err(Issue::new(
                &at.key("after"),
                format!(
                    "overlaps the window of an earlier break ({}-{} after the start, {} long); give each break its own window",
                    format_duration(prev.after_from_secs),
                    format_duration(prev.after_to_secs),
                    format_duration(prev.length_secs)
                ),
            ));
        }
        out.push(b);
    }
    out.sort_by(|a, b| a.after_from_secs.total_cmp(&b.after_from_secs));
    Ok(out)
}

/// `after = "3h-5h"` (or one offset, `"4h"`): the window of the break's start after the
/// shift's start.
fn after_window(raw: Option<&Value>, path: &FieldPath) -> Result<(f64, f64), Issue> {
    let raw = raw.ok_or_else(|| {
        Issue::new(
            path,
            "is missing; add after = \"3h-5h\" (the window of its start after the shift starts)",
        )
    })?;
    let bad = || {
        Issue::new(
            path,
            format!(
                "= {raw} is not a window after the start; write \"3h-5h\" or one offset \"4h\""
            ),
        )
    };
    let text = raw.as_str().ok_or_else(bad)?;
    let (from, to) = text.split_once('-').unwrap_or((text, text));
    let read = |t: &str| crate::profile::duration::parse_duration(t.trim()).map_err(|_| bad());
    let (from, to) = (read(from)?, read(to)?);
    if to < from {
        return Err(Issue::new(
            path,
            format!(
                "= {raw} ends before it starts; write the earliest then the latest start, e.g. \"3h-5h\""
            ),
        ));
    }
    Ok((from, to))
}

/// `days_per_week` (1..=7) and `consecutive_days_off` (with it, fitting in the week), on a
/// dated horizon of at least a week.
fn week_limits(
    raw: &RawShift,
    path: &FieldPath,
    cx: &ShiftContext<'_>,
) -> Result<(Option<u32>, Option<u32>), Issue> {
    let days = match raw.days_per_week {
        None => None,
        Some(n) if (1..=7).contains(&n) => Some(n as u32),
        Some(n) => {
            return Err(Issue::new(
                &path.key("days_per_week"),
                format!("= {n} is out of range; use 1 to 7 days"),
            ));
        }
    };
    let horizon_days = cx.horizon.intervals as f64 * cx.interval_secs / DAY_SECS;
    if days.is_some() && (!cx.when.calendar.dated || horizon_days < 6.9) {
        return Err(Issue::new(
            &path.key("days_per_week"),
            "needs a dated horizon of at least a week; give start = \"2026-12-07T00:00\" and days = 7, or leave it out",
        ));
    }
    let off = match (raw.consecutive_days_off, days) {
        (None, _) => None,
        (Some(_), None) => {
            return Err(Issue::new(
                &path.key("consecutive_days_off"),
                "needs days_per_week; add days_per_week = 5, or leave it out",
            ));
        }
        (Some(n), Some(d)) if n >= 1 && n + i64::from(d) <= 7 => Some(n as u32),
        (Some(n), Some(d)) => {
            return Err(Issue::new(
                &path.key("consecutive_days_off"),
                format!(
                    "= {n} cannot be met with days_per_week = {d}: a week holds {} days off; lower one of them",
                    7 - d
                ),
            ));
        }
    };
    Ok((days, off))
}

/// Every open interval of a group that serves a queue falls within some rule's reach.
fn check_coverage(
    rules: &[ShiftRule],
    cx: &ShiftContext<'_>,
    path: &FieldPath,
) -> Result<(), Issue> {
    for (g, group) in cx.agents.iter().enumerate().filter(|(g, _)| cx.serving[*g]) {
        let own: Vec<&ShiftRule> = rules.iter().filter(|r| r.groups.contains(&g)).collect();
        for i in (0..cx.horizon.intervals).filter(|&i| cx.horizon.open[i]) {
            let clock = if cx.when.calendar.dated {
                let t = cx.when.calendar.zoned(i as f64 * cx.interval_secs).time();
                f64::from(t.hour()) * 3600.0 + f64::from(t.minute()) * 60.0 + f64::from(t.second())
            } else {
                (cx.when.start_secs + i as f64 * cx.interval_secs).rem_euclid(DAY_SECS)
            };
            if !own.iter().any(|r| r.can_cover(clock)) {
                return Err(Issue::new(
                    path,
                    format!(
                        "leave group {:?} without a shift able to cover its open interval {}; add a rule for the group or widen a start window or length",
                        group.name, cx.horizon.labels[i]
                    ),
                ));
            }
        }
    }
    Ok(())
}
