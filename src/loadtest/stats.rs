//! What the load test learns from the server's own `GET /v1/stats`: before the banner, whether
//! the host is a URL, answers, and serves what the test plays (a server that already holds live
//! chats is named before the run starts); after the run, the server's route latency over the
//! test's window alone, from two snapshots of its histogram.

use std::time::Duration;

use hdrhistogram::Histogram;
use serde_json::Value;

use super::http::transport_cause;
use super::{LoadPlan, LoadTestError};
use crate::api::Latency as LatencyOut;

/// Longest wait for the server's first answer.
const CHECK_TIMEOUT: Duration = Duration::from_secs(10);

/// The stats path the run's snapshots read: with the route-latency histogram's buckets.
pub(crate) const SNAPSHOT_PATH: &str = "/v1/stats?buckets=true";

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

/// Asks the server for `/v1/stats` before any load: an error when it does not answer or does
/// not match the test (time scale, queues); otherwise the warnings to give before the run.
pub async fn preflight(host: &str, plan: &LoadPlan) -> Result<Vec<String>, LoadTestError> {
    let unreachable = |detail: String| LoadTestError::Unreachable {
        host: host.to_string(),
        detail,
    };
    let client = reqwest::Client::builder()
        .timeout(CHECK_TIMEOUT)
        .build()
        .map_err(|e| LoadTestError::Run(format!("cannot build an HTTP client: {e}")))?;
    let response = client
        .get(format!("{host}/v1/stats"))
        .send()
        .await
        .map_err(|e| unreachable(transport_cause(&e)))?;
    if !response.status().is_success() {
        return Ok(vec![format!(
            "the server answers GET /v1/stats with {}: its chat counts are not checked against \
             the test's",
            response.status()
        )]);
    }
    let bytes = response
        .bytes()
        .await
        .map_err(|e| unreachable(transport_cause(&e)))?;
    match serde_json::from_slice::<Value>(&bytes) {
        Ok(stats) => check_stats(host, plan, &stats),
        Err(_) => Ok(vec![
            "the server's GET /v1/stats is not JSON: its chat counts are not checked against the \
             test's"
                .to_string(),
        ]),
    }
}

/// The server's stats against the plan: same time scale and every queue (else an error);
/// warnings for another profile name and for chats already in the system.
fn check_stats(host: &str, plan: &LoadPlan, stats: &Value) -> Result<Vec<String>, LoadTestError> {
    let mismatch = |detail: String| LoadTestError::Mismatch {
        host: host.to_string(),
        detail,
    };
    let scale = plan.window.time_scale;
    if let Some(theirs) = stats["time_scale"].as_f64()
        && (theirs - scale).abs() > 1e-9 * scale.max(1.0)
    {
        return Err(mismatch(format!(
            "it runs at time scale {theirs} but --time-scale {scale} was given; use the same on both"
        )));
    }
    if let Some(queues) = stats["queues"].as_object() {
        let missing: Vec<&str> = plan
            .profile
            .queues
            .iter()
            .map(|q| q.name.as_str())
            .filter(|q| !queues.contains_key(*q))
            .collect();
        if !missing.is_empty() {
            let theirs: Vec<&str> = queues.keys().map(String::as_str).collect();
            return Err(mismatch(format!(
                "its profile has no queue {} (it has {}); serve the profile the load test uses",
                missing.join(", "),
                theirs.join(", ")
            )));
        }
    }
    let mut warnings = Vec::new();
    if let Some(name) = stats["profile"].as_str()
        && name != plan.profile.name
    {
        warnings.push(format!(
            "the server serves profile {name:?}, the load test plays {:?}",
            plan.profile.name
        ));
    }
    let [queued, offered, active] =
        ["queued", "offered", "active"].map(|k| stats["chats"][k].as_u64().unwrap_or(0));
    let live = queued + offered + active;
    if live > 0 {
        warnings.push(format!(
            "the server already holds {live} live chats ({queued} queued, {offered} offered, \
             {active} active) before the test starts: its counts will mix them with the test's; \
             restart it for a clean run"
        ));
    }
    Ok(warnings)
}

/// A route-latency histogram (microseconds) from `[value, count]` pairs.
fn histogram_of(buckets: &Value) -> Option<Histogram<u64>> {
    let mut hist = Histogram::<u64>::new(3).ok()?;
    hist.auto(true);
    for pair in buckets.as_array()? {
        let (value, count) = (pair[0].as_u64()?, pair[1].as_u64()?);
        hist.record_n(value, count).ok()?;
    }
    Some(hist)
}

/// The server's route latency over the run: the difference of its histogram after and before.
/// Without buckets it is the server's whole-life figure only when nothing was routed before
/// the run; otherwise `Err` says why it is left out.
pub(crate) fn route_latency_window(
    before: Option<&Value>,
    after: Option<&Value>,
) -> Result<Option<Value>, String> {
    let (Some(before), Some(after)) = (before, after) else {
        return Ok(None);
    };
    let buckets = |v: &Value| histogram_of(&v["route_latency_buckets"]);
    if let (Some(b), Some(mut a)) = (buckets(before), buckets(after)) {
        a.subtract(&b).map_err(|_| {
            "the server's route-latency histogram shrank during the run (was it restarted?): \
             server_route_latency is left out"
                .to_string()
        })?;
        return Ok(serde_json::to_value(LatencyOut::of(&a)).ok());
    }
    if before["route_latency"]["count"].as_u64() == Some(0) {
        return Ok(Some(after["route_latency"].clone()));
    }
    Err(
        "the server gives no route-latency buckets in GET /v1/stats?buckets=true and had routed \
         chats before the run: server_route_latency is left out rather than cover more than it"
            .to_string(),
    )
}
