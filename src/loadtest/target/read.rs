//! Reading answers by JSON pointer: texts, numbers, times in the target's format, the items of
//! a poll, and whether an item matches.

use std::fmt;

use serde_json::Value;

use super::{Match, TimeFormat};

/// A JSON pointer (RFC 6901), split into its tokens once, so that following it allocates
/// nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Pointer {
    text: String,
    tokens: Vec<String>,
}

impl Pointer {
    /// The pointer `text` (`""`: the whole document; otherwise it starts with `/`).
    pub(crate) fn new(text: &str) -> Pointer {
        let tokens = match text.strip_prefix('/') {
            Some(rest) => rest
                .split('/')
                .map(|t| t.replace("~1", "/").replace("~0", "~"))
                .collect(),
            None => Vec::new(),
        };
        Pointer {
            text: text.to_string(),
            tokens,
        }
    }

    /// As written.
    pub(crate) fn as_str(&self) -> &str {
        &self.text
    }

    /// Its tokens, unescaped.
    pub(crate) fn tokens(&self) -> &[String] {
        &self.tokens
    }

    /// The value it points to in `value`.
    pub(crate) fn get<'v>(&self, value: &'v Value) -> Option<&'v Value> {
        self.tokens.iter().try_fold(value, |v, token| match v {
            Value::Object(map) => map.get(token),
            Value::Array(items) => items.get(array_index(token)?),
            _ => None,
        })
    }
}

/// An array index token: digits, no leading zero (RFC 6901).
pub(super) fn array_index(token: &str) -> Option<usize> {
    let digits = !token.is_empty() && token.bytes().all(|b| b.is_ascii_digit());
    if !digits || (token.len() > 1 && token.starts_with('0')) {
        return None;
    }
    token.parse().ok()
}

impl fmt::Display for Pointer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// The value at `pointer` (`""`: the whole answer), if it is there and not null.
pub(crate) fn at<'v>(value: &'v Value, pointer: &Pointer) -> Option<&'v Value> {
    pointer.get(value).filter(|v| !v.is_null())
}

/// A string as it is, a number or boolean as written.
pub(crate) fn text(value: &Value, pointer: &Pointer) -> Option<String> {
    match at(value, pointer)? {
        Value::String(s) => Some(s.clone()),
        v @ (Value::Number(_) | Value::Bool(_)) => Some(v.to_string()),
        _ => None,
    }
}

/// A number, or a string holding one.
pub(crate) fn number(value: &Value, pointer: &Pointer) -> Option<f64> {
    match at(value, pointer)? {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// A count: a non-negative whole number.
pub(crate) fn count(value: &Value, pointer: &Pointer) -> Option<u64> {
    at(value, pointer)?.as_u64()
}

/// A time in seconds since the Unix epoch, read in `format`.
pub(crate) fn time(value: &Value, pointer: &Pointer, format: TimeFormat) -> Option<f64> {
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
pub(crate) fn items<'v>(value: &'v Value, pointer: &Pointer) -> &'v [Value] {
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
        assert_eq!(text(&v, &Pointer::new("/id")).as_deref(), Some("7"));
        assert_eq!(text(&v, &Pointer::new("/s")).as_deref(), Some("x"));
        assert_eq!(text(&v, &Pointer::new("/n")), None);
        assert_eq!(number(&v, &Pointer::new("/ms")), Some(1500.0));
        assert_eq!(
            time(&v, &Pointer::new("/ms"), TimeFormat::UnixMs),
            Some(1.5)
        );
        assert_eq!(
            time(&v, &Pointer::new("/t"), TimeFormat::Rfc3339),
            Some(1_796_378_400.0)
        );
        let m = Match {
            pointer: Pointer::new("/k"),
            value: json!(1),
        };
        let hits = items(&v, &Pointer::new("/list"))
            .iter()
            .filter(|i| matches(i, &m))
            .count();
        assert_eq!(hits, 2);
        assert!(items(&v, &Pointer::new("/s")).is_empty());
        assert_eq!(items(&json!([1, 2]), &Pointer::new("")).len(), 2);
        // Escapes and array indices as RFC 6901 writes them.
        let doc = json!({"a/b": {"m~n": [10, 20]}});
        assert_eq!(Pointer::new("/a~1b/m~0n/1").get(&doc), Some(&json!(20)));
        assert_eq!(Pointer::new("/a~1b/m~0n/01").get(&doc), None);
        assert_eq!(Pointer::new("/a~1b/m~0n/+1").get(&doc), None);
        assert_eq!(Pointer::new("").get(&doc), Some(&doc));
    }
}
