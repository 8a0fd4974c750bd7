//! `GET /v1/stats`: chats per state, agents per status, the KPIs of DESIGN §4 per queue and
//! overall, route latency, retained records.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::nan_if_null;
use crate::metrics::QueueKpis;

/// Chats per state, the API's one count of chats by state (`/v1/stats` gives it since the
/// server started; a client may give a change between two snapshots in the same shape): the
/// routing core's own count, sent as it is.
pub use crate::routing::StateCounts as ChatCounts;

/// Agents per status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentCounts {
    /// Agents registered since start.
    pub registered: u64,
    /// Available.
    pub available: u64,
    /// Away.
    pub away: u64,
    /// Offline.
    pub offline: u64,
    /// Draining.
    pub draining: u64,
}

/// KPIs of one queue or all, DESIGN §4, in profile seconds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QueueStats {
    /// The §4 figures (`null` where undefined, e.g. no chat answered yet).
    #[serde(flatten, deserialize_with = "kpis::deserialize")]
    pub kpis: QueueKpis,
    /// Median wait of answered chats.
    #[serde(deserialize_with = "nan_if_null")]
    pub wait_p50_secs: f64,
    /// 90th percentile wait of answered chats.
    #[serde(deserialize_with = "nan_if_null")]
    pub wait_p90_secs: f64,
    /// 90th percentile first-response time.
    #[serde(deserialize_with = "nan_if_null")]
    pub frt_p90_secs: f64,
    /// Chats waiting now.
    pub waiting: u64,
}

/// Percentiles of a latency histogram in wall milliseconds, e.g. route latency (DESIGN §4).
/// Undefined figures (no samples) are NaN, written `null`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Latency {
    /// Samples (for route latency: offers and assignments delivered).
    pub count: u64,
    /// Mean.
    #[serde(deserialize_with = "nan_if_null")]
    pub mean_ms: f64,
    /// Median.
    #[serde(deserialize_with = "nan_if_null")]
    pub p50_ms: f64,
    /// 90th percentile.
    #[serde(deserialize_with = "nan_if_null")]
    pub p90_ms: f64,
    /// 99th percentile.
    #[serde(deserialize_with = "nan_if_null")]
    pub p99_ms: f64,
    /// Largest.
    #[serde(deserialize_with = "nan_if_null")]
    pub max_ms: f64,
}

impl Latency {
    /// From a histogram of microseconds.
    pub fn of(h: &hdrhistogram::Histogram<u64>) -> Latency {
        if h.is_empty() {
            return Latency {
                count: 0,
                mean_ms: f64::NAN,
                p50_ms: f64::NAN,
                p90_ms: f64::NAN,
                p99_ms: f64::NAN,
                max_ms: f64::NAN,
            };
        }
        let ms = |us: u64| us as f64 / 1000.0;
        Latency {
            count: h.len(),
            mean_ms: h.mean() / 1000.0,
            p50_ms: ms(h.value_at_quantile(0.5)),
            p90_ms: ms(h.value_at_quantile(0.9)),
            p99_ms: ms(h.value_at_quantile(0.99)),
            max_ms: ms(h.max()),
        }
    }
}

/// Answer to `GET /v1/stats`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Stats {
    /// Profile name.
    pub profile: String,
    /// Profile seconds per wall second.
    pub time_scale: f64,
    /// Wall seconds since start.
    pub uptime_secs: f64,
    /// Chats per state since start.
    pub chats: ChatCounts,
    /// Agents per status.
    pub agents: AgentCounts,
    /// All queues together.
    pub overall: QueueStats,
    /// Per queue, by name.
    pub queues: BTreeMap<String, QueueStats>,
    /// Route latency.
    pub route_latency: Latency,
    /// With `?buckets=true`: the route-latency histogram as `[value_us, count]` pairs (one
    /// per non-empty bucket), so a client can subtract two snapshots.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub route_latency_buckets: Option<Vec<[u64; 2]>>,
    /// Records held in memory (live plus recently ended), to watch that memory stays flat.
    pub retained: Retained,
}

/// Records the server holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Retained {
    /// Chats: live ones plus the most recent ended ones.
    pub chats: u64,
    /// Offers and assignments: pending ones plus the most recent ended ones.
    pub offers: u64,
}

/// Reads [`QueueKpis`] as `/v1/stats` writes them, `null` figures as NaN. A mirror of its
/// fields (serde's remote derive): a field added to `QueueKpis` fails to compile here until it
/// is read too.
mod kpis {
    use serde::{Deserialize, Deserializer};

    use super::nan_if_null;
    use crate::metrics::QueueKpis;

    #[derive(Deserialize)]
    #[serde(remote = "QueueKpis")]
    struct Figures {
        #[serde(deserialize_with = "nan_if_null")]
        arrivals: f64,
        #[serde(deserialize_with = "nan_if_null")]
        offered: f64,
        #[serde(deserialize_with = "nan_if_null")]
        answered: f64,
        #[serde(deserialize_with = "nan_if_null")]
        abandoned: f64,
        #[serde(deserialize_with = "nan_if_null")]
        rejected: f64,
        #[serde(deserialize_with = "nan_if_null")]
        service_level: f64,
        #[serde(deserialize_with = "nan_if_null")]
        service_level_answered: f64,
        #[serde(deserialize_with = "nan_if_null")]
        asa_secs: f64,
        #[serde(deserialize_with = "nan_if_null")]
        mean_wait_secs: f64,
        #[serde(deserialize_with = "nan_if_null")]
        abandon_rate: f64,
        #[serde(deserialize_with = "nan_if_null")]
        prob_wait: f64,
        #[serde(deserialize_with = "nan_if_null")]
        frt_secs: f64,
        #[serde(deserialize_with = "nan_if_null")]
        aht_secs: f64,
        #[serde(deserialize_with = "nan_if_null")]
        art_secs: f64,
        #[serde(deserialize_with = "nan_if_null")]
        fcr: f64,
        #[serde(deserialize_with = "nan_if_null")]
        bot_resolved: f64,
        #[serde(deserialize_with = "nan_if_null")]
        transfer_rate: f64,
        #[serde(deserialize_with = "nan_if_null")]
        csat: f64,
        #[serde(deserialize_with = "nan_if_null")]
        ewt_mae_secs: f64,
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<QueueKpis, D::Error> {
        Figures::deserialize(d)
    }
}
