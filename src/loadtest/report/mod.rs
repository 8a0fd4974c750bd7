//! The `chatcap loadtest` summary: chats by state (ours and the server's), the measured section
//! 4 figures beside the simulator's forecast for the same window, HTTP latency per endpoint,
//! route latency, arrival lag and the threshold results. Serialized as the JSON contract and
//! shown as tables through the report module.

mod tables;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::metrics::{Estimate, QueueKpis, QueueTally, student_t_975};
use crate::sim::results::QueueFigures;

use super::run_state::{ChatTally, EndedBy, OfferTally};
use super::schedule::Window;
use super::threshold::ThresholdResult;
use crate::api::ChatCounts;
pub(crate) use crate::api::Latency as LatencyOut;
use crate::metrics::finite_or_null;

/// One endpoint's requests.
#[derive(Debug, Clone, Serialize)]
pub struct EndpointOut {
    /// `METHOD /path`.
    pub route: String,
    /// Long-polls wait on purpose: their latency is not the server's speed.
    pub long_poll: bool,
    /// Requests sent.
    pub requests: u64,
    /// Requests that failed (no answer or an unexpected status).
    pub failures: u64,
    /// Latency to the response headers.
    #[serde(flatten)]
    pub latency: LatencyOut,
}

/// HTTP figures.
#[derive(Debug, Clone, Serialize)]
pub struct HttpOut {
    /// Requests sent, all endpoints.
    pub requests: u64,
    /// Requests that failed.
    pub failures: u64,
    /// failures / requests.
    #[serde(serialize_with = "finite_or_null")]
    pub error_rate: f64,
    /// Requests per wall second from the window start to the end of the drain.
    #[serde(serialize_with = "finite_or_null")]
    pub rps: f64,
    /// Latency over every endpoint except the long-polls.
    pub all: LatencyOut,
    /// Per endpoint, by request name.
    pub endpoints: BTreeMap<String, EndpointOut>,
}

/// The section 4 figures of one measured run (profile seconds; shares in 0..1).
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Figures {
    /// Customers that arrived (bot-resolved included).
    pub arrivals: f64,
    /// Chats that entered a queue (rejections included).
    pub offered: f64,
    /// Chats answered.
    pub answered: f64,
    /// Chats abandoned after the short-abandon time.
    pub abandoned: f64,
    /// Chats refused by a full queue.
    pub rejected: f64,
    /// Answered within threshold / (answered + abandoned).
    #[serde(serialize_with = "finite_or_null")]
    pub service_level: f64,
    /// Answered within threshold / answered.
    #[serde(serialize_with = "finite_or_null")]
    pub service_level_answered: f64,
    /// Mean wait of answered chats.
    #[serde(serialize_with = "finite_or_null")]
    pub asa_secs: f64,
    /// Mean wait of all chats that left the queue.
    #[serde(serialize_with = "finite_or_null")]
    pub mean_wait_secs: f64,
    /// Abandoned / offered.
    #[serde(serialize_with = "finite_or_null")]
    pub abandon_rate: f64,
    /// Share that waited at all.
    #[serde(serialize_with = "finite_or_null")]
    pub prob_wait: f64,
    /// Median wait of answered chats.
    #[serde(serialize_with = "finite_or_null")]
    pub wait_p50_secs: f64,
    /// 90th percentile wait.
    #[serde(serialize_with = "finite_or_null")]
    pub wait_p90_secs: f64,
    /// 99th percentile wait.
    #[serde(serialize_with = "finite_or_null")]
    pub wait_p99_secs: f64,
    /// Mean arrival to first agent message.
    #[serde(serialize_with = "finite_or_null")]
    pub frt_secs: f64,
    /// 90th percentile first-response time.
    #[serde(serialize_with = "finite_or_null")]
    pub frt_p90_secs: f64,
    /// Mean handling leg: answered to closed or to transferred away (every leg of a
    /// transferred chat, as the server and the simulator count it).
    #[serde(serialize_with = "finite_or_null")]
    pub aht_secs: f64,
    /// Mean arrival to close.
    #[serde(serialize_with = "finite_or_null")]
    pub art_secs: f64,
    /// Answered chats closed without a transfer / answered.
    #[serde(serialize_with = "finite_or_null")]
    pub fcr: f64,
    /// Share of arrivals resolved by the bot.
    #[serde(serialize_with = "finite_or_null")]
    pub bot_resolved: f64,
    /// Transferred / answered.
    #[serde(serialize_with = "finite_or_null")]
    pub transfer_rate: f64,
    /// Mean |estimated wait shown - actual wait|.
    #[serde(serialize_with = "finite_or_null")]
    pub ewt_mae_secs: f64,
}

