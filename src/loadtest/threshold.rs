//! `--threshold` rules such as `wait_p90<30s`, `service_level>0.8`, `route_p99<5ms`: parsed
//! up front (a bad rule fails before any load is sent), evaluated on the finished summary.
//!
//! Waits, FRT and AHT are profile seconds, comparable with the profile's targets; route latency,
//! HTTP latency and arrival lag are wall time, as the backend and the generator see them.

use serde::Serialize;

use crate::profile::duration::parse_duration;

/// What a metric measures, which fixes how its limit is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// A share in 0..1 (`0.8` or `80%`).
    Share,
    /// Profile seconds (`30s`, `2m`, a bare number is seconds).
    ProfileTime,
    /// Wall time (`5ms`, `0.2s`, a bare number is seconds).
    WallTime,
    /// A count or a rate (a plain number).
    Number,
}

/// Every metric a threshold may name, with its kind and meaning.
pub(crate) const METRICS: [(&str, &str); 24] = [
    (
        "service_level",
        "share answered within the threshold (0..1)",
    ),
    (
        "service_level_answered",
        "share of answered chats within the threshold",
    ),
    ("abandon_rate", "abandoned / offered (0..1)"),
    ("prob_wait", "share of chats that waited at all"),
    ("asa", "mean wait of answered chats, profile time"),
    ("mean_wait", "mean wait of all chats, profile time"),
    ("wait_p50", "median wait, profile time"),
    ("wait_p90", "90th percentile wait, profile time"),
    ("wait_p99", "99th percentile wait, profile time"),
    ("frt", "mean first-response time, profile time"),
    (
        "frt_p90",
        "90th percentile first-response time, profile time",
    ),
    ("aht", "mean handle time, profile time"),
    ("route_p50", "median route latency, wall time"),
    ("route_p90", "90th percentile route latency, wall time"),
    ("route_p99", "99th percentile route latency, wall time"),
    ("route_max", "largest route latency, wall time"),
    (
        "http_p50",
        "median HTTP latency (long-polls excluded), wall time",
    ),
    ("http_p90", "90th percentile HTTP latency, wall time"),
    ("http_p99", "99th percentile HTTP latency, wall time"),
    ("http_max", "largest HTTP latency, wall time"),
    (
        "http_error_rate",
        "share of HTTP requests that failed (0..1)",
    ),
    (
        "arrival_lag_p99",
        "99th percentile arrival lag of the generator, wall time",
    ),
    ("lost", "chats created but not seen to end"),
    ("rps", "HTTP requests per second during the test"),
];

fn kind_of(metric: &str) -> Option<Kind> {
    Some(match metric {
        "service_level"
        | "service_level_answered"
        | "abandon_rate"
        | "prob_wait"
        | "http_error_rate" => Kind::Share,
        "asa" | "mean_wait" | "wait_p50" | "wait_p90" | "wait_p99" | "frt" | "frt_p90" | "aht" => {
            Kind::ProfileTime
        }
        "route_p50" | "route_p90" | "route_p99" | "route_max" | "http_p50" | "http_p90"
        | "http_p99" | "http_max" | "arrival_lag_p99" => Kind::WallTime,
        "lost" | "rps" => Kind::Number,
        _ => return None,
    })
}

/// A comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Op {
    /// `<`
    #[serde(rename = "<")]
    Lt,
    /// `<=`
    #[serde(rename = "<=")]
    Le,
    /// `>`
    #[serde(rename = ">")]
    Gt,
    /// `>=`
    #[serde(rename = ">=")]
    Ge,
}

impl Op {
    fn holds(self, value: f64, limit: f64) -> bool {
        match self {
            Op::Lt => value < limit,
            Op::Le => value <= limit,
            Op::Gt => value > limit,
            Op::Ge => value >= limit,
        }
    }
}

/// A parsed rule. Times are held in seconds.
#[derive(Debug, Clone, PartialEq)]
pub struct Threshold {
    /// The rule as written.
    pub expr: String,
    /// Metric name, one of [`METRICS`].
    pub metric: String,
    /// Comparison.
    pub op: Op,
    /// Limit in the metric's unit (seconds for times, 0..1 for shares).
    pub limit: f64,
}

/// The outcome of one rule.
#[derive(Debug, Clone, Serialize)]
pub struct ThresholdResult {
    /// The rule as written.
    pub expr: String,
    /// Metric name.
    pub metric: String,
    /// Comparison.
    pub op: Op,
    /// Limit (seconds for times, 0..1 for shares).
    pub limit: f64,
    /// Measured value; `null` when there was nothing to measure (the rule then fails).
    #[serde(serialize_with = "crate::metrics::finite_or_null")]
    pub value: f64,
    /// Whether it held.
    pub passed: bool,
}

fn metric_list() -> String {
    METRICS
        .iter()
        .map(|(m, _)| *m)
        .collect::<Vec<_>>()
        .join(", ")
}

