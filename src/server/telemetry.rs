//! Live histograms behind `GET /metrics`: customer waits and first responses per queue, route
//! latency, and HTTP requests per method, route and status.
//!
//! Lifetime quantiles cannot be windowed or summed across instances; histograms with fixed
//! buckets can (`rate`, `sum by`, `histogram_quantile`). They are kept by the `prometheus`
//! crate rather than by hand: its histograms take observations from many tasks at once without
//! a lock, and its encoder writes, escaping included, the text format 0.0.4 that `/metrics`
//! documents (`prometheus-client` writes only OpenMetrics, another content type). Its
//! dependencies were already in the build.
//!
//! Every duration names its clock: `_profile_seconds` are profile seconds (wall × time scale,
//! comparable with `chatcap simulate`), `_wall_seconds` are real seconds. Buckets are fixed
//! ([`PROFILE_BUCKETS`], [`WALL_BUCKETS`]) so series from several servers add up. The HTTP
//! labels stay bounded: the route is the matched template (`/v1/chats/{id}`), never the raw
//! path, and `unmatched` for paths no route knows; the method is a standard one or `other`.

use std::sync::Arc;

use prometheus::proto::MetricFamily;
use prometheus::{Histogram, HistogramOpts, HistogramVec, IntCounterVec, Opts, Registry};

/// Upper bounds of the customer-time histograms (waits, first responses), profile seconds.
/// The usual service-level thresholds (20 s, 30 s, 60 s) are bounds.
pub const PROFILE_BUCKETS: [f64; 16] = [
    1.0, 5.0, 10.0, 15.0, 20.0, 30.0, 45.0, 60.0, 90.0, 120.0, 180.0, 300.0, 600.0, 900.0, 1800.0,
    3600.0,
];

/// Upper bounds of the server-time histograms (route latency, HTTP requests), wall seconds.
/// They reach 60 s because long-polls hold a request for up to 30 s.
pub const WALL_BUCKETS: [f64; 16] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
    60.0,
];

/// The `route` label of a request no route matched.
pub(super) const UNMATCHED_ROUTE: &str = "unmatched";

/// The live series of one server.
pub(super) struct Telemetry {
    registry: Registry,
    /// Per queue index, as the profile lists the queues.
    wait: Vec<Histogram>,
    /// Per queue index.
    first_response: Vec<Histogram>,
    route_latency: Histogram,
    http_requests: IntCounterVec,
    http_duration: HistogramVec,
}

fn histogram(
    name: &str,
    help: &str,
    buckets: &[f64],
    labels: &[&str],
) -> Result<HistogramVec, prometheus::Error> {
    HistogramVec::new(
        HistogramOpts::new(name, help).buckets(buckets.to_vec()),
        labels,
    )
}

impl Telemetry {
    /// Series for `queues` (the profile's queue names, in order), every one present from the
    /// start with zero counts, so a dashboard sees each queue before its first chat.
    pub(super) fn new(queues: &[String]) -> Result<Arc<Telemetry>, prometheus::Error> {
        let wait = histogram(
            "chatcap_wait_profile_seconds",
            "Wait of answered chats from queued to answered (first answer), profile seconds.",
            &PROFILE_BUCKETS,
            &["queue"],
        )?;
        let first_response = histogram(
            "chatcap_first_response_profile_seconds",
            "First-response time from queued to the agent's first message, profile seconds.",
            &PROFILE_BUCKETS,
            &["queue"],
        )?;
        let route_latency = histogram(
            "chatcap_route_latency_wall_seconds",
            "From a chat meeting a free agent slot to the offer reaching the agent, wall seconds.",
            &WALL_BUCKETS,
            &[],
        )?;
        let http_duration = histogram(
            "chatcap_http_request_duration_wall_seconds",
            "Time from a request reaching the router to its response, long-polls included, wall seconds.",
            &WALL_BUCKETS,
            &["method", "route", "status"],
        )?;
        let http_requests = IntCounterVec::new(
            Opts::new("chatcap_http_requests_total", "HTTP requests answered."),
            &["method", "route", "status"],
        )?;
        let registry = Registry::new();
        registry.register(Box::new(wait.clone()))?;
        registry.register(Box::new(first_response.clone()))?;
        registry.register(Box::new(route_latency.clone()))?;
        registry.register(Box::new(http_duration.clone()))?;
        registry.register(Box::new(http_requests.clone()))?;
        let per_queue = |vec: &HistogramVec| {
            queues
                .iter()
                .map(|q| vec.get_metric_with_label_values(&[q]))
                .collect::<Result<Vec<_>, _>>()
        };
        Ok(Arc::new(Telemetry {
            wait: per_queue(&wait)?,
            first_response: per_queue(&first_response)?,
            route_latency: route_latency.get_metric_with_label_values(&[] as &[&str])?,
            registry,
            http_requests,
            http_duration,
        }))
    }

    /// A chat of queue `queue` (index) was answered after `secs` profile seconds.
    pub(super) fn observe_wait(&self, queue: usize, secs: f64) {
        if let Some(h) = self.wait.get(queue) {
            h.observe(secs);
        }
    }

    /// A chat of queue `queue` (index) got its first response after `secs` profile seconds.
    pub(super) fn observe_first_response(&self, queue: usize, secs: f64) {
        if let Some(h) = self.first_response.get(queue) {
            h.observe(secs);
        }
    }

    /// An offer or assignment reached its agent `secs` wall seconds after the pairing.
    pub(super) fn observe_route_latency(&self, secs: f64) {
        self.route_latency.observe(secs);
    }

    /// A request with these labels (`status` as digits, e.g. `200`) took `secs` wall seconds.
    pub(super) fn observe_request(&self, method: &str, route: &str, status: &str, secs: f64) {
        let labels = [method, route, status];
        self.http_requests.with_label_values(&labels).inc();
        self.http_duration.with_label_values(&labels).observe(secs);
    }

    /// The live families, each sorted by label values.
    pub(super) fn gather(&self) -> Vec<MetricFamily> {
        self.registry.gather()
    }
}