impl Figures {
    /// From a tally, with [`QueueKpis`] (the simulator's definitions).
    pub(crate) fn of(t: &QueueTally) -> Figures {
        let k = QueueKpis::from_tally(t);
        Figures {
            arrivals: k.arrivals,
            offered: k.offered,
            answered: k.answered,
            abandoned: k.abandoned,
            rejected: k.rejected,
            service_level: k.service_level,
            service_level_answered: k.service_level_answered,
            asa_secs: k.asa_secs,
            mean_wait_secs: k.mean_wait_secs,
            abandon_rate: k.abandon_rate,
            prob_wait: k.prob_wait,
            wait_p50_secs: t.wait_hist().quantile_secs(0.5),
            wait_p90_secs: t.wait_hist().quantile_secs(0.9),
            wait_p99_secs: t.wait_hist().quantile_secs(0.99),
            frt_secs: k.frt_secs,
            frt_p90_secs: t.frt_hist().quantile_secs(0.9),
            aht_secs: k.aht_secs,
            art_secs: k.art_secs,
            fcr: k.fcr,
            bot_resolved: k.bot_resolved,
            transfer_rate: k.transfer_rate,
            ewt_mae_secs: k.ewt_mae_secs,
        }
    }
}

/// What the load test measured.
#[derive(Debug, Clone, Serialize)]
pub struct Measured {
    /// All queues.
    #[serde(flatten)]
    pub overall: Figures,
    /// Per queue (the queue a chat arrived in).
    pub queues: BTreeMap<String, Figures>,
}

/// The simulator's forecast for the same window, staffing and arrival rates.
#[derive(Debug, Clone, Serialize)]
pub struct Forecast {
    /// Replications simulated.
    pub replications: u32,
    /// All queues; each figure `{mean, ci_low, ci_high}`.
    #[serde(flatten)]
    pub overall: QueueFigures,
    /// Per queue.
    pub queues: BTreeMap<String, QueueFigures>,
}

/// One figure measured against the forecast.
#[derive(Debug, Clone, Serialize)]
pub struct ComparisonRow {
    /// Figure key, as in `measured` and `forecast`.
    pub figure: &'static str,
    /// Measured value.
    #[serde(serialize_with = "finite_or_null")]
    pub measured: f64,
    /// Forecast mean.
    #[serde(serialize_with = "finite_or_null")]
    pub forecast: f64,
    /// Forecast 95% interval, low end.
    #[serde(serialize_with = "finite_or_null")]
    pub ci_low: f64,
    /// Forecast 95% interval, high end.
    #[serde(serialize_with = "finite_or_null")]
    pub ci_high: f64,
    /// Standard deviation of the figure over one simulated window (from the interval width).
    #[serde(serialize_with = "finite_or_null")]
    pub sd: f64,
    /// (measured - forecast) / (sd x sqrt(1 + 1/replications)): how unusual one run this far
    /// from the forecast mean is; |z| above 3 rarely happens by chance.
    #[serde(serialize_with = "finite_or_null")]
    pub z: f64,
}

impl ComparisonRow {
    pub(crate) fn new(
        figure: &'static str,
        measured: f64,
        e: &Estimate,
        replications: u32,
    ) -> ComparisonRow {
        let r = f64::from(replications.max(1));
        // The wider side is the Student-t half-width: the other may be clipped to the
        // figure's range (a wait's bound at 0).
        let half = (e.ci_high - e.mean).max(e.mean - e.ci_low);
        let sd = if replications >= 2 {
            half * r.sqrt() / student_t_975(replications as usize - 1)
        } else {
            f64::NAN
        };
        let z = if sd > 0.0 {
            (measured - e.mean) / (sd * (1.0 + 1.0 / r).sqrt())
        } else {
            f64::NAN
        };
        ComparisonRow {
            figure,
            measured,
            forecast: e.mean,
            ci_low: e.ci_low,
            ci_high: e.ci_high,
            sd,
            z,
        }
    }
}