impl Threshold {
    /// Parses `metric<op>value`, e.g. `wait_p90<30s`, `service_level>=80%`, `route_p99<5ms`.
    pub fn parse(text: &str) -> Result<Threshold, String> {
        let expr = text.trim();
        let form = "write metric<value, metric<=value, metric>value or metric>=value, e.g. \
                    wait_p90<30s, service_level>0.8, route_p99<5ms";
        let at = expr
            .find(['<', '>'])
            .ok_or_else(|| format!("{expr:?} has no comparison; {form}"))?;
        let metric = expr[..at].trim();
        let rest = &expr[at..];
        let (op, value) = if let Some(v) = rest.strip_prefix("<=") {
            (Op::Le, v)
        } else if let Some(v) = rest.strip_prefix(">=") {
            (Op::Ge, v)
        } else if let Some(v) = rest.strip_prefix('<') {
            (Op::Lt, v)
        } else {
            (Op::Gt, &rest[1..])
        };
        let value = value.trim();
        let kind = kind_of(metric).ok_or_else(|| {
            format!(
                "{expr:?}: unknown metric {metric:?}; use one of {}",
                metric_list()
            )
        })?;
        if value.is_empty() {
            return Err(format!(
                "{expr:?} has no limit after the comparison; {form}"
            ));
        }
        let limit = match kind {
            Kind::Share => {
                let (number, scale) = match value.strip_suffix('%') {
                    Some(v) => (v.trim(), 0.01),
                    None => (value, 1.0),
                };
                let share = number.parse::<f64>().ok().map(|v| v * scale);
                match share {
                    Some(s) if (0.0..=1.0).contains(&s) => s,
                    _ => {
                        return Err(format!(
                            "{expr:?}: {metric} is a share; write a number from 0 to 1 or a \
                             percentage, e.g. 0.8 or 80%"
                        ));
                    }
                }
            }
            Kind::ProfileTime | Kind::WallTime => {
                parse_duration(value).map_err(|e| format!("{expr:?}: {metric} is a time; {e}"))?
            }
            Kind::Number => match value.parse::<f64>() {
                Ok(v) if v.is_finite() && v >= 0.0 => v,
                _ => {
                    return Err(format!(
                        "{expr:?}: {metric} takes a plain number >= 0, e.g. {metric}<1"
                    ));
                }
            },
        };
        Ok(Threshold {
            expr: expr.to_string(),
            metric: metric.to_string(),
            op,
            limit,
        })
    }

    /// Evaluates the rule on `value` (NaN: nothing measured, which fails).
    pub fn evaluate(&self, value: f64) -> ThresholdResult {
        ThresholdResult {
            expr: self.expr.clone(),
            metric: self.metric.clone(),
            op: self.op,
            limit: self.limit,
            value,
            passed: value.is_finite() && self.op.holds(value, self.limit),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_documented_forms() {
        let t = Threshold::parse("route_p99<5ms").unwrap();
        assert_eq!(
            (t.metric.as_str(), t.op, t.limit),
            ("route_p99", Op::Lt, 0.005)
        );
        let t = Threshold::parse(" wait_p90 < 30s ").unwrap();
        assert_eq!((t.op, t.limit), (Op::Lt, 30.0));
        let t = Threshold::parse("service_level>0.8").unwrap();
        assert_eq!((t.op, t.limit), (Op::Gt, 0.8));
        let t = Threshold::parse("service_level>=80%").unwrap();
        assert_eq!(t.op, Op::Ge);
        assert!((t.limit - 0.8).abs() < 1e-12);
        let t = Threshold::parse("http_p99<=200ms").unwrap();
        assert_eq!((t.op, t.limit), (Op::Le, 0.2));
        let t = Threshold::parse("abandon_rate<0.05").unwrap();
        assert_eq!(t.limit, 0.05);
        let t = Threshold::parse("lost<1").unwrap();
        assert_eq!(t.limit, 1.0);
    }

    #[test]
    fn bad_rules_say_what_is_allowed() {
        let err = Threshold::parse("latency<5ms").unwrap_err();
        assert!(
            err.contains("unknown metric") && err.contains("route_p99"),
            "{err}"
        );
        let err = Threshold::parse("wait_p90=30s").unwrap_err();
        assert!(err.contains("no comparison"), "{err}");
        let err = Threshold::parse("service_level>1.5").unwrap_err();
        assert!(err.contains("share"), "{err}");
        let err = Threshold::parse("wait_p90<soon").unwrap_err();
        assert!(err.contains("time"), "{err}");
        let err = Threshold::parse("wait_p90<").unwrap_err();
        assert!(err.contains("no limit"), "{err}");
        assert!(Threshold::parse("lost<-1").is_err());
    }

    #[test]
    fn evaluation_and_missing_values() {
        let t = Threshold::parse("wait_p90<30s").unwrap();
        assert!(t.evaluate(29.0).passed);
        assert!(!t.evaluate(30.0).passed);
        assert!(!t.evaluate(f64::NAN).passed);
        let t = Threshold::parse("service_level>=0.8").unwrap();
        assert!(t.evaluate(0.8).passed);
        assert!(!t.evaluate(0.79).passed);
    }

    #[test]
    fn every_listed_metric_has_a_kind() {
        for (m, _) in METRICS {
            assert!(kind_of(m).is_some(), "{m}");
        }
    }
}
