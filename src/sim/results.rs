//! Aggregation of replications into the `chatcap simulate` report: per queue and interval, per
//! queue, overall, and agent-side figures, each a mean with a 95% confidence interval.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::metrics::{AgentKpis, AgentTally, Domain, Estimate, QueueKpis, QueueTally};

pub(crate) use super::document::INTERVAL_QUEUE_COLUMNS;
use super::targets::{occupancy_limits, occupancy_shortfall, queue_shortfalls};
use super::{Perf, ReplicationTallies, Scenario};

/// Queue-side figures over replications (DESIGN.md §4).
#[derive(Debug, Clone, Copy, Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct QueueFigures {
    /// Chats that arrived, per replication.
    pub arrivals: Estimate,
    /// Chats that entered the queue, per replication.
    pub offered: Estimate,
    /// Chats answered, per replication.
    pub answered: Estimate,
    /// Chats abandoned after the short-abandon time, per replication.
    pub abandoned: Estimate,
    /// Chats rejected by a full queue, per replication.
    pub rejected: Estimate,
    /// Answered within threshold / (answered + abandoned after short_abandon).
    pub service_level: Estimate,
    /// Answered within threshold / answered.
    pub service_level_answered: Estimate,
    /// Mean wait of answered chats, seconds.
    pub asa_secs: Estimate,
    /// Mean wait of all chats that left the queue, seconds.
    pub mean_wait_secs: Estimate,
    /// Abandoned after short_abandon / offered.
    pub abandon_rate: Estimate,
    /// Share that waited at all.
    pub prob_wait: Estimate,
    /// Median wait of answered chats, seconds.
    pub wait_p50_secs: Estimate,
    /// 90th percentile wait of answered chats, seconds.
    pub wait_p90_secs: Estimate,
    /// 99th percentile wait of answered chats, seconds.
    pub wait_p99_secs: Estimate,
    /// Mean first-response time (queued to first agent message), seconds.
    pub frt_secs: Estimate,
    /// 90th percentile first-response time, seconds.
    pub frt_p90_secs: Estimate,
    /// Mean answered-to-closed time, seconds.
    pub aht_secs: Estimate,
    /// Mean arrival-to-final-close time, seconds.
    pub art_secs: Estimate,
    /// Share of answered chats closed without a transfer.
    pub fcr: Estimate,
    /// Share of arrivals resolved by the bot.
    pub bot_resolved: Estimate,
    /// Share of answered chats transferred.
    pub transfer_rate: Estimate,
    /// Mean survey score (null where not modelled).
    pub csat: Estimate,
    /// Mean absolute error of the shown estimated wait, seconds.
    pub ewt_mae_secs: Estimate,
}

/// Agent-side figures over replications.
#[derive(Debug, Clone, Copy, Serialize, schemars::JsonSchema)]
pub struct AgentFigures {
    /// Mean agents on duty.
    pub staffed_agents: Estimate,
    /// Busy slot time / staffed slot time.
    pub occupancy: Estimate,
    /// Time with at least one chat / staffed time.
    pub utilization: Estimate,
    /// Mean active chats per staffed agent.
    pub mean_concurrency: Estimate,
}

/// Whole-day figures.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Summary {
    /// All queues together.
    pub overall: QueueFigures,
    /// Per queue, by name.
    pub queues: BTreeMap<String, QueueFigures>,
    /// All agent groups together.
    pub agents: AgentFigures,
    /// Per agent group, by name.
    pub groups: BTreeMap<String, AgentFigures>,
}

/// One queue in one interval (chats counted in the interval they arrived in).
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct IntervalRow {
    /// Clock time the interval starts, "HH:MM".
    pub start: String,
    /// Interval index from 0.
    pub interval: usize,
    /// Queue name.
    pub queue: String,
    /// The figures.
    #[serde(flatten)]
    pub figures: QueueFigures,
    /// The queue meets its targets in this interval (on the means).
    pub targets_met: bool,
    /// The targets missed, in words.
    pub shortfalls: Vec<String>,
}

/// One agent group in one interval.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct AgentIntervalRow {
    /// Clock time the interval starts, "HH:MM".
    pub start: String,
    /// Interval index from 0.
    pub interval: usize,
    /// Agent group name.
    pub group: String,
    /// Agents scheduled on duty.
    pub scheduled_agents: u32,
    /// The figures.
    #[serde(flatten)]
    pub figures: AgentFigures,
    /// The group's occupancy is within the strictest limit of the queues it serves.
    pub targets_met: bool,
    /// The limit missed, in words.
    pub shortfalls: Vec<String>,
}