/// Chats by state.
#[derive(Debug, Clone, Serialize)]
pub struct ChatsOut {
    /// Chats by state, as the load test saw them: `created` counts what the server took (201)
    /// or refused as queue or server full (503); queued, offered and active are the last
    /// states customers saw at the end.
    #[serde(flatten)]
    pub counts: ChatCounts,
    /// Created but not seen to end: created - closed - abandoned - rejected. Must be 0.
    pub lost: u64,
    /// Customers the bot resolved before the queue (never sent to the server).
    pub bot_resolved: u64,
    /// Creations that failed (no answer or an unexpected status).
    pub create_failed: u64,
    /// Chats whose customer left because the drain time ran out.
    pub forced_leaves: u64,
    /// The backend's own counts over the test, those its target reads (chatcap: `created`,
    /// `queued`, `offered`, `active`, `closed`, `abandoned`, `rejected`; others may give
    /// `live` and `ended`, closed plus abandoned): created and ended ones as the change during
    /// the test, live ones at its end.
    pub server: Option<BTreeMap<String, u64>>,
    /// Every count equal to the server's and nothing lost (`null` without server counts).
    pub conserved: Option<bool>,
}

/// Staffing used.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StaffingOut {
    /// `--agents`, `profile`, or `closed-form estimate`.
    pub source: String,
    /// Agent users (the peak on duty, all groups).
    pub agents: usize,
    /// Agents on duty per group and window interval.
    pub groups: BTreeMap<String, Vec<u32>>,
}

/// How the run went.
#[derive(Debug, Clone, Serialize)]
pub struct RunOut {
    /// Why it stopped.
    pub ended_by: EndedBy,
    /// Wall seconds from the window start to the end of the drain.
    pub elapsed_secs: f64,
    /// Wall seconds of arrivals.
    pub arrivals_secs: f64,
    /// Wall seconds allowed for chats to end after the arrivals.
    pub drain_limit_secs: f64,
    /// Goose users: agents plus customers.
    pub users: usize,
    /// Goose report files written.
    pub report_files: Vec<String>,
}

/// The `chatcap loadtest` result (DESIGN.md section 6).
#[derive(Debug, Clone, Serialize)]
pub struct LoadTestReport {
    /// Profile name.
    pub profile: String,
    /// Target base URL.
    pub host: String,
    /// Seed of the arrival schedule and the forecast.
    pub seed: u64,
    /// The slice of the profile's day played.
    pub window: Window,
    /// Agents on duty.
    pub staffing: StaffingOut,
    /// Customer users (each plays one arrival at a time).
    pub customers: usize,
    /// Chats by state.
    pub chats: ChatsOut,
    /// Measured figures (server timestamps, profile seconds).
    pub measured: Measured,
    /// The simulator's forecast.
    pub forecast: Forecast,
    /// Measured against forecast, figure by figure.
    pub comparison: Vec<ComparisonRow>,
    /// HTTP requests.
    pub http: HttpOut,
    /// Route latency (`delivered_at - offered_at` of each offer), wall time.
    pub route_latency: LatencyOut,
    /// How late customers arrived against the schedule: the generator's own health.
    pub arrival_lag: LatencyOut,
    /// Chat created to first answer, wall time.
    pub time_to_answer: LatencyOut,
    /// Chat creation sent to the first agent message seen by the customer, wall time.
    pub first_response: LatencyOut,
    /// Offers as agents saw them.
    pub offers: OfferTally,
    /// The server's own route latency over this run (its `/v1/stats` histogram after the run
    /// minus before), when available.
    pub server_route_latency: Option<LatencyOut>,
    /// Unexpected outcomes by kind.
    pub errors: BTreeMap<String, u64>,
    /// `--threshold` results.
    pub thresholds: Vec<ThresholdResult>,
    /// How the run went.
    pub run: RunOut,
    /// Things to know about this run.
    pub warnings: Vec<String>,
}

