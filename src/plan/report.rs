//! The `chatcap plan` result: staffing per interval and agent group, rostered headcount, totals,
//! and the figures the staffing achieves in an independent simulation of the day, each with a
//! 95% confidence interval. The struct is the JSON contract (DESIGN.md §6).
//!
//! Each row names its binding target (the one with the least room, met or not) and the margin,
//! so a reader sees why a row needs its agents, or why it misses, without opening the JSON. How
//! the report reads as tables and charts is in `document.rs`.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::erlang::rostered;
use crate::metrics::{Estimate, QueueTally, Targets};
use crate::profile::Profile;
use crate::sim::SimulationReport;
use crate::sim::results::{AgentFigures, QueueFigures, Summary, queue_figures};
use crate::sim::{Perf, ReplicationTallies, Scenario, Staffing, aggregate};

use super::judge::IntervalTargets;
use super::search::{SearchMode, SearchOutcome, Unreachable};
use super::{PlanError, PlanOptions, PlanTimes};

/// One agent group in one interval.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct PlanRow {
    /// Clock time the interval starts, "HH:MM".
    pub start: String,
    /// Interval index from 0.
    pub interval: usize,
    /// Agent group name.
    pub group: String,
    /// Queues the group serves.
    pub queues: Vec<String>,
    /// Closed-form staffing (balanced-pool model), the search's starting point.
    pub analytic_agents: u32,
    /// Fewest agents on duty meeting the targets, verified by simulation.
    pub required_agents: u32,
    /// Headcount to roster after shrinkage.
    pub rostered_agents: u32,
    /// True when the verification run added agents to the search's answer.
    pub raised_by_verification: bool,
    /// Every target of the served queues and the group's occupancy limit is met.
    pub targets_met: bool,
    /// The targets missed, in words.
    pub shortfalls: Vec<String>,
    /// The target with the least room, met or not, named by the figure it judges:
    /// `service_level`, `abandon_rate`, `asa_secs` (the queue's `max_asa`) or `occupancy`
    /// (the group's `max_occupancy`); null when no judged figure was measured.
    pub binding: Option<Constraint>,
    /// The queue whose target binds; null for occupancy, the group's own limit.
    pub binding_queue: Option<String>,
    /// How far the binding figure's mean is from its target, in the target's units (a share
    /// for service level, abandon rate and occupancy; seconds for ASA): positive is room left,
    /// negative a miss by that much.
    pub margin: Option<f64>,
    /// Queue-side figures over the queues served (all of their chats, whichever group
    /// answered them).
    #[serde(flatten)]
    pub figures: QueueFigures,
    /// Agent-side figures of the group.
    #[serde(flatten)]
    pub agents: AgentFigures,
}

/// A target a plan row is judged on, named by the figure it judges.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Constraint {
    /// The queue's service-level target.
    ServiceLevel,
    /// The queue's `max_abandon`.
    AbandonRate,
    /// The queue's `max_asa`.
    AsaSecs,
    /// The agent group's `max_occupancy`.
    Occupancy,
}

/// The binding target of a plan row: constraint, queue, margin.
type Binding = (Constraint, Option<String>, f64);

/// The target with the least room relative to its size among the queues `served` (figures of
/// this interval in `queues`, indexed by queue) and the group's occupancy limit.
fn binding(
    served: &[usize],
    queues: &[QueuePlanRow],
    targets: &IntervalTargets,
    occupancy: (Option<f64>, &Estimate),
) -> Option<Binding> {
    let mut best: Option<(f64, Binding)> = None;
    let mut consider = |constraint, queue: Option<&str>, margin: f64, target: f64| {
        if !margin.is_finite() {
            return;
        }
        let relative = if target > 0.0 {
            margin / target
        } else {
            margin
        };
        if best.as_ref().is_none_or(|(least, _)| relative < *least) {
            best = Some((relative, (constraint, queue.map(String::from), margin)));
        }
    };
    for &q in served {
        let t = &targets.queues[q];
        let (sl, max_abandon, max_asa) = (t.service_level, t.max_abandon, t.max_asa_secs);
        let (f, name) = (&queues[q].figures, Some(queues[q].queue.as_str()));
        consider(
            Constraint::ServiceLevel,
            name,
            f.service_level.mean - sl,
            sl,
        );
        if let Some(max) = max_abandon {
            consider(
                Constraint::AbandonRate,
                name,
                max - f.abandon_rate.mean,
                max,
            );
        }
        if let Some(max) = max_asa {
            consider(Constraint::AsaSecs, name, max - f.asa_secs.mean, max);
        }
    }
    if let (Some(limit), occupancy) = occupancy {
        consider(Constraint::Occupancy, None, limit - occupancy.mean, limit);
    }
    best.map(|(_, b)| b)
}