/// Conservation counts summed over all replications.
#[derive(Debug, Clone, Copy, Default, Serialize, schemars::JsonSchema)]
pub struct ChatCounts {
    /// Customers that arrived (statistics window).
    pub arrivals: u64,
    /// Resolved by the bot.
    pub bot_resolved: u64,
    /// Entered a queue.
    pub offered: u64,
    /// Answered by an agent.
    pub answered: u64,
    /// Abandoned after the short-abandon time.
    pub abandoned: u64,
    /// Abandoned within the short-abandon time.
    pub short_abandoned: u64,
    /// Refused by a full queue.
    pub rejected: u64,
    /// Still waiting at the end with no agent left to serve them.
    pub stranded: u64,
}

/// The `chatcap simulate` result: the JSON contract of DESIGN.md §6.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct SimulationReport {
    /// Profile name.
    pub profile: String,
    /// Base seed.
    pub seed: u64,
    /// Replications run.
    pub replications: u32,
    /// Planning interval, seconds.
    pub interval_secs: f64,
    /// Whole-day figures.
    pub summary: Summary,
    /// One row per interval and queue.
    pub intervals: Vec<IntervalRow>,
    /// One row per interval and agent group.
    pub agent_intervals: Vec<AgentIntervalRow>,
    /// Conservation counts, all replications.
    pub chats: ChatCounts,
    /// Every queue meets its targets in every interval and over the whole day, and every
    /// group its occupancy limit (on the means).
    pub targets_met: bool,
    /// The targets missed over the whole day, per queue and group, in words.
    pub shortfalls: Vec<String>,
    /// Things the user should know (stranded chats, unstable intervals...).
    pub warnings: Vec<String>,
    /// Speed of the run.
    pub perf: Perf,
}

/// Percentile estimate: the point from the merged histogram, the interval from the spread of
/// per-replication percentiles.
fn percentile(merged: &QueueTally, per_rep: &[&QueueTally], q: f64, frt: bool) -> Estimate {
    let hist = |t: &QueueTally| {
        if frt {
            t.frt_hist().quantile_secs(q)
        } else {
            t.wait_hist().quantile_secs(q)
        }
    };
    let point = hist(merged);
    let spread = Estimate::from_samples(per_rep.iter().map(|t| hist(t)));
    if !point.is_finite() {
        return spread.within(Domain::NonNegative);
    }
    let half = (spread.ci_high - spread.ci_low) / 2.0;
    let half = if half.is_finite() { half } else { 0.0 };
    Estimate {
        mean: point,
        ci_low: point - half,
        ci_high: point + half,
    }
    .within(Domain::NonNegative)
}

/// Figures of one cell from its per-replication tallies.
pub(crate) fn queue_figures(per_rep: &[&QueueTally]) -> QueueFigures {
    let kpis: Vec<QueueKpis> = per_rep.iter().map(|t| QueueKpis::from_tally(t)).collect();
    let est = |f: fn(&QueueKpis) -> f64| {
        Estimate::from_samples_in(kpis.iter().map(f), Domain::NonNegative)
    };
    let share =
        |f: fn(&QueueKpis) -> f64| Estimate::from_samples_in(kpis.iter().map(f), Domain::Share);
    let mut merged = QueueTally::default();
    for t in per_rep {
        merged.merge(t);
    }
    QueueFigures {
        arrivals: est(|k| k.arrivals),
        offered: est(|k| k.offered),
        answered: est(|k| k.answered),
        abandoned: est(|k| k.abandoned),
        rejected: est(|k| k.rejected),
        service_level: share(|k| k.service_level),
        service_level_answered: share(|k| k.service_level_answered),
        asa_secs: est(|k| k.asa_secs),
        mean_wait_secs: est(|k| k.mean_wait_secs),
        abandon_rate: share(|k| k.abandon_rate),
        prob_wait: share(|k| k.prob_wait),
        wait_p50_secs: percentile(&merged, per_rep, 0.5, false),
        wait_p90_secs: percentile(&merged, per_rep, 0.9, false),
        wait_p99_secs: percentile(&merged, per_rep, 0.99, false),
        frt_secs: est(|k| k.frt_secs),
        frt_p90_secs: percentile(&merged, per_rep, 0.9, true),
        aht_secs: est(|k| k.aht_secs),
        art_secs: est(|k| k.art_secs),
        fcr: share(|k| k.fcr),
        bot_resolved: share(|k| k.bot_resolved),
        transfer_rate: share(|k| k.transfer_rate),
        csat: est(|k| k.csat),
        ewt_mae_secs: est(|k| k.ewt_mae_secs),
    }
}

