//! The profile as written: serde structs that reject unknown keys and leave every range and
//! consistency check to the validation pass. Required keys are `Option` here so that a missing
//! one gets the same kind of message (field, fix) as a bad one. Keys that take several forms
//! (a duration as text or number, one volume or a list, `accept = "auto"` or a table) are kept
//! as [`toml::Value`] and interpreted during validation.

use serde::Deserialize;
use toml::Value;

/// The whole file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawProfile {
    pub name: Option<String>,
    pub interval: Option<Value>,
    pub start: Option<String>,
    pub intervals: Option<i64>,
    pub targets: Option<RawTargets>,
    pub routing: Option<RawRouting>,
    pub simulation: Option<RawSimulation>,
    #[serde(default)]
    pub queues: Vec<RawQueue>,
    #[serde(default)]
    pub agents: Vec<RawAgent>,
}

/// `[targets]`, or a queue's partial override.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawTargets {
    pub service_level: Option<f64>,
    pub threshold: Option<Value>,
    pub max_abandon: Option<f64>,
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
    pub resolve_share: Option<f64>,
    pub time: Option<RawDist>,
}

/// `transfer = { ... }`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawTransfer {
    pub share: Option<f64>,
    pub to: Option<String>,
}

/// `csat = { ... }`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawCsat {
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
    pub shrinkage: Option<f64>,
    pub staffing: Option<Value>,
}