/// One queue in one interval.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct QueuePlanRow {
    /// Clock time the interval starts, "HH:MM".
    pub start: String,
    /// Interval index from 0.
    pub interval: usize,
    /// Queue name.
    pub queue: String,
    /// Service level, max abandon and max ASA of the queue are met.
    pub targets_met: bool,
    /// The figures.
    #[serde(flatten)]
    pub figures: QueueFigures,
}

/// The targets of one queue.
#[derive(Debug, Clone, Copy, Serialize, schemars::JsonSchema)]
pub struct QueueTargets {
    /// Least share answered within the threshold.
    pub service_level: f64,
    /// Service-level threshold, seconds.
    pub threshold_secs: f64,
    /// Most abandons allowed, share of offered.
    pub max_abandon: Option<f64>,
    /// Most occupancy allowed for the agents serving the queue.
    pub max_occupancy: Option<f64>,
    /// Longest average speed of answer allowed, seconds.
    pub max_asa_secs: Option<f64>,
}

impl QueueTargets {
    /// The report's view of a queue's targets.
    fn of(t: &Targets) -> QueueTargets {
        QueueTargets {
            service_level: t.service_level,
            threshold_secs: t.threshold_secs,
            max_abandon: t.max_abandon,
            max_occupancy: t.max_occupancy,
            max_asa_secs: t.max_asa_secs,
        }
    }
}

/// Day totals of one agent group, or of all of them.
#[derive(Debug, Clone, Copy, Default, Serialize, schemars::JsonSchema)]
pub struct Totals {
    /// Sum over intervals of required agents x interval length, hours.
    pub agent_hours: f64,
    /// The same for rostered agents (shrinkage included), hours.
    pub rostered_agent_hours: f64,
    /// Rostered agent hours / paid hours per FTE.
    pub fte: f64,
    /// Most required agents in one interval.
    pub peak_required: u32,
    /// Most rostered agents in one interval.
    pub peak_rostered: u32,
    /// Agent hours of the closed-form staffing, for comparison.
    pub analytic_agent_hours: f64,
    /// Rostered agent hours times the group's `cost_per_hour` (1 unless the profile says
    /// otherwise): what the plan minimises across groups.
    pub cost: f64,
}

/// Day totals.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct PlanTotals {
    /// All groups together (peaks are of the per-interval sums).
    #[serde(flatten)]
    pub all: Totals,
    /// Paid hours per FTE used for `fte`.
    pub fte_hours: f64,
    /// Per agent group, by name.
    pub groups: BTreeMap<String, Totals>,
}

/// Timing and effort of the plan.
#[derive(Debug, Clone, Copy, Serialize, schemars::JsonSchema)]
pub struct PlanPerf {
    /// Candidate staffings simulated by the search.
    pub evaluations: u64,
    /// Replications simulated for those candidates, all together: each runs on the first few
    /// and on more only while its verdict is open.
    pub evaluation_replications: u64,
    /// How candidates were evaluated.
    pub search: SearchMode,
    /// Seconds for the closed-form seed.
    pub analytic_secs: f64,
    /// Seconds for the simulated search.
    pub search_secs: f64,
    /// Seconds for the verification runs.
    pub verify_secs: f64,
    /// Wall-clock seconds in all.
    pub elapsed_secs: f64,
    /// Worker threads.
    pub threads: usize,
    /// Chats of the final verification run per second of verification (repairs included).
    pub chats_per_sec: f64,
}

/// An interval whose targets no staffing within the search limit meets.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct UnreachableInterval {
    /// Clock time the interval starts, "HH:MM".
    pub start: String,
    /// Interval index from 0.
    pub interval: usize,
    /// The targets missed with the largest staffing tried, in words.
    pub reasons: Vec<String>,
    /// The staffing the plan keeps, per group: more agents stop helping beyond it (it meets
    /// what the largest staffing tried meets, and no missed figure is significantly better
    /// there, on the same customers).
    pub kept_agents: BTreeMap<String, u32>,
    /// The largest staffing tried, per group.
    pub limit_agents: BTreeMap<String, u32>,
}

impl UnreachableInterval {
    fn of(u: &Unreachable, profile: &Profile, sc: &Scenario) -> UnreachableInterval {
        let by_group = |v: &[u32]| {
            profile
                .agents
                .iter()
                .zip(v)
                .map(|(g, &n)| (g.name.clone(), n))
                .collect()
        };
        UnreachableInterval {
            start: sc.interval_start_text(u.interval),
            interval: u.interval,
            reasons: u.reasons.clone(),
            kept_agents: by_group(&u.kept),
            limit_agents: by_group(&u.limit),
        }
    }

