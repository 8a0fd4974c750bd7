//! What the load test learns from the backend's own figures (the target's `run.stats`, for
//! chatcap `GET /v1/stats`): before the banner, whether the host is a URL, answers, and serves
//! what the test plays (a backend that already holds live chats is named before the run
//! starts); after the run, its chat counts and its route latency over the test's window alone,
//! from two snapshots.

use std::collections::BTreeMap;
use std::time::Duration;

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::client::{render, transport_cause};
use super::target::{Call, Method, Reading, StatsReading, Target, Values, read};
use super::{LoadPlan, LoadTestError};
use crate::api::Latency;

/// What the backend says of itself at one moment, as the target reads it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ServerSnapshot {
    /// Its chat counts by chatcap's names (`created`, `queued`, ..., `live`, `ended`): those
    /// the target reads.
    pub counts: BTreeMap<String, u64>,
    /// The profile it serves, when the target reads it.
    pub profile: Option<String>,
    /// Its time scale, when the target reads it.
    pub time_scale: Option<f64>,
    /// Its queue names, when the target reads them.
    pub queues: Option<Vec<String>>,
    /// Its route-latency histogram as `[value_us, count]` pairs, when the target reads it.
    pub route_latency_buckets: Option<Vec<[u64; 2]>>,
}

impl ServerSnapshot {
    /// Chats it holds that have not ended (its live counts summed), if it says.
    pub fn live(&self) -> Option<u64> {
        let live: Vec<u64> = ["queued", "offered", "active", "live"]
            .iter()
            .filter_map(|k| self.counts.get(*k).copied())
            .collect();
        (!live.is_empty()).then(|| live.iter().sum())
    }

    /// Takes in what another call of the same snapshot read.
    fn add(&mut self, other: ServerSnapshot) {
        self.counts.extend(other.counts);
        self.profile = self.profile.take().or(other.profile);
        self.time_scale = self.time_scale.or(other.time_scale);
        self.queues = self.queues.take().or(other.queues);
        self.route_latency_buckets = self
            .route_latency_buckets
            .take()
            .or(other.route_latency_buckets);
    }

    /// How far its counters had gone: chats created, then ended.
    pub(crate) fn progress(&self) -> (u64, u64) {
        let c = |k: &str| self.counts.get(k).copied().unwrap_or(0);
        (
            c("created"),
            c("closed") + c("abandoned") + c("rejected") + c("ended"),
        )
    }
}

/// The snapshot in a `run.stats` answer.
fn snapshot_of(reading: &StatsReading, body: &Value) -> ServerSnapshot {
    let counts = reading
        .counts
        .iter()
        .filter_map(|(name, pointers)| {
            let values: Option<Vec<u64>> = pointers.iter().map(|p| read::count(body, p)).collect();
            Some((name.clone(), values?.iter().sum()))
        })
        .collect();
    let queues = reading
        .queues
        .as_ref()
        .and_then(|p| match read::at(body, p)? {
            Value::Object(map) => Some(map.keys().cloned().collect()),
            Value::Array(items) => Some(
                items
                    .iter()
                    .filter_map(|i| i.as_str().map(String::from))
                    .collect(),
            ),
            _ => None,
        });
    ServerSnapshot {
        counts,
        profile: reading.profile.as_ref().and_then(|p| read::text(body, p)),
        time_scale: reading
            .time_scale
            .as_ref()
            .and_then(|p| read::number(body, p)),
        queues,
        route_latency_buckets: reading
            .route_latency_buckets
            .as_ref()
            .and_then(|p| serde_json::from_value(read::at(body, p)?.clone()).ok()),
    }
}

/// Asks the backend for its figures, each call of the target's `run.stats` in turn: `Err`
/// when it does not answer, `Ok(None)` when the target reads none or a call does not succeed.
pub(crate) async fn fetch_snapshot(
    client: &reqwest::Client,
    host: &str,
    target: &Target,
) -> Result<Option<ServerSnapshot>, String> {
    let Some(op) = &target.stats else {
        return Ok(None);
    };
    let mut snapshot = ServerSnapshot::default();
    for call in &op.calls {
        let Some(body) = fetch(client, host, call).await? else {
            return Ok(None);
        };
        if let Reading::Stats(reading) = &call.reading {
            snapshot.add(snapshot_of(reading, &body));
        }
    }
    Ok(Some(snapshot))
}

/// One call's answer, `None` when it is not a success.
async fn fetch(client: &reqwest::Client, host: &str, call: &Call) -> Result<Option<Value>, String> {
    let mut request = render(call, &Values::new(0))?;
    let method = match call.method {
        Method::Get => reqwest::Method::GET,
        Method::Post => reqwest::Method::POST,
        Method::Put => reqwest::Method::PUT,
        Method::Patch => reqwest::Method::PATCH,
        Method::Delete => reqwest::Method::DELETE,
    };
    let builder = client.request(method, format!("{host}{}", request.path));
    let response = request
        .fill(builder)
        .send()
        .await
        .map_err(|e| transport_cause(&e))?;
    if !call.is_ok(response.status().as_u16()) {
        return Ok(None);
    }
    let bytes = response
        .bytes()
        .await
        .map_err(|e| e.without_url().to_string())?;
    Ok(Some(serde_json::from_slice(&bytes).unwrap_or(Value::Null)))
}

/// A client for the backend's figures.
pub(crate) fn stats_client(timeout: Duration) -> Result<reqwest::Client, LoadTestError> {
    reqwest::Client::builder()
        .timeout(timeout)
        .build()
        .map_err(|e| LoadTestError::Run(format!("cannot build an HTTP client: {e}")))
}

