//! Readers for the value kinds every section shares (durations, shares, names) and the wording
//! of numbers in messages, so that each section's errors read alike.

use std::collections::HashSet;

use toml::Value;

use super::super::duration::parse_duration;
use super::super::locate::{FieldPath, Issue};
use super::super::{MAX_DURATION_SECS, MIN_POSITIVE_SECS};
use crate::routing::{SECOND, Time};

/// How to write a duration that must be above zero.
pub(super) const DURATION_EXAMPLE: &str = "write e.g. \"30s\" or \"30m\"";

/// A duration given as text or a number of seconds, >= 0.
pub(super) fn duration(value: &Value, path: &FieldPath) -> Result<f64, Issue> {
    let parsed = match value {
        Value::String(s) => parse_duration(s),
        Value::Integer(n) => parse_duration(&n.to_string()),
        Value::Float(f) if f.is_finite() && *f >= 0.0 => Ok(*f),
        _ => Err(
            "write a duration like \"45s\", \"7m\", \"1h30m\", \"250ms\" or a number of seconds"
                .to_string(),
        ),
    };
    let secs = parsed.map_err(|m| {
        let hint = m.split_once("; ").map_or(m.as_str(), |(_, hint)| hint);
        Issue::new(path, format!("= {value} is not a duration; {hint}"))
    })?;
    if secs > MAX_DURATION_SECS {
        return Err(Issue::new(
            path,
            format!(
                "= {} is longer than a year; durations go up to \"8760h\"",
                shown(value)
            ),
        ));
    }
    Ok(secs)
}

/// A duration that must be above zero (at least [`MIN_POSITIVE_SECS`]); `fix` ends the error.
pub(super) fn positive_duration(value: &Value, path: &FieldPath, fix: &str) -> Result<f64, Issue> {
    let secs = duration(value, path)?;
    if secs < MIN_POSITIVE_SECS {
        return Err(Issue::new(
            path,
            format!("= {} must be at least 1ms; {fix}", shown(value)),
        ));
    }
    Ok(secs)
}

/// A profile value as the user wrote it, with huge and tiny floats in exponent form.
pub(super) fn shown(value: &Value) -> String {
    match value {
        Value::Float(f) => number_text(*f),
        other => other.to_string(),
    }
}

/// A number for a message: plain when of an everyday size, `1e300` rather than 301 digits.
pub(super) fn number_text(v: f64) -> String {
    if v != 0.0 && !(1e-3..1e6).contains(&v.abs()) {
        format!("{v:e}")
    } else {
        format!("{v}")
    }
}

/// A share in [0, 1].
pub(super) fn share(v: f64, path: &FieldPath) -> Result<f64, Issue> {
    if (0.0..=1.0).contains(&v) {
        Ok(v)
    } else {
        Err(Issue::new(
            path,
            format!("= {v} is outside [0, 1]; use a share, e.g. 0.25 for 25%"),
        ))
    }
}

/// A required share of a block: `missing` is the fix when it is absent.
pub(super) fn required_share(
    value: Option<f64>,
    path: &FieldPath,
    missing: &str,
) -> Result<f64, Issue> {
    share(value.ok_or_else(|| Issue::new(path, missing))?, path)
}

/// A TOML number as `f64`.
pub(super) fn number(value: &Value) -> Option<f64> {
    match value {
        Value::Integer(n) => Some(*n as f64),
        Value::Float(f) => Some(*f),
        _ => None,
    }
}

/// Seconds on the routing core's clock.
pub(super) fn to_time(secs: f64) -> Time {
    (secs * SECOND as f64).round() as Time
}

/// A name that is present and not blank.
pub(super) fn non_empty_name(
    name: Option<String>,
    path: &FieldPath,
    example: &str,
) -> Result<String, Issue> {
    match name {
        None => Err(Issue::new(path, format!("is missing; add {example}"))),
        Some(n) if n.trim().is_empty() => Err(Issue::new(
            path,
            format!("= \"\" is empty; write e.g. {example}"),
        )),
        Some(n) => Ok(n),
    }
}

/// Checks that every entry has a non-empty name, unique in the list.
pub(super) fn unique_names<'a>(
    names: impl Iterator<Item = Option<&'a str>>,
    list_path: &FieldPath,
    example: &str,
) -> Result<Vec<String>, Issue> {
    let mut seen: HashSet<String> = HashSet::new();
    let mut out = Vec::new();
    for (i, name) in names.enumerate() {
        let path = list_path.index(i).key("name");
        let name = non_empty_name(name.map(str::to_string), &path, example)?;
        if !seen.insert(name.clone()) {
            return Err(Issue::new(
                &path,
                format!("= {name:?} is used twice; give each entry a unique name"),
            ));
        }
        out.push(name);
    }
    Ok(out)
}