    /// The warning line of this interval.
    fn warning(&self) -> String {
        let list = |m: &BTreeMap<String, u32>| {
            m.iter()
                .map(|(g, n)| format!("{g}={n}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        format!(
            "interval {}: no staffing up to the search limit meets every target: with the \
             largest tried ({}), {}. The plan keeps {}, beyond which more agents stop \
             helping. Relax the targets of that interval, or check its volume and the queue's \
             patience",
            self.start,
            list(&self.limit_agents),
            self.reasons.join("; "),
            list(&self.kept_agents)
        )
    }
}

/// The `chatcap plan` result.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct PlanReport {
    /// Profile name.
    pub profile: String,
    /// Seed of the search.
    pub seed: u64,
    /// Seed of the verification run (independent of the search's): its repairs are judged on
    /// it and its figures, for the final staffing, are the ones reported.
    pub verification_seed: u64,
    /// Replications per evaluation and per verification run.
    pub replications: u32,
    /// Planning interval, seconds.
    pub interval_secs: f64,
    /// Targets judged on the 95% confidence bound (true) or on the mean (false).
    pub confidence: bool,
    /// The targets of each queue, by name.
    pub targets: BTreeMap<String, QueueTargets>,
    /// Every interval meets every target in the verification run (judged on the means: an
    /// independent run's confidence bound is not expected to clear a target the search cleared
    /// with its own bound).
    pub targets_met: bool,
    /// Intervals where no staffing up to the search limit meets every target, and why.
    pub unreachable: Vec<UnreachableInterval>,
    /// One row per interval and agent group.
    pub intervals: Vec<PlanRow>,
    /// One row per interval and queue.
    pub queues: Vec<QueuePlanRow>,
    /// Day totals.
    pub totals: PlanTotals,
    /// Whole-day figures of the verification run.
    pub summary: Summary,
    /// Things the planner should know.
    pub warnings: Vec<String>,
    /// Timing and effort.
    pub perf: PlanPerf,
}

/// What [`build`] assembles.
pub(crate) struct Inputs<'a> {
    pub profile: &'a Profile,
    pub scenario: &'a Scenario,
    pub options: PlanOptions,
    pub seed: &'a Staffing,
    pub outcome: &'a SearchOutcome,
    pub staffing: &'a Staffing,
    pub repaired: &'a [(usize, usize)],
    pub runs: &'a [ReplicationTallies],
    pub report_seed: u64,
    pub targets: &'a IntervalTargets,
    pub times: PlanTimes,
    pub verify_perf: Perf,
    pub elapsed_secs: f64,
    pub threads: usize,
}

/// Assembles the report from the verification run.
pub(crate) fn build(x: Inputs<'_>) -> Result<PlanReport, PlanError> {
    let (profile, sc) = (x.profile, x.scenario);
    // The simulator's own figures per interval (queue-major within an interval, as tallied).
    let day = aggregate(sc, x.runs, x.verify_perf);
    let queues: Vec<QueuePlanRow> = day
        .intervals
        .iter()
        .map(|row| QueuePlanRow {
            start: row.start.clone(),
            interval: row.interval,
            queue: row.queue.clone(),
            targets_met: row.targets_met,
            figures: row.figures,
        })
        .collect();
    let mut rows = Vec::with_capacity(profile.intervals * sc.groups.len());
    for i in 0..profile.intervals {
        for g in 0..profile.agents.len() {
            rows.push(group_row(&x, &day, &queues, i, g)?);
        }
    }
    let totals = plan_totals(&x, &rows);
    let mut warnings = day.warnings;
    let unreachable: Vec<UnreachableInterval> = x
        .outcome
        .unreachable
        .iter()
        .map(|u| UnreachableInterval::of(u, profile, sc))
        .collect();
    warnings.extend(unreachable.iter().map(UnreachableInterval::warning));
    let missed = rows.iter().filter(|r| !r.targets_met).count();
    if missed > 0 {
        let advice = if x.options.confidence {
            "the search met each target's 95% bound with its own seed; more --replications \
             narrow the noise"
        } else {
            "use --confidence for a margin"
        };
        warnings.push(format!(
            "{missed} of {} interval and group rows miss a target in the verification run (see \
             shortfalls); these are within the simulation's noise unless the search limit was \
             reached: {advice}",
            rows.len()
        ));
    }
    Ok(PlanReport {
        profile: profile.name.clone(),
        seed: profile.simulation.seed,
        verification_seed: x.report_seed,
        replications: profile.simulation.replications,
        interval_secs: profile.interval_secs,
        confidence: x.options.confidence,
        targets: profile
            .queues
            .iter()
            .map(|q| (q.name.clone(), QueueTargets::of(&q.targets)))
            .collect(),
        targets_met: missed == 0,
        unreachable,
        intervals: rows,
        queues,
        totals,
        summary: day.summary,
        warnings,
        perf: PlanPerf {
            evaluations: x.outcome.evaluations,
            evaluation_replications: x.outcome.replications_run,
            search: x.options.mode,
            analytic_secs: x.times.analytic_secs,
            search_secs: x.times.search_secs,
            verify_secs: x.times.verify_secs,
            elapsed_secs: x.elapsed_secs,
            threads: x.threads,
            chats_per_sec: x.verify_perf.chats_per_sec,
        },
    })
}

