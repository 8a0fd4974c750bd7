//! Durations as planners write them: `"45s"`, `"7m"`, `"1h30m"`, `"250ms"`, or a plain number
//! of seconds. Parsed values are seconds as `f64`.
//!
//! Units and their spellings are humantime's up to a week (so `"1h 30m"`, `"2min"` and `"1d"`
//! work too; its month `"M"` is too close to a minute's `"m"` to take);
//! chatcap splits the text into `<number><unit>` parts and multiplies each number by its unit's
//! length, which keeps what humantime alone does not take: a bare number is seconds (`"90"`,
//! `"1.5"`, `"1e3"`), and a fraction may be of any unit (`"0.001h"` is 3.6 s, where humantime
//! takes only fractions that come out in whole seconds) and may drop its leading or trailing
//! zero (`".5s"`, `"1.s"`). The formatter stays chatcap's own: humantime writes `"1h 30m"` and
//! `"2s 500ms"` where reports show `"1h30m"` and `"2.5s"`.

/// What to write instead of a bad duration.
const HINT: &str =
    "write a duration like \"45s\", \"7m\", \"1h30m\", \"250ms\" or a number of seconds";

/// Parses a duration into seconds. Accepts a number of seconds (`"90"`, `"1.5"`) or one or more
/// `<number><unit>` parts (`"1h30m"`, `"2m30s"`, `"250ms"`, `"1.5h"`) with humantime's units
/// (`h`, `m`/`min`, `s`, `ms`, `d`, ...). Negative, empty and non-finite values are rejected
/// with a message that shows the right form.
pub fn parse_duration(text: &str) -> Result<f64, String> {
    let s = text.trim();
    if s.is_empty() {
        return Err(format!("empty duration; {HINT}"));
    }
    let secs = match s.parse::<f64>() {
        Ok(secs) => secs,
        Err(_) => parts(s).try_fold(0.0, |total, part| {
            part_secs(part, text).map(|secs| total + secs)
        })?,
    };
    if !secs.is_finite() || secs < 0.0 {
        return Err(format!(
            "invalid duration {text:?}: must be a finite value >= 0; {HINT}"
        ));
    }
    Ok(secs)
}

/// `"1h 30m"` or `"1h30m"` as `"1h"`, `"30m"`: a part starts at a number that follows a unit.
fn parts(s: &str) -> impl Iterator<Item = &str> {
    let mut starts = vec![0];
    let mut after_unit = false;
    for (i, c) in s.char_indices() {
        if c.is_ascii_digit() || c == '.' {
            if after_unit {
                starts.push(i);
            }
            after_unit = false;
        } else if !c.is_whitespace() {
            after_unit = true;
        }
    }
    let ends: Vec<usize> = starts.iter().skip(1).copied().chain([s.len()]).collect();
    starts
        .into_iter()
        .zip(ends)
        .map(move |(a, b)| s[a..b].trim())
}

/// One `<number><unit>` part in seconds: the number times the length humantime gives the unit.
fn part_secs(part: &str, text: &str) -> Result<f64, String> {
    let unit_at = part
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c.is_whitespace()))
        .unwrap_or(part.len());
    let (number, unit) = part.split_at(unit_at);
    let value: f64 = number
        .trim()
        .parse()
        .map_err(|_| format!("invalid duration {text:?}; {HINT}"))?;
    if unit.is_empty() {
        return Err(format!(
            "duration {text:?} lacks a unit after {value}; {HINT}"
        ));
    }
    let unit_length = humantime::parse_duration(&format!("1{unit}"))
        .map_err(|_| format!("unknown unit {unit:?} in duration {text:?}; {HINT}"))?;
    // humantime's month is `M`, one key from a minute's `m`: months and years are refused.
    if unit_length > LONGEST_UNIT {
        return Err(format!(
            "unit {unit:?} in duration {text:?} is a month or longer; months and years are not \
             taken, write days instead, e.g. \"30d\""
        ));
    }
    Ok(value * unit_length.as_secs_f64())
}

