//! `GET /metrics` read by a strict Prometheus text-format parser (`openmetrics-parser`, which
//! refuses malformed lines, duplicate series, non-cumulative buckets and histograms without
//! `+Inf`), then checked family by family: types, fixed buckets, `_count` equal to the `+Inf`
//! bucket, clock suffixes on every duration, bounded route labels, and figures that move with
//! the traffic sent.

use std::collections::BTreeSet;

use chatcap::server::{PROFILE_BUCKETS, WALL_BUCKETS};
use openmetrics_parser::prometheus::parse_prometheus;
use openmetrics_parser::{
    HistogramValue, MetricFamily, MetricsExposition, PrometheusType, PrometheusValue,
};
use reqwest::StatusCode;
use serde_json::json;

use super::{TOKEN, TestServer, start_with, str_of};

type Exposition = MetricsExposition<PrometheusType, PrometheusValue>;
type Family = MetricFamily<PrometheusType, PrometheusValue>;

/// A queue named `all` beside `orders`; `all` holds one waiting chat at most and no agent
/// serves it, so a second chat there is rejected.
const PROFILE: &str = r#"
name = "metrics test"
interval = "30m"
intervals = 1

[targets]
threshold = "30s"

[routing]
accept = { timeout = "30s", misses_before_away = 1 }

[[queues]]
name = "orders"
volume = 10
handle_time = { dist = "exponential", mean = "5m" }

[[queues]]
name = "all"
volume = 5
handle_time = { dist = "exponential", mean = "5m" }
max_queue = 1

[[agents]]
name = "tier1"
skills = ["orders"]
concurrency = 2

[[agents]]
name = "vip"
skills = ["all"]
concurrency = 1
"#;

/// Scrapes `/metrics` and parses it strictly; returns the text too, for failure messages.
async fn scrape(ts: &TestServer) -> (Exposition, String) {
    let resp = ts.get("/metrics").send().await.expect("metrics");
    assert_eq!(resp.status(), StatusCode::OK);
    let content_type = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    assert!(
        content_type.starts_with("text/plain; version=0.0.4"),
        "{content_type}"
    );
    let text = resp.text().await.expect("text");
    let exposition = parse_prometheus(&text)
        .unwrap_or_else(|e| panic!("a Prometheus parser refuses /metrics: {e:?}\n{text}"));
    (exposition, text)
}

fn family<'a>(e: &'a Exposition, name: &str, kind: PrometheusType) -> &'a Family {
    let f = e
        .families
        .get(name)
        .unwrap_or_else(|| panic!("no family {name}"));
    assert_eq!(f.family_type, kind, "type of {name}");
    assert!(!f.help.is_empty(), "{name} has a HELP text");
    f
}

/// The value of the one sample of `name` whose labels include `labels`.
fn value(e: &Exposition, name: &str, labels: &[(&str, &str)]) -> f64 {
    let f = &e.families[name];
    let mut found = f.iter_samples().filter(|s| {
        let set = s.get_labelset().expect("labels");
        labels
            .iter()
            .all(|(k, v)| set.get_label_value(k) == Some(*v))
    });
    let sample = found
        .next()
        .unwrap_or_else(|| panic!("no sample of {name} with {labels:?}"));
    assert!(found.next().is_none(), "one sample of {name} {labels:?}");
    match &sample.value {
        PrometheusValue::Counter(c) => c.value.as_f64(),
        PrometheusValue::Gauge(g) => g.as_f64(),
        other => panic!("{name} is not a counter or gauge: {other:?}"),
    }
}

fn histogram(e: &Exposition, name: &str, labels: &[(&str, &str)]) -> HistogramValue {
    let f = family(e, name, PrometheusType::Histogram);
    let sample = f
        .iter_samples()
        .find(|s| {
            let set = s.get_labelset().expect("labels");
            labels
                .iter()
                .all(|(k, v)| set.get_label_value(k) == Some(*v))
        })
        .unwrap_or_else(|| panic!("no {name} with {labels:?}"));
    match &sample.value {
        PrometheusValue::Histogram(h) => h.clone(),
        other => panic!("{name} is not a histogram: {other:?}"),
    }
}

