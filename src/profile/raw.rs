//! The profile as written: serde structs that reject unknown keys and leave every range and
//! consistency check to the validation pass. Required keys are `Option` here so that a missing
//! one gets the same kind of message (field, fix) as a bad one. Keys that take several forms
//! (a duration as text or number, one volume or a list, `accept = "auto"` or a table) are kept
//! as [`toml::Value`] and interpreted during validation. Shares take a number or a percentage
//! (`0.8` or `"80%"`), as `loadtest --threshold` does.

use serde::{Deserialize, Deserializer, de};
use toml::Value;

/// The whole file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawProfile {
    pub name: Option<String>,
    pub interval: Option<Value>,
    pub start: Option<String>,
    pub intervals: Option<i64>,
    pub days: Option<i64>,
    pub timezone: Option<String>,
    pub hours: Option<RawHours>,
    pub targets: Option<RawTargets>,
    pub routing: Option<RawRouting>,
    pub simulation: Option<RawSimulation>,
    #[serde(default)]
    pub queues: Vec<RawQueue>,
    #[serde(default)]
    pub agents: Vec<RawAgent>,
    #[serde(default)]
    pub shifts: Vec<RawShift>,
}

/// One `[[shifts]]` rule; values are checked in `validate/shifts.rs`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawShift {
    pub name: Option<String>,
    pub groups: Option<Vec<String>>,
    pub start: Option<String>,
    pub step: Option<Value>,
    pub length: Option<Value>,
    pub breaks: Option<Vec<Value>>,
    pub days_per_week: Option<i64>,
    pub consecutive_days_off: Option<i64>,
    pub max_starts_per_interval: Option<i64>,
}

/// `[hours]`: opening hours per weekday, `"08:00-22:00"` or `"closed"`; `default` covers the
/// weekdays not named.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawHours {
    pub mon: Option<String>,
    pub tue: Option<String>,
    pub wed: Option<String>,
    pub thu: Option<String>,
    pub fri: Option<String>,
    pub sat: Option<String>,
    pub sun: Option<String>,
    pub default: Option<String>,
}

/// `[targets]`, or a queue's partial override.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawTargets {
    #[serde(default, deserialize_with = "share")]
    pub service_level: Option<f64>,
    pub threshold: Option<Value>,
    #[serde(default, deserialize_with = "share")]
    pub max_abandon: Option<f64>,
    #[serde(default, deserialize_with = "share")]
    pub max_occupancy: Option<f64>,
    pub max_asa: Option<Value>,
    pub short_abandon: Option<Value>,
}

/// `[routing]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRouting {
    pub agent_selection: Option<String>,
    pub accept: Option<Value>,
    pub priority_weight: Option<Value>,
    pub transfer_place: Option<String>,
}

/// `[simulation]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawSimulation {
    pub replications: Option<i64>,
    pub seed: Option<i64>,
    pub warmup: Option<Value>,
}

/// One `[[queues]]` entry.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawQueue {
    pub name: Option<String>,
    pub skill: Option<String>,
    pub priority: Option<i64>,
    pub volume: Option<Value>,
    pub forecast: Option<String>,
    pub volume_cv: Option<f64>,
    pub handle_time: Option<RawDist>,
    pub patience: Option<RawDist>,
    pub accept_delay: Option<RawDist>,
    pub first_response: Option<RawDist>,
    pub bot: Option<RawBot>,
    pub transfer: Option<RawTransfer>,
    pub max_queue: Option<i64>,
    pub targets: Option<RawTargets>,
    pub csat: Option<RawCsat>,
}

/// A distribution table.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawDist {
    pub dist: Option<String>,
    pub mean: Option<Value>,
    pub cv: Option<f64>,
    pub values: Option<Vec<Value>>,
}

/// `bot = { ... }`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawBot {
    #[serde(default, deserialize_with = "share")]
    pub resolve_share: Option<f64>,
    pub time: Option<RawDist>,
}

/// `transfer = { ... }`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawTransfer {
    #[serde(default, deserialize_with = "share")]
    pub share: Option<f64>,
    pub to: Option<String>,
}

/// `csat = { ... }`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawCsat {
    #[serde(default, deserialize_with = "share")]
    pub response: Option<f64>,
    pub score: Option<f64>,
    pub drop_per_minute: Option<f64>,
    pub floor: Option<f64>,
}

/// One `[[agents]]` entry.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawAgent {
    pub name: Option<String>,
    pub skills: Option<Vec<Value>>,
    pub concurrency: Option<i64>,
    pub slowdown: Option<Value>,
    #[serde(default, deserialize_with = "share")]
    pub shrinkage: Option<f64>,
    pub staffing: Option<Value>,
    pub min_on_duty: Option<i64>,
    pub max_on_duty: Option<i64>,
    pub cost_per_hour: Option<Value>,
}

/// A share written as a number (`0.8`) or a percentage (`"80%"`); ranges are checked later.
fn share<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<f64>, D::Error> {
    struct ShareVisitor;
    impl de::Visitor<'_> for ShareVisitor {
        type Value = f64;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a share such as 0.8 or \"80%\"")
        }
        fn visit_f64<E: de::Error>(self, v: f64) -> Result<f64, E> {
            Ok(v)
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<f64, E> {
            Ok(v as f64)
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<f64, E> {
            Ok(v as f64)
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<f64, E> {
            v.trim()
                .strip_suffix('%')
                .and_then(|n| n.trim().parse::<f64>().ok())
                .filter(|n| n.is_finite())
                .map(|n| n / 100.0)
                .ok_or_else(|| {
                    E::custom(format!(
                        "{v:?} is not a share; write a number such as 0.8 or a percentage such \
                         as \"80%\""
                    ))
                })
        }
    }
    deserializer.deserialize_any(ShareVisitor).map(Some)
}