/// Agent figures of one cell from its per-replication tallies over `span_secs`.
pub(crate) fn agent_figures(per_rep: &[AgentTally], span_secs: f64) -> AgentFigures {
    let kpis: Vec<AgentKpis> = per_rep
        .iter()
        .map(|t| AgentKpis::from_tally(t, span_secs))
        .collect();
    let est =
        |f: fn(&AgentKpis) -> f64, domain| Estimate::from_samples_in(kpis.iter().map(f), domain);
    AgentFigures {
        staffed_agents: est(|k| k.staffed_agents, Domain::NonNegative),
        occupancy: est(|k| k.occupancy, Domain::Share),
        utilization: est(|k| k.utilization, Domain::Share),
        mean_concurrency: est(|k| k.mean_concurrency, Domain::NonNegative),
    }
}

/// Sums the tallies selected by `pick` within one replication.
fn merge_queue(run: &ReplicationTallies, pick: impl Fn(usize) -> bool) -> QueueTally {
    let mut total = QueueTally::default();
    for (i, t) in run.queues.iter().enumerate() {
        if pick(i) {
            total.merge(t);
        }
    }
    total
}

fn merge_agents(run: &ReplicationTallies, pick: impl Fn(usize) -> bool) -> AgentTally {
    let mut total = AgentTally::default();
    for (i, t) in run.agents.iter().enumerate() {
        if pick(i) {
            total.merge(t);
        }
    }
    total
}

/// Aggregates replications into the report.
pub fn aggregate(sc: &Scenario, runs: &[ReplicationTallies], perf: Perf) -> SimulationReport {
    let warm = crate::scenario::to_secs(sc.warmup).min(sc.interval_secs * sc.intervals as f64);
    let day_secs = sc.interval_secs * sc.intervals as f64 - warm;
    let occupancy = occupancy_limits(sc);
    let intervals = queue_rows(sc, runs);
    let agent_intervals = agent_rows(sc, runs, warm, &occupancy);
    let summary = summary(sc, runs, day_secs);
    let chats = chat_counts(runs);
    let mut shortfalls: Vec<String> = sc
        .queues
        .iter()
        .flat_map(|q| queue_shortfalls(&q.name, &summary.queues[&q.name], &q.targets))
        .collect();
    shortfalls.extend(sc.groups.iter().enumerate().filter_map(|(g, group)| {
        occupancy_shortfall(&group.name, &summary.groups[&group.name], occupancy[g])
    }));
    let targets_met = shortfalls.is_empty() && missed_rows(&intervals, &agent_intervals).0 == 0;
    let mut warnings = Vec::new();
    if chats.stranded > 0 {
        warnings.push(format!(
            "{} chats were still waiting at the end of the day with no agent on duty who could \
             serve them; staff the last intervals or give the queue a patience",
            chats.stranded
        ));
    }
    if runs.len() < 2 {
        warnings.push(
            "one replication gives no confidence interval; use --replications 2 or more".into(),
        );
    }
    SimulationReport {
        profile: sc.name.clone(),
        seed: sc.seed,
        replications: runs.len() as u32,
        interval_secs: sc.interval_secs,
        summary,
        intervals,
        agent_intervals,
        chats,
        targets_met,
        shortfalls,
        warnings,
        perf,
    }
}

/// One row per interval and queue, judged against the queue's targets.
fn queue_rows(sc: &Scenario, runs: &[ReplicationTallies]) -> Vec<IntervalRow> {
    let nq = sc.queues.len();
    let mut intervals = Vec::with_capacity(sc.intervals * nq);
    for i in 0..sc.intervals {
        for (q, queue) in sc.queues.iter().enumerate() {
            let cells: Vec<&QueueTally> = runs.iter().map(|r| &r.queues[i * nq + q]).collect();
            let figures = queue_figures(&cells);
            let shortfalls = queue_shortfalls(&queue.name, &figures, &queue.targets);
            intervals.push(IntervalRow {
                start: sc.interval_start_text(i),
                interval: i,
                queue: queue.name.clone(),
                figures,
                targets_met: shortfalls.is_empty(),
                shortfalls,
            });
        }
    }
    intervals
}