/// Every histogram: its family's fixed buckets in order, cumulative counts, `_count` equal to
/// the `+Inf` bucket, a non-negative `_sum`. Every duration family names its clock.
fn check_families(e: &Exposition) {
    for (name, f) in &e.families {
        if name.contains("seconds") {
            assert!(
                name.ends_with("_profile_seconds") || name.ends_with("_wall_seconds"),
                "{name} says which clock its seconds are"
            );
        }
        if f.family_type != PrometheusType::Histogram {
            continue;
        }
        let bounds: &[f64] = if name.ends_with("_profile_seconds") {
            &PROFILE_BUCKETS
        } else {
            assert!(name.ends_with("_wall_seconds"), "{name}");
            &WALL_BUCKETS
        };
        for sample in f.iter_samples() {
            let PrometheusValue::Histogram(h) = &sample.value else {
                panic!("{name}: a histogram sample");
            };
            let les: Vec<f64> = h.buckets.iter().map(|b| b.upper_bound).collect();
            let mut expected = bounds.to_vec();
            expected.push(f64::INFINITY);
            assert_eq!(les, expected, "{name}: fixed buckets in order");
            let counts: Vec<f64> = h.buckets.iter().map(|b| b.count.as_f64()).collect();
            assert!(
                counts.windows(2).all(|w| w[0] <= w[1]),
                "{name}: cumulative {counts:?}"
            );
            let count = h.count.expect("_count") as f64;
            assert_eq!(counts.last().copied(), Some(count), "{name}: +Inf = _count");
            assert!(h.sum.expect("_sum").as_f64() >= 0.0, "{name}: _sum");
        }
    }
}

fn count(h: &HistogramValue) -> u64 {
    h.count.expect("_count")
}

