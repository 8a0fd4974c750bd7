//! Durations as planners write them: `"45s"`, `"7m"`, `"1h30m"`, `"250ms"`, or a plain number
//! of seconds. Parsed values are seconds as `f64`.

/// Parses a duration into seconds. Accepts a number of seconds (`"90"`, `"1.5"`) or one or more
/// `<number><unit>` parts with units `h`, `m`, `s`, `ms` (`"1h30m"`, `"2m30s"`, `"250ms"`).
/// Negative, empty and non-finite values are rejected with a message that shows the right form.
pub fn parse_duration(text: &str) -> Result<f64, String> {
    let s = text.trim();
    let hint = "write a duration like \"45s\", \"7m\", \"1h30m\", \"250ms\" or a number of seconds";
    if s.is_empty() {
        return Err(format!("empty duration; {hint}"));
    }
    if let Ok(secs) = s.parse::<f64>() {
        return check_seconds(secs, text, hint);
    }
    let mut total = 0.0;
    let mut rest = s;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        if digits == 0 {
            return Err(format!("invalid duration {text:?}; {hint}"));
        }
        let value: f64 = rest[..digits]
            .parse()
            .map_err(|_| format!("invalid duration {text:?}; {hint}"))?;
        rest = &rest[digits..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let factor = match &rest[..unit_len] {
            "h" => 3600.0,
            "m" | "min" => 60.0,
            "s" => 1.0,
            "ms" => 0.001,
            "" => {
                return Err(format!(
                    "duration {text:?} lacks a unit after {value}; {hint}"
                ));
            }
            unit => {
                return Err(format!(
                    "unknown unit {unit:?} in duration {text:?}; {hint}"
                ));
            }
        };
        total += value * factor;
        rest = &rest[unit_len..];
    }
    check_seconds(total, text, hint)
}

fn check_seconds(secs: f64, text: &str, hint: &str) -> Result<f64, String> {
    if !secs.is_finite() || secs < 0.0 {
        return Err(format!(
            "invalid duration {text:?}: must be a finite value >= 0; {hint}"
        ));
    }
    Ok(secs)
}

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
    }

    #[test]
    fn rejects_bad_forms() {
        for bad in ["", "-5", "5x", "m", "1h30", "NaN", "inf", "-1m", "1.2.3s"] {
            assert!(parse_duration(bad).is_err(), "{bad:?} should be rejected");
        }
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