/// Bare chat tallies in the summary's shape.
pub(crate) fn chats_out(
    tally: &ChatTally,
    live: [u64; 3],
    server: Option<BTreeMap<String, u64>>,
) -> ChatsOut {
    let ended = tally.closed + tally.abandoned + tally.rejected;
    let lost = tally.created.saturating_sub(ended);
    let conserved = server.as_ref().map(|s| {
        lost == 0
            && s.iter().all(|(name, &theirs)| match name.as_str() {
                "created" => theirs == tally.created,
                "closed" => theirs == tally.closed,
                "abandoned" => theirs == tally.abandoned,
                "rejected" => theirs == tally.rejected,
                "ended" => theirs == tally.closed + tally.abandoned,
                _ => theirs == 0,
            })
    });
    ChatsOut {
        counts: ChatCounts {
            created: tally.created,
            queued: live[0],
            offered: live[1],
            active: live[2],
            closed: tally.closed,
            abandoned: tally.abandoned,
            rejected: tally.rejected,
        },
        lost,
        bot_resolved: tally.bot_resolved,
        create_failed: tally.create_failed,
        forced_leaves: tally.forced_leaves,
        server,
        conserved,
    }
}

impl LoadTestReport {
    /// The value a threshold metric names (seconds for times, 0..1 for shares); NaN when
    /// nothing was measured.
    pub fn metric(&self, name: &str) -> f64 {
        let m = &self.measured.overall;
        let secs = |ms: f64| ms / 1000.0;
        match name {
            "service_level" => m.service_level,
            "service_level_answered" => m.service_level_answered,
            "abandon_rate" => m.abandon_rate,
            "prob_wait" => m.prob_wait,
            "asa" => m.asa_secs,
            "mean_wait" => m.mean_wait_secs,
            "wait_p50" => m.wait_p50_secs,
            "wait_p90" => m.wait_p90_secs,
            "wait_p99" => m.wait_p99_secs,
            "frt" => m.frt_secs,
            "frt_p90" => m.frt_p90_secs,
            "aht" => m.aht_secs,
            "route_p50" => secs(self.route_latency.p50_ms),
            "route_p90" => secs(self.route_latency.p90_ms),
            "route_p99" => secs(self.route_latency.p99_ms),
            "route_max" => secs(self.route_latency.max_ms),
            "http_p50" => secs(self.http.all.p50_ms),
            "http_p90" => secs(self.http.all.p90_ms),
            "http_p99" => secs(self.http.all.p99_ms),
            "http_max" => secs(self.http.all.max_ms),
            "http_error_rate" => self.http.error_rate,
            "arrival_lag_p99" => secs(self.arrival_lag.p99_ms),
            "lost" => self.chats.lost as f64,
            "rps" => self.http.rps,
            _ => f64::NAN,
        }
    }

    /// The rules that failed.
    pub fn failed_thresholds(&self) -> Vec<String> {
        self.thresholds
            .iter()
            .filter(|t| !t.passed)
            .map(|t| {
                if t.value.is_finite() {
                    format!("{} (measured {})", t.expr, shown_value(&t.metric, t.value))
                } else {
                    format!("{} (nothing measured)", t.expr)
                }
            })
            .collect()
    }
}

/// A threshold metric's value as people read it.
fn shown_value(metric: &str, value: f64) -> String {
    match metric {
        "service_level"
        | "service_level_answered"
        | "abandon_rate"
        | "prob_wait"
        | "http_error_rate" => format!("{:.2}%", value * 100.0),
        "lost" => format!("{value}"),
        "rps" => format!("{value:.1}"),
        m if m.starts_with("route") || m.starts_with("http") || m.starts_with("arrival") => {
            format!("{:.3}ms", value * 1000.0)
        }
        _ => format!("{value:.2}s"),
    }
}

/// Comparison figures: key, whether it is a share, decimals.
const COMPARED: [(&str, bool); 12] = [
    ("offered", false),
    ("service_level", true),
    ("service_level_answered", true),
    ("abandon_rate", true),
    ("asa_secs", false),
    ("mean_wait_secs", false),
    ("wait_p50_secs", false),
    ("wait_p90_secs", false),
    ("wait_p99_secs", false),
    ("frt_secs", false),
    ("frt_p90_secs", false),
    ("aht_secs", false),
];

