//! Reading answers by JSON pointer: texts, numbers, times in the target's format, the items of
//! a poll, and whether an item matches.

use serde_json::Value;

use super::{Match, TimeFormat};

/// The value at `pointer` (`""`: the whole answer), if it is there and not null.
pub(crate) fn at<'v>(value: &'v Value, pointer: &str) -> Option<&'v Value> {
    value.pointer(pointer).filter(|v| !v.is_null())
}

/// A string as it is, a number or boolean as written.
pub(crate) fn text(value: &Value, pointer: &str) -> Option<String> {
    match at(value, pointer)? {
        Value::String(s) => Some(s.clone()),
        v @ (Value::Number(_) | Value::Bool(_)) => Some(v.to_string()),
        _ => None,
    }
}

/// A number, or a string holding one.
pub(crate) fn number(value: &Value, pointer: &str) -> Option<f64> {
    match at(value, pointer)? {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// A count: a non-negative whole number.
pub(crate) fn count(value: &Value, pointer: &str) -> Option<u64> {
    at(value, pointer)?.as_u64()
}

/// A time in seconds since the Unix epoch, read in `format`.
pub(crate) fn time(value: &Value, pointer: &str, format: TimeFormat) -> Option<f64> {
    match format {
        TimeFormat::Unix => number(value, pointer),
        TimeFormat::UnixMs => number(value, pointer).map(|ms| ms / 1000.0),
        TimeFormat::Rfc3339 => {
            let text = at(value, pointer)?.as_str()?;
            let ts: jiff::Timestamp = text.parse().ok()?;
            Some(ts.as_microsecond() as f64 / 1e6)
        }
    }
}

/// The items at `pointer`, or none when it is not an array.
pub(crate) fn items<'v>(value: &'v Value, pointer: &str) -> &'v [Value] {
    match at(value, pointer) {
        Some(Value::Array(items)) => items,
        _ => &[],
    }
}

/// Whether `item` matches: its value at the pointer equals the expected one, a number and
/// its text counting as equal.
pub(crate) fn matches(item: &Value, m: &Match) -> bool {
    let Some(v) = at(item, &m.pointer) else {
        return false;
    };
    if *v == m.value {
        return true;
    }
    match (v, &m.value) {
        (Value::Number(n), Value::String(s)) | (Value::String(s), Value::Number(n)) => {
            n.to_string() == *s
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn pointers_read_texts_numbers_times_and_items() {
        let v = json!({"id": 7, "s": "x", "t": "2026-12-04T10:00:00Z", "ms": 1500,
            "list": [{"k": 1}, {"k": "1"}, {"k": 2}], "n": null});
        assert_eq!(text(&v, "/id").as_deref(), Some("7"));
        assert_eq!(text(&v, "/s").as_deref(), Some("x"));
        assert_eq!(text(&v, "/n"), None);
        assert_eq!(number(&v, "/ms"), Some(1500.0));
        assert_eq!(time(&v, "/ms", TimeFormat::UnixMs), Some(1.5));
        assert_eq!(time(&v, "/t", TimeFormat::Rfc3339), Some(1_796_378_400.0));
        let m = Match {
            pointer: "/k".into(),
            value: json!(1),
        };
        let hits = items(&v, "/list").iter().filter(|i| matches(i, &m)).count();
        assert_eq!(hits, 2);
        assert!(items(&v, "/s").is_empty());
        assert_eq!(items(&json!([1, 2]), "").len(), 2);
    }
}
