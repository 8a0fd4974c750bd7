//! The `chatcap plan` result: staffing per interval and agent group, rostered headcount, totals,
//! and the figures the staffing achieves in an independent simulation of the day, each with a
//! 95% confidence interval. The struct is the JSON contract (DESIGN.md §6).

use std::collections::BTreeMap;

use serde::Serialize;

use crate::erlang::rostered;
use crate::metrics::QueueTally;
use crate::profile::Profile;
use crate::report::{Cell, Chart, Document, Series, Table, ToDocument};
use crate::sim::results::{
    AgentFigures, INTERVAL_QUEUE_COLUMNS, QueueFigures, Summary, queue_figures,
};
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
    /// Queue-side figures over the queues served (all of their chats, whichever group
    /// answered them).
    #[serde(flatten)]
    pub figures: QueueFigures,
    /// Agent-side figures of the group.
    #[serde(flatten)]
    pub agents: AgentFigures,
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
    /// Chats per second of the final verification run.
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
    /// The staffing the plan keeps, per group: more agents stop helping beyond it (no target
    /// figure is significantly better with the largest staffing tried, on the same customers).
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
            start: sc.interval_label(u.interval),
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
            "interval {}: no staffing up to the search limit ({}) meets every target ({}); the \
             plan keeps {}, beyond which more agents stop helping. Relax the targets of that \
             interval, or check its volume and the queue's patience",
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
    /// Seed of the independent run whose figures are reported.
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
    let (profile, sc, runs) = (x.profile, x.scenario, x.runs);
    let (nq, ng) = (sc.queues.len(), sc.groups.len());
    let hours = profile.interval_secs / 3600.0;
    // The simulator's own figures per interval (queue-major within an interval, as tallied).
    let day = aggregate(sc, runs, x.verify_perf);

    let queue_short: Vec<&[String]> = day.intervals.iter().map(|r| &r.shortfalls[..]).collect();
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

    let mut rows = Vec::with_capacity(profile.intervals * ng);
    let mut group_totals = vec![Totals::default(); ng];
    let mut all = Totals::default();
    for i in 0..profile.intervals {
        let (mut sum_required, mut sum_rostered) = (0, 0);
        for (g, group) in profile.agents.iter().enumerate() {
            let served: Vec<usize> = (0..nq)
                .filter(|q| x.targets.servers[*q].contains(&g))
                .collect();
            let merged: Vec<QueueTally> = runs
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
                .flat_map(|&q| queue_short[i * nq + q].iter().cloned())
                .collect();
            shortfalls.extend(agent_row.shortfalls.iter().cloned());
            let required = x.staffing.groups[g][i];
            let roster = rostered(required, group.shrinkage)?;
            let analytic = x.seed.groups[g][i];
            let t = &mut group_totals[g];
            t.agent_hours += f64::from(required) * hours;
            t.rostered_agent_hours += f64::from(roster) * hours;
            t.analytic_agent_hours += f64::from(analytic) * hours;
            t.peak_required = t.peak_required.max(required);
            t.peak_rostered = t.peak_rostered.max(roster);
            sum_required += required;
            sum_rostered += roster;
            rows.push(PlanRow {
                start: sc.interval_label(i),
                interval: i,
                group: group.name.clone(),
                queues: served.iter().map(|&q| sc.queues[q].name.clone()).collect(),
                analytic_agents: analytic,
                required_agents: required,
                rostered_agents: roster,
                raised_by_verification: x.repaired.contains(&(i, g)),
                targets_met: shortfalls.is_empty(),
                shortfalls,
                figures,
                agents,
            });
        }
        all.peak_required = all.peak_required.max(sum_required);
        all.peak_rostered = all.peak_rostered.max(sum_rostered);
    }
    for t in &mut group_totals {
        t.fte = t.rostered_agent_hours / x.options.fte_hours;
        all.agent_hours += t.agent_hours;
        all.rostered_agent_hours += t.rostered_agent_hours;
        all.analytic_agent_hours += t.analytic_agent_hours;
    }
    all.fte = all.rostered_agent_hours / x.options.fte_hours;

    let mut warnings = day.warnings;
    let unreachable: Vec<UnreachableInterval> = x
        .outcome
        .unreachable
        .iter()
        .map(|u| UnreachableInterval::of(u, profile, sc))
        .collect();
    warnings.extend(unreachable.iter().map(UnreachableInterval::warning));
    let missed: Vec<&PlanRow> = rows.iter().filter(|r| !r.targets_met).collect();
    if !missed.is_empty() {
        warnings.push(format!(
            "{} of {} interval and group rows miss a target in the verification run (see \
             shortfalls); these are within the simulation's noise unless the search limit was \
             reached. Use --confidence for a margin",
            missed.len(),
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
            .map(|q| {
                let t = &q.targets;
                let targets = QueueTargets {
                    service_level: t.service_level,
                    threshold_secs: t.threshold_secs,
                    max_abandon: t.max_abandon,
                    max_occupancy: t.max_occupancy,
                    max_asa_secs: t.max_asa_secs,
                };
                (q.name.clone(), targets)
            })
            .collect(),
        targets_met: missed.is_empty(),
        unreachable,
        intervals: rows,
        queues,
        totals: PlanTotals {
            all,
            fte_hours: x.options.fte_hours,
            groups: profile
                .agents
                .iter()
                .zip(group_totals)
                .map(|(g, t)| (g.name.clone(), t))
                .collect(),
        },
        summary: day.summary,
        warnings,
        perf: PlanPerf {
            evaluations: x.outcome.evaluations,
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

impl PlanReport {
    fn groups(&self) -> Vec<&str> {
        self.totals.groups.keys().map(String::as_str).collect()
    }

    /// Charts of the HTML report.
    fn charts(&self) -> Vec<Chart> {
        let first = self.intervals.first().map(|r| r.group.clone());
        let labels: Vec<String> = self
            .intervals
            .iter()
            .filter(|r| Some(&r.group) == first.as_ref())
            .map(|r| r.start.clone())
            .collect();
        let rows_of = |group: &str| -> Vec<&PlanRow> {
            self.intervals.iter().filter(|r| r.group == group).collect()
        };
        let queue_names: Vec<&str> = self.summary.queues.keys().map(String::as_str).collect();
        let queue_rows = |queue: &str| -> Vec<&QueuePlanRow> {
            self.queues.iter().filter(|r| r.queue == queue).collect()
        };
        let chart = |title: &str, y: &str, percent: bool, series, targets| Chart {
            title: title.into(),
            x_label: "interval start".into(),
            y_label: y.into(),
            x: labels.clone(),
            series,
            targets,
            percent,
            y_range: None,
        };
        let mut agents = Vec::new();
        for g in self.groups() {
            agents.push(Series {
                name: format!("{g} required"),
                values: rows_of(g)
                    .into_iter()
                    .map(|r| f64::from(r.required_agents))
                    .collect(),
                band: None,
                bars: true,
            });
            agents.push(Series {
                name: format!("{g} rostered"),
                values: rows_of(g)
                    .into_iter()
                    .map(|r| f64::from(r.rostered_agents))
                    .collect(),
                band: None,
                bars: false,
            });
        }
        let lines = |pick: fn(&QueueTargets) -> Option<f64>, what: &str| -> Vec<(String, f64)> {
            let mut values: Vec<f64> = self.targets.values().filter_map(pick).collect();
            values.sort_by(f64::total_cmp);
            values.dedup();
            values
                .into_iter()
                .map(|v| (format!("{what} {:.0}%", 100.0 * v), v))
                .collect()
        };
        let sl = queue_names
            .iter()
            .map(|q| {
                Series::estimates(
                    q.to_string(),
                    queue_rows(q).into_iter().map(|r| r.figures.service_level),
                    false,
                )
            })
            .collect();
        let abandon = queue_names
            .iter()
            .map(|q| {
                Series::estimates(
                    q.to_string(),
                    queue_rows(q).into_iter().map(|r| r.figures.abandon_rate),
                    false,
                )
            })
            .collect();
        let occupancy = self
            .groups()
            .into_iter()
            .map(|g| {
                Series::estimates(
                    g.to_string(),
                    rows_of(g).into_iter().map(|r| r.agents.occupancy),
                    false,
                )
            })
            .collect();
        let concurrency = self
            .groups()
            .into_iter()
            .map(|g| {
                Series::estimates(
                    g.to_string(),
                    rows_of(g).into_iter().map(|r| r.agents.mean_concurrency),
                    false,
                )
            })
            .collect();
        vec![
            chart(
                "Agents on duty per interval",
                "agents",
                false,
                agents,
                Vec::new(),
            ),
            chart(
                "Service level per interval",
                "service level",
                true,
                sl,
                lines(|t| Some(t.service_level), "target"),
            ),
            chart(
                "Abandon rate per interval",
                "abandoned",
                true,
                abandon,
                lines(|t| t.max_abandon, "max"),
            ),
            chart(
                "Agent occupancy per interval",
                "occupancy",
                true,
                occupancy,
                lines(|t| t.max_occupancy, "max"),
            ),
            chart(
                "Chats per agent per interval",
                "mean concurrency",
                false,
                concurrency,
                Vec::new(),
            ),
        ]
    }
}

impl ToDocument for PlanReport {
    fn document(&self) -> Document {
        let judged = if self.confidence {
            "targets judged on the 95% confidence bound"
        } else {
            "targets judged on the mean"
        };
        let mut doc = Document {
            title: format!("chatcap plan: {}", self.profile),
            notes: vec![
                format!(
                    "{} replications; staffing searched with seed {}, figures from an \
                     independent run with seed {}; {judged}; figures are means with 95% \
                     confidence intervals",
                    self.replications, self.seed, self.verification_seed
                ),
                if self.targets_met {
                    "every interval meets every target in the verification run".to_string()
                } else {
                    "some intervals miss a target in the verification run (see warnings)"
                        .to_string()
                },
            ],
            ..Document::default()
        };
        doc.notes
            .extend(self.warnings.iter().map(|w| format!("warning: {w}")));
        let mut plan = Table::new(
            "Staffing per interval and group",
            &[
                "start",
                "group",
                "closed form",
                "required",
                "rostered",
                "SL",
                "abandon",
                "occupancy",
                "concurrency",
                "met",
            ],
        );
        for r in &self.intervals {
            plan.rows.push(vec![
                Cell::text(&r.start),
                Cell::text(&r.group),
                Cell::Int(i64::from(r.analytic_agents)),
                Cell::Int(i64::from(r.required_agents)),
                Cell::Int(i64::from(r.rostered_agents)),
                Cell::ci_pct(&r.figures.service_level),
                Cell::Pct(r.figures.abandon_rate.mean),
                Cell::ci_pct(&r.agents.occupancy),
                Cell::num(r.agents.mean_concurrency.mean, 2),
                Cell::text(if r.targets_met { "yes" } else { "NO" }),
            ]);
        }
        let mut queues = Table::new(
            "Per interval and queue",
            &[&INTERVAL_QUEUE_COLUMNS[..], &["met"]].concat(),
        );
        for r in &self.queues {
            let mut row = r.figures.interval_cells(&r.start, &r.queue);
            row.push(Cell::text(if r.targets_met { "yes" } else { "NO" }));
            queues.rows.push(row);
        }
        let mut totals = Table::new(
            "Day totals",
            &[
                "group",
                "agent hours",
                "rostered hours",
                "FTE",
                "peak required",
                "peak rostered",
                "closed-form hours",
            ],
        );
        let all = std::iter::once(("(all)", &self.totals.all))
            .chain(self.totals.groups.iter().map(|(n, t)| (n.as_str(), t)));
        for (name, t) in all {
            totals.rows.push(vec![
                Cell::text(name),
                Cell::num(t.agent_hours, 1),
                Cell::num(t.rostered_agent_hours, 1),
                Cell::num(t.fte, 1),
                Cell::Int(i64::from(t.peak_required)),
                Cell::Int(i64::from(t.peak_rostered)),
                Cell::num(t.analytic_agent_hours, 1),
            ]);
        }
        let mut day = Table::new(
            "Whole day per queue",
            &[
                "queue",
                "offered",
                "SL",
                "ASA s",
                "abandon",
                "FRT p90 s",
                "AHT s",
            ],
        );
        let overall = std::iter::once(("(all)", &self.summary.overall))
            .chain(self.summary.queues.iter().map(|(n, f)| (n.as_str(), f)));
        for (name, f) in overall {
            day.rows.push(vec![
                Cell::text(name),
                Cell::num(f.offered.mean, 0),
                Cell::ci_pct(&f.service_level),
                Cell::ci(&f.asa_secs, 1),
                Cell::ci_pct(&f.abandon_rate),
                Cell::num(f.frt_p90_secs.mean, 1),
                Cell::num(f.aht_secs.mean, 0),
            ]);
        }
        let perf = Table::key_value(
            "Performance",
            vec![
                (
                    "candidate staffings simulated",
                    Cell::Int(self.perf.evaluations as i64),
                ),
                ("search s", Cell::num(self.perf.search_secs, 2)),
                ("verification s", Cell::num(self.perf.verify_secs, 2)),
                ("elapsed s", Cell::num(self.perf.elapsed_secs, 2)),
                ("threads", Cell::Int(self.perf.threads as i64)),
            ],
        );
        doc.tables = vec![plan, queues, totals, day, perf];
        doc.charts = self.charts();
        doc
    }
}