/// The longest unit taken: a week.
const LONGEST_UNIT: std::time::Duration = std::time::Duration::from_secs(7 * 86_400);

/// Formats seconds compactly for tables and messages: `"30s"`, `"7m"`, `"1h30m"`, `"2.5s"`.
pub fn format_duration(secs: f64) -> String {
    if !secs.is_finite() {
        return format!("{secs}");
    }
    if secs < 1.0 && secs > 0.0 {
        return format!("{}ms", (secs * 1000.0).round());
    }
    if secs.fract().abs() > 1e-9 || secs < 60.0 {
        let rounded = (secs * 100.0).round() / 100.0;
        if secs < 60.0 {
            return format!("{rounded}s");
        }
    }
    let whole = secs.round() as u64;
    let (h, m, s) = (whole / 3600, (whole % 3600) / 60, whole % 60);
    let mut out = String::new();
    if h > 0 {
        out.push_str(&format!("{h}h"));
    }
    if m > 0 {
        out.push_str(&format!("{m}m"));
    }
    if s > 0 || out.is_empty() {
        out.push_str(&format!("{s}s"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_planner_forms() {
        assert_eq!(parse_duration("45s"), Ok(45.0));
        assert_eq!(parse_duration("7m"), Ok(420.0));
        assert_eq!(parse_duration("1h30m"), Ok(5400.0));
        assert_eq!(parse_duration("250ms"), Ok(0.25));
        assert_eq!(parse_duration("90"), Ok(90.0));
        assert_eq!(parse_duration("2m30s"), Ok(150.0));
        assert_eq!(parse_duration(" 1.5 "), Ok(1.5));
        assert_eq!(parse_duration("1min"), Ok(60.0));
        assert_eq!(parse_duration("40.5s"), Ok(40.5));
        assert_eq!(parse_duration("1.5m"), Ok(90.0));
    }

    #[test]
    fn keeps_the_spellings_humantime_lacks() {
        assert_eq!(parse_duration("1e3"), Ok(1000.0));
        assert_eq!(parse_duration(".5s"), Ok(0.5));
        assert_eq!(parse_duration("1.s"), Ok(1.0));
        assert_eq!(parse_duration("1m.5s"), Ok(60.5));
        assert_eq!(
            parse_duration("0.1234567890123456789012s"),
            Ok(0.123_456_789_012_345_68)
        );
    }

    #[test]
    fn rejects_bad_forms() {
        for bad in [
            "", "-5", "5x", "m", "1h30", "NaN", "inf", "-1m", "1.2.3s", "1..5s", ".s", "1e3s",
            "1h0", ".", "5s.", "-5s", "+5s",
        ] {
            assert!(parse_duration(bad).is_err(), "{bad:?} should be rejected");
        }
        let e = parse_duration("5x").unwrap_err();
        assert!(
            e.starts_with("unknown unit \"x\" in duration \"5x\"; write"),
            "{e}"
        );
        let e = parse_duration("1h30").unwrap_err();
        assert!(e.contains("lacks a unit"), "{e}");
        assert_eq!(parse_duration("99999999999999999999h"), Ok(3.6e23));
        for month in ["5M", "1month", "1y"] {
            let e = parse_duration(month).unwrap_err();
            assert!(e.contains("a month or longer"), "{e}");
        }
        assert_eq!(parse_duration("1w"), Ok(604_800.0));
    }

    #[test]
    fn formats_compactly() {
        assert_eq!(format_duration(30.0), "30s");
        assert_eq!(format_duration(420.0), "7m");
        assert_eq!(format_duration(5400.0), "1h30m");
        assert_eq!(format_duration(2.5), "2.5s");
        assert_eq!(format_duration(0.25), "250ms");
        assert_eq!(format_duration(0.0), "0s");
    }
}