/// Labels of every sample of a family, as `key=value` strings.
fn label_values(e: &Exposition, name: &str, key: &str) -> BTreeSet<String> {
    e.families[name]
        .iter_samples()
        .filter_map(|s| {
            s.get_labelset()
                .ok()?
                .get_label_value(key)
                .map(str::to_string)
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_histograms_parse_strictly_and_move_with_traffic() {
    let ts = start_with(PROFILE, Some(TOKEN), 1.0).await;
    let (before, _) = scrape(&ts).await;
    check_families(&before);
    for queue in ["orders", "all"] {
        let wait = histogram(&before, "chatcap_wait_profile_seconds", &[("queue", queue)]);
        assert_eq!(count(&wait), 0, "{queue}: present before its first chat");
        assert_eq!(
            value(&before, "chatcap_rejected_total", &[("queue", queue)]),
            0.0
        );
    }
    assert_eq!(
        count(&histogram(
            &before,
            "chatcap_route_latency_wall_seconds",
            &[]
        )),
        0
    );

    // Traffic: one chat answered in `orders` with a first response, two chats in `all` (the
    // second refused: the queue is full), one unknown path.
    ts.login("tier1-1").await;
    let chat = ts.active_chat("tier1-1", "orders").await;
    let resp = ts
        .agent_post(
            "tier1-1",
            &format!("/v1/chats/{}/messages", str_of(&chat["id"])),
        )
        .json(&json!({"text": "Hello"}))
        .send()
        .await
        .expect("agent message");
    assert_eq!(resp.status(), StatusCode::CREATED);
    ts.create_chat("all").await;
    let resp = ts
        .post("/v1/chats")
        .json(&json!({"queue": "all"}))
        .send()
        .await
        .expect("create");
    assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
    let resp = ts
        .get("/v1/nowhere/c-1")
        .send()
        .await
        .expect("unknown path");
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);

    let (after, text) = scrape(&ts).await;
    check_families(&after);
    let orders = [("queue", "orders")];
    let wait = histogram(&after, "chatcap_wait_profile_seconds", &orders);
    assert_eq!(count(&wait), 1, "{text}");
    assert_eq!(value(&after, "chatcap_answered_total", &orders), 1.0);
    assert_eq!(
        value(&after, "chatcap_answered_within_threshold_total", &orders),
        1.0
    );
    // Answered within moments: the 5 s bucket holds it.
    assert_eq!(wait.buckets[1].upper_bound, 5.0);
    assert_eq!(wait.buckets[1].count.as_f64(), 1.0, "{text}");
    let frt = histogram(&after, "chatcap_first_response_profile_seconds", &orders);
    assert_eq!(count(&frt), 1);
    let route = histogram(&after, "chatcap_route_latency_wall_seconds", &[]);
    assert_eq!(count(&route), 1);
    assert!(route.sum.expect("_sum").as_f64() < 5.0, "{text}");
    assert_eq!(
        value(&after, "chatcap_rejected_total", &[("queue", "all")]),
        1.0
    );
    assert_eq!(value(&after, "chatcap_rejected_total", &orders), 0.0);
    assert_eq!(
        value(&after, "chatcap_queue_waiting", &[("queue", "all")]),
        1.0
    );

    // HTTP: one series per method, route template and status; counts match the histogram.
    family(
        &after,
        "chatcap_http_requests_total",
        PrometheusType::Counter,
    );
    let routes = label_values(&after, "chatcap_http_requests_total", "route");
    for route in [
        "/v1/chats",
        "/v1/chats/{id}/messages",
        "/v1/agents/{id}/offers",
        "/v1/offers/{id}/accept",
        "/metrics",
        "unmatched",
    ] {
        assert!(routes.contains(route), "route {route} in {routes:?}");
    }
    assert!(
        routes
            .iter()
            .all(|r| r == "unmatched" || r.starts_with('/') && !r.contains("c-1")),
        "templates only: {routes:?}"
    );
    let created = [
        ("method", "POST"),
        ("route", "/v1/chats"),
        ("status", "201"),
    ];
    assert_eq!(value(&after, "chatcap_http_requests_total", &created), 2.0);
    let refused = [
        ("method", "POST"),
        ("route", "/v1/chats"),
        ("status", "503"),
    ];
    assert_eq!(value(&after, "chatcap_http_requests_total", &refused), 1.0);
    let unmatched = [("route", "unmatched"), ("status", "404")];
    assert_eq!(
        value(&after, "chatcap_http_requests_total", &unmatched),
        1.0
    );
    for sample in after.families["chatcap_http_requests_total"].iter_samples() {
        let set = sample.get_labelset().expect("labels");
        let labels: Vec<(&str, &str)> = ["method", "route", "status"]
            .iter()
            .map(|k| (*k, set.get_label_value(k).expect("label")))
            .collect();
        let PrometheusValue::Counter(n) = &sample.value else {
            panic!("a counter");
        };
        let h = histogram(
            &after,
            "chatcap_http_request_duration_wall_seconds",
            &labels,
        );
        assert_eq!(count(&h) as f64, n.value.as_f64(), "{labels:?}");
    }

    // Counters only grow: a later scrape counts the scrape before it.
    let (later, _) = scrape(&ts).await;
    let scrapes = [("route", "/metrics"), ("status", "200")];
    assert_eq!(
        value(&later, "chatcap_http_requests_total", &scrapes),
        value(&after, "chatcap_http_requests_total", &scrapes) + 1.0
    );
    ts.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_queue_named_all_has_one_series_per_queue() {
    let ts = start_with(PROFILE, Some(TOKEN), 1.0).await;
    // The strict parser refuses two samples with one label set.
    let (e, text) = scrape(&ts).await;
    family(&e, "chatcap_service_level", PrometheusType::Gauge);
    let queues = label_values(&e, "chatcap_service_level", "queue");
    assert_eq!(
        queues,
        BTreeSet::from(["all".to_string(), "orders".to_string()]),
        "{text}"
    );
    assert_eq!(
        e.families["chatcap_service_level"].iter_samples().count(),
        2
    );
    family(&e, "chatcap_service_level_overall", PrometheusType::Gauge);
    assert!(
        value(&e, "chatcap_service_level_overall", &[]).is_nan(),
        "{text}"
    );
    ts.stop().await;
}
