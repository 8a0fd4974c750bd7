//! What the load test learns from the server's own `GET /v1/stats`: before the banner, whether
//! the host is a URL, answers, and serves what the test plays (a server that already holds live
//! chats is named before the run starts); after the run, the server's route latency over the
//! test's window alone, from two snapshots of its histogram.

use std::time::Duration;

use hdrhistogram::Histogram;

use super::client::transport_cause;
use super::{LoadPlan, LoadTestError};
use crate::api::{Latency, Stats};

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
    match serde_json::from_slice::<Stats>(&bytes) {
        Ok(stats) => check_stats(host, plan, &stats),
        Err(e) => Ok(vec![format!(
            "the server's GET /v1/stats is not the answer docs/api.md documents ({e}): its time \
             scale and queues are not checked, nor its chat counts against the test's"
        )]),
    }
}

/// The server's stats against the plan: same time scale and every queue (else an error);
/// warnings for another profile name and for chats already in the system.
fn check_stats(host: &str, plan: &LoadPlan, stats: &Stats) -> Result<Vec<String>, LoadTestError> {
    let mismatch = |detail: String| LoadTestError::Mismatch {
        host: host.to_string(),
        detail,
    };
    let scale = plan.window.time_scale;
    let theirs = stats.time_scale;
    if (theirs - scale).abs() > 1e-9 * scale.max(1.0) {
        return Err(mismatch(format!(
            "it runs at time scale {theirs} but --time-scale {scale} was given; use the same on both"
        )));
    }
    let missing: Vec<&str> = plan
        .profile
        .queues
        .iter()
        .map(|q| q.name.as_str())
        .filter(|q| !stats.queues.contains_key(*q))
        .collect();
    if !missing.is_empty() {
        let theirs: Vec<&str> = stats.queues.keys().map(String::as_str).collect();
        return Err(mismatch(format!(
            "its profile has no queue {} (it has {}); serve the profile the load test uses",
            missing.join(", "),
            theirs.join(", ")
        )));
    }
    let mut warnings = Vec::new();
    if stats.profile != plan.profile.name {
        warnings.push(format!(
            "the server serves profile {:?}, the load test plays {:?}",
            stats.profile, plan.profile.name
        ));
    }
    let (queued, offered, active) = (stats.chats.queued, stats.chats.offered, stats.chats.active);
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
    before: Option<&Stats>,
    after: Option<&Stats>,
) -> Result<Option<Latency>, String> {
    let (Some(before), Some(after)) = (before, after) else {
        return Ok(None);
    };
    let buckets = |s: &Stats| histogram_of(s.route_latency_buckets.as_deref()?);
    if let (Some(b), Some(mut a)) = (buckets(before), buckets(after)) {
        a.subtract(&b).map_err(|_| {
            "the server's route-latency histogram shrank during the run (was it restarted?): \
             server_route_latency is left out"
                .to_string()
        })?;
        return Ok(Some(Latency::of(&a)));
    }
    if before.route_latency.count == 0 {
        return Ok(Some(after.route_latency));
    }
    Err(
        "the server gives no route-latency buckets in GET /v1/stats?buckets=true and had routed \
         chats before the run: server_route_latency is left out rather than cover more than it"
            .to_string(),
    )
}
