//! `GET /metrics`: the figures of `/v1/stats` in the Prometheus text exposition format
//! (version 0.0.4), so a scraper can chart a load test next to the backend's own metrics.

use std::fmt::Write;

use super::views::{QueueStatsOut, StatsOut};

/// The `Content-Type` of the exposition format.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// A label value with `\`, `"` and newlines escaped.
fn label(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// A sample value: Prometheus spells the special floats `NaN`, `+Inf`, `-Inf`.
fn number(v: f64) -> String {
    if v.is_nan() {
        "NaN".to_string()
    } else if v == f64::INFINITY {
        "+Inf".to_string()
    } else if v == f64::NEG_INFINITY {
        "-Inf".to_string()
    } else {
        format!("{v}")
    }
}

struct Writer(String);

impl Writer {
    fn family(&mut self, name: &str, kind: &str, help: &str) {
        let _ = writeln!(self.0, "# HELP {name} {help}");
        let _ = writeln!(self.0, "# TYPE {name} {kind}");
    }

    fn sample(&mut self, name: &str, labels: &[(&str, &str)], value: f64) {
        self.0.push_str(name);
        if !labels.is_empty() {
            let parts: Vec<String> = labels
                .iter()
                .map(|(k, v)| format!("{k}=\"{}\"", label(v)))
                .collect();
            let _ = write!(self.0, "{{{}}}", parts.join(","));
        }
        let _ = writeln!(self.0, " {}", number(value));
    }
}

/// Renders the stats as Prometheus text.
pub fn render(stats: &StatsOut) -> String {
    let mut w = Writer(String::with_capacity(4096));
    let queues: Vec<(&str, &QueueStatsOut)> =
        stats.queues.iter().map(|(n, q)| (n.as_str(), q)).collect();

    w.family(
        "chatcap_uptime_seconds",
        "gauge",
        "Wall seconds since the server started.",
    );
    w.sample("chatcap_uptime_seconds", &[], stats.uptime_secs);
    w.family(
        "chatcap_time_scale",
        "gauge",
        "Profile seconds per wall second.",
    );
    w.sample("chatcap_time_scale", &[], stats.time_scale);

    let c = &stats.chats;
    w.family(
        "chatcap_chats_created_total",
        "counter",
        "Chats created, rejected ones included.",
    );
    w.sample("chatcap_chats_created_total", &[], c.created as f64);
    w.family(
        "chatcap_chats_ended_total",
        "counter",
        "Chats that ended, by terminal state.",
    );
    for (state, n) in [
        ("closed", c.closed),
        ("abandoned", c.abandoned),
        ("rejected", c.rejected),
    ] {
        w.sample("chatcap_chats_ended_total", &[("state", state)], n as f64);
    }
    w.family("chatcap_chats", "gauge", "Chats in a live state now.");
    for (state, n) in [
        ("queued", c.queued),
        ("offered", c.offered),
        ("active", c.active),
    ] {
        w.sample("chatcap_chats", &[("state", state)], n as f64);
    }

    let a = &stats.agents;
    w.family("chatcap_agents", "gauge", "Registered agents by status.");
    for (status, n) in [
        ("available", a.available),
        ("away", a.away),
        ("offline", a.offline),
        ("draining", a.draining),
    ] {
        w.sample("chatcap_agents", &[("status", status)], n as f64);
    }

    w.family(
        "chatcap_queue_waiting",
        "gauge",
        "Chats waiting in the queue now.",
    );
    for (name, q) in &queues {
        w.sample(
            "chatcap_queue_waiting",
            &[("queue", name)],
            q.waiting as f64,
        );
    }
    w.family(
        "chatcap_answered_total",
        "counter",
        "Chats answered by an agent, per arrival queue.",
    );
    for (name, q) in &queues {
        w.sample(
            "chatcap_answered_total",
            &[("queue", name)],
            q.kpis.answered,
        );
    }
    w.family(
        "chatcap_abandoned_total",
        "counter",
        "Chats abandoned after the short-abandon time, per arrival queue.",
    );
    for (name, q) in &queues {
        w.sample(
            "chatcap_abandoned_total",
            &[("queue", name)],
            q.kpis.abandoned,
        );
    }
    w.family(
        "chatcap_service_level",
        "gauge",
        "Answered within threshold over answered plus abandoned (DESIGN section 4); NaN before any.",
    );
    w.sample(
        "chatcap_service_level",
        &[("queue", "all")],
        stats.overall.kpis.service_level,
    );
    for (name, q) in &queues {
        w.sample(
            "chatcap_service_level",
            &[("queue", name)],
            q.kpis.service_level,
        );
    }

    w.family(
        "chatcap_wait_seconds",
        "summary",
        "Wait of answered chats from queued to answered, in profile seconds.",
    );
    for (name, q) in &queues {
        let k = &q.kpis;
        for (quantile, v) in [("0.5", q.wait_p50_secs), ("0.9", q.wait_p90_secs)] {
            w.sample(
                "chatcap_wait_seconds",
                &[("queue", name), ("quantile", quantile)],
                v,
            );
        }
        let sum = if k.answered > 0.0 {
            k.asa_secs * k.answered
        } else {
            0.0
        };
        w.sample("chatcap_wait_seconds_sum", &[("queue", name)], sum);
        w.sample("chatcap_wait_seconds_count", &[("queue", name)], k.answered);
    }

    let r = &stats.route_latency;
    w.family(
        "chatcap_route_latency_seconds",
        "summary",
        "From a chat meeting a free agent slot to the offer reaching the agent, wall seconds.",
    );
    for (quantile, v) in [("0.5", r.p50_ms), ("0.9", r.p90_ms), ("0.99", r.p99_ms)] {
        w.sample(
            "chatcap_route_latency_seconds",
            &[("quantile", quantile)],
            v / 1000.0,
        );
    }
    let sum = if r.count > 0 {
        r.mean_ms * r.count as f64 / 1000.0
    } else {
        0.0
    };
    w.sample("chatcap_route_latency_seconds_sum", &[], sum);
    w.sample("chatcap_route_latency_seconds_count", &[], r.count as f64);
    w.0
}
