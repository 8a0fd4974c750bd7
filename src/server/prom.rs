//! `GET /metrics`: the server in the Prometheus text exposition format (version 0.0.4), so a
//! dashboard can chart a load test next to the backend's own metrics.
//!
//! Two sources end in one exposition: counters and gauges read from the desk's tallies at
//! scrape time (the same figures `/v1/stats` shows), and the live histograms of
//! [`super::telemetry`]. Both are taken in one actor step, so a scrape is consistent: e.g.
//! `chatcap_answered_total` equals `chatcap_wait_profile_seconds_count` for each queue. The
//! scrape-time families go through a registry of the `prometheus` crate built per scrape, so
//! names, label escaping and the format come from one encoder.
//!
//! The `queue` label only ever carries a profile's queue name: the figure over all queues is
//! a family of its own (`chatcap_service_level_overall`), so a queue may be named anything,
//! `all` included, without two series clashing.

use std::collections::BTreeMap;

use prometheus::proto::MetricFamily;
use prometheus::{Encoder, GaugeVec, IntCounterVec, Opts, Registry, TextEncoder};

use crate::api::Stats;

/// The `Content-Type` of the exposition format.
pub(super) const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// What one scrape reads from the desk, in one actor step.
pub(super) struct Snapshot {
    /// The `/v1/stats` figures.
    pub stats: Stats,
    /// Chats answered within their queue's threshold, by queue name.
    pub answered_within: BTreeMap<String, u64>,
    /// The live histograms.
    pub live: Vec<MetricFamily>,
}

/// A registry of the families read at scrape time.
struct Scrape(Registry);

impl Scrape {
    fn gauge(&self, name: &str, help: &str, labels: &[&str]) -> prometheus::Result<GaugeVec> {
        let gauge = GaugeVec::new(Opts::new(name, help), labels)?;
        self.0.register(Box::new(gauge.clone()))?;
        Ok(gauge)
    }

    fn counter(
        &self,
        name: &str,
        help: &str,
        labels: &[&str],
    ) -> prometheus::Result<IntCounterVec> {
        let counter = IntCounterVec::new(Opts::new(name, help), labels)?;
        self.0.register(Box::new(counter.clone()))?;
        Ok(counter)
    }
}

/// Renders a snapshot as Prometheus text. Fails only if a family were malformed.
pub(super) fn render(snapshot: Snapshot) -> prometheus::Result<String> {
    let scrape = Scrape(Registry::new());
    server_families(&scrape, &snapshot.stats)?;
    queue_families(&scrape, &snapshot)?;
    let mut families = scrape.0.gather();
    families.extend(snapshot.live);
    families.sort_by(|a, b| a.name().cmp(b.name()));
    let mut out = Vec::with_capacity(16 * 1024);
    TextEncoder::new().encode(&families, &mut out)?;
    String::from_utf8(out).map_err(|e| prometheus::Error::Msg(e.to_string()))
}

/// Uptime, time scale, chats by state, agents by status.
fn server_families(scrape: &Scrape, stats: &Stats) -> prometheus::Result<()> {
    let no_labels: [&str; 0] = [];
    scrape
        .gauge(
            "chatcap_uptime_wall_seconds",
            "Wall seconds since the server started.",
            &[],
        )?
        .with_label_values(&no_labels)
        .set(stats.uptime_secs);
    scrape
        .gauge(
            "chatcap_time_scale",
            "Profile seconds per wall second.",
            &[],
        )?
        .with_label_values(&no_labels)
        .set(stats.time_scale);
    let c = &stats.chats;
    scrape
        .counter(
            "chatcap_chats_created_total",
            "Chats created, rejected ones included.",
            &[],
        )?
        .with_label_values(&no_labels)
        .inc_by(c.created);
    let ended = scrape.counter(
        "chatcap_chats_ended_total",
        "Chats that ended, by terminal state.",
        &["state"],
    )?;
    for (state, n) in [
        ("closed", c.closed),
        ("abandoned", c.abandoned),
        ("rejected", c.rejected),
    ] {
        ended.with_label_values(&[state]).inc_by(n);
    }
    let live = scrape.gauge("chatcap_chats", "Chats in a live state now.", &["state"])?;
    for (state, n) in [
        ("queued", c.queued),
        ("offered", c.offered),
        ("active", c.active),
    ] {
        live.with_label_values(&[state]).set(n as f64);
    }
    let a = &stats.agents;
    let agents = scrape.gauge(
        "chatcap_agents",
        "Registered agents by status.",
        &["status"],
    )?;
    for (status, n) in [
        ("available", a.available),
        ("away", a.away),
        ("offline", a.offline),
        ("draining", a.draining),
    ] {
        agents.with_label_values(&[status]).set(n as f64);
    }
    Ok(())
}

/// Per-queue counters and gauges, and the overall service level.
fn queue_families(scrape: &Scrape, snapshot: &Snapshot) -> prometheus::Result<()> {
    let waiting = scrape.gauge(
        "chatcap_queue_waiting",
        "Chats waiting in the queue now.",
        &["queue"],
    )?;
    let answered = scrape.counter(
        "chatcap_answered_total",
        "Chats answered by an agent, per arrival queue.",
        &["queue"],
    )?;
    let within = scrape.counter(
        "chatcap_answered_within_threshold_total",
        "Chats answered within their queue's service-level threshold, per arrival queue.",
        &["queue"],
    )?;
    let abandoned = scrape.counter(
        "chatcap_abandoned_total",
        "Chats abandoned after the short-abandon time, per arrival queue.",
        &["queue"],
    )?;
    let rejected = scrape.counter(
        "chatcap_rejected_total",
        "Chats refused because the queue or the server was full, per queue.",
        &["queue"],
    )?;
    let service_level = scrape.gauge(
        "chatcap_service_level",
        "Answered within threshold over answered plus abandoned since start (DESIGN section 4); NaN before any.",
        &["queue"],
    )?;
    for (name, q) in &snapshot.stats.queues {
        let label = [name.as_str()];
        waiting.with_label_values(&label).set(q.waiting as f64);
        answered
            .with_label_values(&label)
            .inc_by(q.kpis.answered as u64);
        within
            .with_label_values(&label)
            .inc_by(snapshot.answered_within.get(name).copied().unwrap_or(0));
        abandoned
            .with_label_values(&label)
            .inc_by(q.kpis.abandoned as u64);
        rejected
            .with_label_values(&label)
            .inc_by(q.kpis.rejected as u64);
        service_level
            .with_label_values(&label)
            .set(q.kpis.service_level);
    }
    scrape
        .gauge(
            "chatcap_service_level_overall",
            "chatcap_service_level over all queues together; NaN before any.",
            &[],
        )?
        .with_label_values(&[] as &[&str])
        .set(snapshot.stats.overall.kpis.service_level);
    Ok(())
}