/// The row of group `g` in interval `i`: its staffing, the figures of the queues it serves
/// merged, its own figures, the targets it misses and the one that binds.
fn group_row(
    x: &Inputs<'_>,
    day: &SimulationReport,
    queues: &[QueuePlanRow],
    i: usize,
    g: usize,
) -> Result<PlanRow, PlanError> {
    let sc = x.scenario;
    let (nq, ng) = (sc.queues.len(), sc.groups.len());
    let group = &x.profile.agents[g];
    let served: Vec<usize> = (0..nq)
        .filter(|q| x.targets.servers[*q].contains(&g))
        .collect();
    let merged: Vec<QueueTally> = x
        .runs
        .iter()
        .map(|r| {
            let mut t = QueueTally::default();
            for &q in &served {
                t.merge(&r.queues[i * nq + q]);
            }
            t
        })
        .collect();
    let figures = queue_figures(&merged.iter().collect::<Vec<_>>());
    let agent_row = &day.agent_intervals[i * ng + g];
    let agents = agent_row.figures;
    let mut shortfalls: Vec<String> = served
        .iter()
        .flat_map(|&q| day.intervals[i * nq + q].shortfalls.iter().cloned())
        .collect();
    shortfalls.extend(agent_row.shortfalls.iter().cloned());
    let bound = binding(
        &served,
        &queues[i * nq..(i + 1) * nq],
        x.targets,
        (x.targets.groups[g], &agents.occupancy),
    );
    let (binding, binding_queue, margin) = match bound {
        Some((c, q, m)) => (Some(c), q, Some(m)),
        None => (None, None, None),
    };
    let required = x.staffing.groups[g][i];
    Ok(PlanRow {
        start: sc.interval_start_text(i),
        interval: i,
        group: group.name.clone(),
        queues: served.iter().map(|&q| sc.queues[q].name.clone()).collect(),
        analytic_agents: x.seed.groups[g][i],
        required_agents: required,
        rostered_agents: rostered(required, group.shrinkage)?,
        raised_by_verification: x.repaired.contains(&(i, g)),
        targets_met: shortfalls.is_empty(),
        shortfalls,
        binding,
        binding_queue,
        margin,
        figures,
        agents,
    })
}

/// Day totals per group and overall from the rows (interval-major, one per group).
fn plan_totals(x: &Inputs<'_>, rows: &[PlanRow]) -> PlanTotals {
    let ng = x.profile.agents.len();
    let hours = x.profile.interval_secs / 3600.0;
    let mut group_totals = vec![Totals::default(); ng];
    let mut all = Totals::default();
    for interval in rows.chunks(ng.max(1)) {
        let (mut sum_required, mut sum_rostered) = (0, 0);
        for ((t, row), group) in group_totals.iter_mut().zip(interval).zip(&x.profile.agents) {
            let (required, roster) = (row.required_agents, row.rostered_agents);
            t.agent_hours += f64::from(required) * hours;
            t.rostered_agent_hours += f64::from(roster) * hours;
            t.cost += f64::from(roster) * hours * group.cost_per_hour;
            t.analytic_agent_hours += f64::from(row.analytic_agents) * hours;
            t.peak_required = t.peak_required.max(required);
            t.peak_rostered = t.peak_rostered.max(roster);
            sum_required += required;
            sum_rostered += roster;
        }
        all.peak_required = all.peak_required.max(sum_required);
        all.peak_rostered = all.peak_rostered.max(sum_rostered);
    }
    for t in &mut group_totals {
        t.fte = t.rostered_agent_hours / x.options.fte_hours;
        all.agent_hours += t.agent_hours;
        all.rostered_agent_hours += t.rostered_agent_hours;
        all.analytic_agent_hours += t.analytic_agent_hours;
        all.cost += t.cost;
    }
    all.fte = all.rostered_agent_hours / x.options.fte_hours;
    PlanTotals {
        all,
        fte_hours: x.options.fte_hours,
        groups: x
            .profile
            .agents
            .iter()
            .zip(group_totals)
            .map(|(g, t)| (g.name.clone(), t))
            .collect(),
    }
}