/// The figure `key` of measured and forecast figures.
pub(crate) fn compare(
    measured: &Figures,
    forecast: &QueueFigures,
    reps: u32,
) -> Vec<ComparisonRow> {
    COMPARED
        .iter()
        .map(|(key, _)| {
            let (m, f) = match *key {
                "offered" => (measured.offered, forecast.offered),
                "service_level" => (measured.service_level, forecast.service_level),
                "service_level_answered" => (
                    measured.service_level_answered,
                    forecast.service_level_answered,
                ),
                "abandon_rate" => (measured.abandon_rate, forecast.abandon_rate),
                "asa_secs" => (measured.asa_secs, forecast.asa_secs),
                "mean_wait_secs" => (measured.mean_wait_secs, forecast.mean_wait_secs),
                "wait_p50_secs" => (measured.wait_p50_secs, forecast.wait_p50_secs),
                "wait_p90_secs" => (measured.wait_p90_secs, forecast.wait_p90_secs),
                "wait_p99_secs" => (measured.wait_p99_secs, forecast.wait_p99_secs),
                "frt_secs" => (measured.frt_secs, forecast.frt_secs),
                "frt_p90_secs" => (measured.frt_p90_secs, forecast.frt_p90_secs),
                _ => (measured.aht_secs, forecast.aht_secs),
            };
            ComparisonRow::new(key, m, &f, reps)
        })
        .collect()
}
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comparison_sd_is_one_windows_spread() {
        let samples = [1.0, 2.0, 3.0, 4.0];
        let e = Estimate::from_samples(samples);
        let sd = (samples.iter().map(|x| (x - 2.5f64).powi(2)).sum::<f64>() / 3.0).sqrt();
        let measured = 2.5 + sd * (1.25f64).sqrt();
        let row = ComparisonRow::new("x", measured, &e, 4);
        assert!((row.sd - sd).abs() < 1e-9, "{} vs {sd}", row.sd);
        assert!((row.z - 1.0).abs() < 1e-9, "{}", row.z);
        let one = ComparisonRow::new("x", 1.0, &Estimate::exact(1.0), 1);
        assert!(one.sd.is_nan() && one.z.is_nan());
    }

    #[test]
    fn conservation_needs_equal_counts_and_nothing_lost() {
        let tally = ChatTally {
            created: 10,
            closed: 7,
            abandoned: 2,
            rejected: 1,
            ..ChatTally::default()
        };
        let counts = |pairs: &[(&str, u64)]| -> BTreeMap<String, u64> {
            pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect()
        };
        let server = counts(&[
            ("created", 10),
            ("queued", 0),
            ("offered", 0),
            ("active", 0),
            ("closed", 7),
            ("abandoned", 2),
            ("rejected", 1),
        ]);
        let out = chats_out(&tally, [0; 3], Some(server.clone()));
        assert_eq!((out.lost, out.conserved), (0, Some(true)));
        let mut more = server.clone();
        more.insert("created".into(), 11);
        let out = chats_out(&tally, [0; 3], Some(more.clone()));
        assert_eq!(out.conserved, Some(false));
        let open = ChatTally {
            created: 11,
            ..tally
        };
        let out = chats_out(&open, [0, 0, 1], Some(more));
        assert_eq!(
            (out.lost, out.counts.active, out.conserved),
            (1, 1, Some(false))
        );
        // A backend that counts live and ended chats only (closed and abandoned together).
        let coarse = counts(&[("created", 10), ("live", 0), ("ended", 9), ("rejected", 1)]);
        assert_eq!(
            chats_out(&tally, [0; 3], Some(coarse.clone())).conserved,
            Some(true)
        );
        let mut still_live = coarse;
        still_live.insert("live".into(), 1);
        assert_eq!(
            chats_out(&tally, [0; 3], Some(still_live)).conserved,
            Some(false)
        );
        assert_eq!(chats_out(&tally, [0; 3], None).conserved, None);
    }
}