/// Longest wait for the server's first answer.
const CHECK_TIMEOUT: Duration = Duration::from_secs(10);

/// Checks that `host` is an http(s) URL with a host name; returns it without a trailing `/`.
pub fn check_host(host: &str) -> Result<String, LoadTestError> {
    let host = host.trim().trim_end_matches('/');
    let bad = |why: &str| {
        LoadTestError::invalid(
            "--host",
            format!("{host:?} {why}; give the server's base URL, e.g. http://127.0.0.1:8080"),
        )
    };
    if !(host.starts_with("http://") || host.starts_with("https://")) {
        return Err(bad("is not an http:// or https:// URL"));
    }
    let url = reqwest::Url::parse(host).map_err(|e| bad(&format!("is not a URL ({e})")))?;
    if url.host_str().is_none_or(str::is_empty) {
        return Err(bad("names no host"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(bad("has a query or fragment"));
    }
    Ok(host.to_string())
}

/// Asks the backend for its figures before any load: an error when it does not answer or does
/// not match the test (time scale, queues); otherwise the warnings to give before the run.
pub async fn preflight(
    host: &str,
    plan: &LoadPlan,
    target: &Target,
) -> Result<Vec<String>, LoadTestError> {
    let unreachable = |detail: String| LoadTestError::Unreachable {
        host: host.to_string(),
        detail,
    };
    let client = stats_client(CHECK_TIMEOUT)?;
    if target.stats.is_none() {
        // Nothing to compare: any answer at all says the backend is there.
        client
            .get(host)
            .send()
            .await
            .map_err(|e| unreachable(transport_cause(&e)))?;
        return Ok(vec![format!(
            "the target {} reads no figures of the backend (run.stats): its chat counts are not \
             checked against the test's",
            target.name
        )]);
    }
    match fetch_snapshot(&client, host, target).await {
        Err(detail) => Err(unreachable(detail)),
        Ok(None) => Ok(vec![format!(
            "the backend does not answer the target's run.stats as a success: its chat counts \
             are not checked against the test's"
        )]),
        Ok(Some(snapshot)) => check_snapshot(host, plan, &snapshot),
    }
}

/// The backend's figures against the plan: same time scale and every queue (else an error);
/// warnings for another profile name and for chats already in the system.
fn check_snapshot(
    host: &str,
    plan: &LoadPlan,
    snapshot: &ServerSnapshot,
) -> Result<Vec<String>, LoadTestError> {
    let mismatch = |detail: String| LoadTestError::Mismatch {
        host: host.to_string(),
        detail,
    };
    let scale = plan.window.time_scale;
    if let Some(theirs) = snapshot.time_scale
        && (theirs - scale).abs() > 1e-9 * scale.max(1.0)
    {
        return Err(mismatch(format!(
            "it runs at time scale {theirs} but --time-scale {scale} was given; use the same on both"
        )));
    }
    if let Some(queues) = &snapshot.queues {
        let missing: Vec<&str> = plan
            .profile
            .queues
            .iter()
            .map(|q| q.name.as_str())
            .filter(|q| !queues.iter().any(|t| t == q))
            .collect();
        if !missing.is_empty() {
            return Err(mismatch(format!(
                "its profile has no queue {} (it has {}); serve the profile the load test uses",
                missing.join(", "),
                queues.join(", ")
            )));
        }
    }
    let mut warnings = Vec::new();
    if let Some(profile) = &snapshot.profile
        && *profile != plan.profile.name
    {
        warnings.push(format!(
            "the server serves profile {profile:?}, the load test plays {:?}",
            plan.profile.name
        ));
    }
    if let Some(live) = snapshot.live().filter(|l| *l > 0) {
        let parts: Vec<String> = ["queued", "offered", "active", "live"]
            .iter()
            .filter_map(|k| snapshot.counts.get(*k).map(|n| format!("{n} {k}")))
            .collect();
        warnings.push(format!(
            "the server already holds {live} live chats ({}) before the test starts: its \
             counts will mix them with the test's; restart it for a clean run",
            parts.join(", ")
        ));
    }
    Ok(warnings)
}

/// A route-latency histogram (microseconds) from `[value, count]` pairs.
fn histogram_of(buckets: &[[u64; 2]]) -> Option<Histogram<u64>> {
    let mut hist = Histogram::<u64>::new(3).ok()?;
    hist.auto(true);
    for &[value, count] in buckets {
        hist.record_n(value, count).ok()?;
    }
    Some(hist)
}

/// The server's route latency over the run: the difference of its histogram after and before.
/// Without buckets it is the server's whole-life figure only when nothing was routed before
/// the run; otherwise `Err` says why it is left out.
pub(crate) fn route_latency_window(
    before: Option<&ServerSnapshot>,
    after: Option<&ServerSnapshot>,
) -> Result<Option<Latency>, String> {
    let (Some(before), Some(after)) = (before, after) else {
        return Ok(None);
    };
    let buckets = |s: &ServerSnapshot| histogram_of(s.route_latency_buckets.as_deref()?);
    let (Some(b), Some(mut a)) = (buckets(before), buckets(after)) else {
        return Ok(None);
    };
    a.subtract(&b).map_err(|_| {
        "the server's route-latency histogram shrank during the run (was it restarted?): \
         server_route_latency is left out"
            .to_string()
    })?;
    Ok(Some(Latency::of(&a)))
}