/// One row per interval and agent group (the part of each interval after the warm-up `warm`
/// seconds), judged against the group's occupancy limit.
fn agent_rows(
    sc: &Scenario,
    runs: &[ReplicationTallies],
    warm: f64,
    occupancy: &[Option<f64>],
) -> Vec<AgentIntervalRow> {
    let ng = sc.groups.len();
    let mut agent_intervals = Vec::with_capacity(sc.intervals * ng);
    for i in 0..sc.intervals {
        let start = i as f64 * sc.interval_secs;
        let span = (start + sc.interval_secs - warm.max(start)).max(0.0);
        for (g, group) in sc.groups.iter().enumerate() {
            let cells: Vec<AgentTally> = runs.iter().map(|r| r.agents[i * ng + g]).collect();
            let figures = agent_figures(&cells, span);
            let shortfalls: Vec<String> = occupancy_shortfall(&group.name, &figures, occupancy[g])
                .into_iter()
                .collect();
            agent_intervals.push(AgentIntervalRow {
                start: sc.interval_start_text(i),
                interval: i,
                group: group.name.clone(),
                scheduled_agents: group.staffing.get(i).copied().unwrap_or(0),
                figures,
                targets_met: shortfalls.is_empty(),
                shortfalls,
            });
        }
    }
    agent_intervals
}

/// Whole-day figures: overall, per queue, all agents and per group over `day_secs`.
fn summary(sc: &Scenario, runs: &[ReplicationTallies], day_secs: f64) -> Summary {
    let (nq, ng) = (sc.queues.len(), sc.groups.len());
    let whole_day = |pick: &dyn Fn(usize) -> bool| -> QueueFigures {
        let merged: Vec<QueueTally> = runs.iter().map(|r| merge_queue(r, pick)).collect();
        queue_figures(&merged.iter().collect::<Vec<_>>())
    };
    let overall = whole_day(&|_| true);
    let queues: BTreeMap<String, QueueFigures> = sc
        .queues
        .iter()
        .enumerate()
        .map(|(q, queue)| (queue.name.clone(), whole_day(&|i| i % nq == q)))
        .collect();
    let all_agents: Vec<AgentTally> = runs.iter().map(|r| merge_agents(r, |_| true)).collect();
    let groups: BTreeMap<String, AgentFigures> = sc
        .groups
        .iter()
        .enumerate()
        .map(|(g, group)| {
            let cells: Vec<AgentTally> = runs
                .iter()
                .map(|r| merge_agents(r, |i| i % ng == g))
                .collect();
            (group.name.clone(), agent_figures(&cells, day_secs))
        })
        .collect();
    Summary {
        overall,
        queues,
        agents: agent_figures(&all_agents, day_secs),
        groups,
    }
}

/// Chats per outcome, summed over replications.
fn chat_counts(runs: &[ReplicationTallies]) -> ChatCounts {
    let mut chats = ChatCounts::default();
    for run in runs {
        let t = merge_queue(run, |_| true);
        chats.arrivals += t.arrivals();
        chats.bot_resolved += t.bot_resolved();
        chats.offered += t.offered();
        chats.answered += t.answered();
        chats.abandoned += t.abandoned();
        chats.short_abandoned += t.short_abandoned();
        chats.rejected += t.rejected();
        chats.stranded += t.stranded();
    }
    chats
}

/// Interval rows missing a target, and the first miss in words.
fn missed_rows(intervals: &[IntervalRow], agents: &[AgentIntervalRow]) -> (usize, Option<String>) {
    let misses = intervals
        .iter()
        .map(|r| (&r.start, &r.shortfalls))
        .chain(agents.iter().map(|r| (&r.start, &r.shortfalls)))
        .filter(|(_, s)| !s.is_empty());
    let (mut count, mut first) = (0, None);
    for (start, shortfalls) in misses {
        count += 1;
        first.get_or_insert_with(|| format!("{start} {}", shortfalls.join(", ")));
    }
    (count, first)
}

impl SimulationReport {
    /// The warning line when the profile's targets are missed.
    pub(crate) fn targets_warning(&self) -> Option<String> {
        let (count, first) = missed_rows(&self.intervals, &self.agent_intervals);
        if count == 0 && self.shortfalls.is_empty() {
            return None;
        }
        let mut text = format!(
            "the profile's targets are missed in {count} of {} interval rows",
            self.intervals.len() + self.agent_intervals.len()
        );
        if let Some(first) = first {
            text.push_str(&format!(" (first: {first})"));
        }
        if !self.shortfalls.is_empty() {
            text.push_str(&format!(
                "; over the whole day: {}",
                self.shortfalls.join("; ")
            ));
        }
        text.push_str(
            ". Judged on the means: see shortfalls, and the confidence intervals for how much \
             is noise; chatcap plan finds a staffing that meets them",
        );
        Some(text)
    }
}
