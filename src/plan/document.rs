//! The plan report as a person reads it: the headline (targets, agent hours, FTE, peak) before
//! any table, the day totals, then one row per interval and group with its binding target,
//! margin and shortfall; charts for the HTML report. Rows that miss a target are marked.

use std::collections::BTreeMap;

use crate::metrics::Estimate;
use crate::profile::table_label;
use crate::report::{Cell, Chart, Document, Mark, Series, Table, ToDocument};
use crate::sim::results::INTERVAL_QUEUE_COLUMNS;
use crate::sim::targets::distinct;

use super::report::{Constraint, PlanReport, PlanRow, QueuePlanRow, QueueTargets};

impl Constraint {
    /// Short name for tables.
    pub(super) fn label(self) -> &'static str {
        match self {
            Constraint::ServiceLevel => "SL",
            Constraint::AbandonRate => "abandon",
            Constraint::AsaSecs => "ASA",
            Constraint::Occupancy => "occupancy",
        }
    }

    /// A margin in this target's units, signed, for tables.
    pub(super) fn margin_text(self, margin: f64) -> String {
        let (scaled, unit) = match self {
            Constraint::AsaSecs => (margin, "s"),
            _ => (100.0 * margin, "pts"),
        };
        // A miss by less than the last decimal still reads as one ("-0.02 pts", not "-0.0").
        let (text, _) = distinct(scaled.abs(), 0.0, 1);
        let sign = if scaled < 0.0 { "-" } else { "+" };
        format!("{sign}{text} {unit}")
    }
}

impl PlanReport {
    /// The day in one line: targets, agent hours, FTE and the peak.
    fn headline(&self) -> String {
        let t = &self.totals.all;
        let missed = self.intervals.iter().filter(|r| !r.targets_met).count();
        let verdict = if missed == 0 {
            "targets met in every interval".to_string()
        } else {
            format!(
                "targets MISSED in {missed} of {} interval and group rows (see shortfall)",
                self.intervals.len()
            )
        };
        let mut rostered: BTreeMap<usize, (u32, &str)> = BTreeMap::new();
        for r in &self.intervals {
            let entry = rostered.entry(r.interval).or_insert((0, &r.start));
            entry.0 += r.rostered_agents;
        }
        let peak_at = rostered
            .values()
            .find(|(n, _)| *n == t.peak_rostered)
            .map_or("-".to_string(), |(_, start)| table_label(start));
        format!(
            "{verdict}; {:.1} agent hours, {:.1} rostered = {:.1} FTE of {} h; peak {} on duty, \
             {} rostered at {peak_at}",
            t.agent_hours,
            t.rostered_agent_hours,
            t.fte,
            self.totals.fte_hours,
            t.peak_required,
            t.peak_rostered
        )
    }

    fn groups(&self) -> Vec<&str> {
        self.totals.groups.keys().map(String::as_str).collect()
    }

    /// The plan rows of `group`, in interval order.
    fn rows_of(&self, group: &str) -> Vec<&PlanRow> {
        self.intervals.iter().filter(|r| r.group == group).collect()
    }

    /// Required (bars) and rostered agents per group.
    fn agent_series(&self) -> Vec<Series> {
        let mut agents = Vec::new();
        for g in self.groups() {
            agents.push(Series {
                name: format!("{g} required"),
                values: self
                    .rows_of(g)
                    .into_iter()
                    .map(|r| f64::from(r.required_agents))
                    .collect(),
                band: None,
                bars: true,
            });
            agents.push(Series {
                name: format!("{g} rostered"),
                values: self
                    .rows_of(g)
                    .into_iter()
                    .map(|r| f64::from(r.rostered_agents))
                    .collect(),
                band: None,
                bars: false,
            });
        }
        agents
    }

    /// One series per queue of the estimate `pick` takes from each interval's figures.
    fn queue_series(&self, pick: fn(&QueuePlanRow) -> Estimate) -> Vec<Series> {
        self.summary
            .queues
            .keys()
            .map(|q| {
                let rows = self.queues.iter().filter(|r| r.queue == *q);
                Series::estimates(q.to_string(), rows.map(pick), false)
            })
            .collect()
    }

    /// One series per group of the estimate `pick` takes from each plan row.
    fn group_series(&self, pick: fn(&PlanRow) -> Estimate) -> Vec<Series> {
        self.groups()
            .into_iter()
            .map(|g| Series::estimates(g.to_string(), self.rows_of(g).into_iter().map(pick), false))
            .collect()
    }

    /// The distinct values of one target over the queues, as labelled chart lines.
    fn target_lines(
        &self,
        pick: fn(&QueueTargets) -> Option<f64>,
        what: &str,
    ) -> Vec<(String, f64)> {
        let mut values: Vec<f64> = self.targets.values().filter_map(pick).collect();
        values.sort_by(f64::total_cmp);
        values.dedup();
        values
            .into_iter()
            .map(|v| (format!("{what} {:.0}%", 100.0 * v), v))
            .collect()
    }

    /// Charts of the HTML report.
    fn charts(&self) -> Vec<Chart> {
        let first = self.intervals.first().map(|r| r.group.clone());
        let labels: Vec<String> = self
            .intervals
            .iter()
            .filter(|r| Some(&r.group) == first.as_ref())
            .map(|r| table_label(&r.start))
            .collect();
        let chart = |title: &str, y: &str, percent: bool, series, targets| Chart {
            title: title.into(),
            x_label: "interval start".into(),
            y_label: y.into(),
            x: labels.clone(),
            series,
            targets,
            percent,
            ..Chart::default()
        };
        vec![
            chart(
                "Agents on duty per interval",
                "agents",
                false,
                self.agent_series(),
                Vec::new(),
            ),
            chart(
                "Service level per interval",
                "service level",
                true,
                self.queue_series(|r| r.figures.service_level),
                self.target_lines(|t| Some(t.service_level), "target"),
            ),
            chart(
                "Abandon rate per interval",
                "abandoned",
                true,
                self.queue_series(|r| r.figures.abandon_rate),
                self.target_lines(|t| t.max_abandon, "max"),
            ),
            chart(
                "Agent occupancy per interval",
                "occupancy",
                true,
                self.group_series(|r| r.agents.occupancy),
                self.target_lines(|t| t.max_occupancy, "max"),
            ),
            chart(
                "Chats per agent per interval",
                "mean concurrency",
                false,
                self.group_series(|r| r.agents.mean_concurrency),
                Vec::new(),
            ),
        ]
    }

    /// The headline, how the figures were obtained, then the warnings.
    fn notes(&self) -> Vec<String> {
        let judged = if self.confidence {
            "targets judged on the 95% confidence bound"
        } else {
            "targets judged on the mean"
        };
        let mut notes = vec![
            self.headline(),
            format!(
                "{} replications; staffing searched with seed {}, figures from an independent \
                 run with seed {}; {judged}; figures are means with 95% confidence intervals",
                self.replications, self.seed, self.verification_seed
            ),
        ];
        notes.extend(self.warnings.iter().map(|w| format!("warning: {w}")));
        notes
    }

    /// One row per interval and group: staffing, binding target, margin, figures, shortfall.
    fn staffing_table(&self) -> Table {
        let mut plan = Table::new(
            "Staffing per interval and group",
            &[
                "start",
                "group",
                "required",
                "rostered",
                "met",
                "binding",
                "margin",
                "SL",
                "abandon",
                "occupancy",
                "concurrency",
                "closed form",
                "shortfall",
            ],
        )
        .with_secondary(&[
            "closed form",
            "concurrency",
            "abandon",
            "occupancy",
            "SL",
            "rostered",
        ]);
        for r in &self.intervals {
            plan.push_marked(staffing_row(r), miss_mark(r.targets_met));
        }
        plan
    }

    /// One row per interval and queue, with whether its targets are met.
    fn queue_table(&self) -> Table {
        let mut queues = Table::new(
            "Per interval and queue",
            &[&INTERVAL_QUEUE_COLUMNS[..], &["met"]].concat(),
        );
        for r in &self.queues {
            let mut row = r.figures.interval_cells(&table_label(&r.start), &r.queue);
            row.push(Cell::text(if r.targets_met { "yes" } else { "NO" }));
            queues.push_marked(row, miss_mark(r.targets_met));
        }
        queues
    }

    /// Agent hours, FTE, peaks and cost, all groups then each.
    fn totals_table(&self) -> Table {
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
                "cost",
            ],
        )
        .with_secondary(&[
            "cost",
            "closed-form hours",
            "peak required",
            "rostered hours",
        ]);
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
                Cell::num(t.cost, 1),
            ]);
        }
        totals
    }

    /// The whole day's figures, all queues then each.
    fn day_table(&self) -> Table {
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
        day
    }

    /// What the plan cost to compute.
    fn perf_table(&self) -> Table {
        Table::key_value(
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
        )
    }
}

/// How a row that meets its targets, or misses one, stands out.
fn miss_mark(targets_met: bool) -> Mark {
    if targets_met { Mark::Plain } else { Mark::Miss }
}

/// The staffing table's row of one plan row.
fn staffing_row(r: &PlanRow) -> Vec<Cell> {
    let binding = r.binding.map_or(String::new(), |c| match &r.binding_queue {
        Some(q) => format!("{} {q}", c.label()),
        None => c.label().to_string(),
    });
    let margin = match (r.binding, r.margin) {
        (Some(c), Some(m)) => c.margin_text(m),
        _ => String::new(),
    };
    vec![
        Cell::text(table_label(&r.start)),
        Cell::text(&r.group),
        Cell::Int(i64::from(r.required_agents)),
        Cell::Int(i64::from(r.rostered_agents)),
        Cell::text(if r.targets_met { "yes" } else { "NO" }),
        Cell::text(binding),
        Cell::text(margin),
        Cell::ci_pct(&r.figures.service_level),
        Cell::Pct(r.figures.abandon_rate.mean),
        Cell::ci_pct(&r.agents.occupancy),
        Cell::num(r.agents.mean_concurrency.mean, 2),
        Cell::Int(i64::from(r.analytic_agents)),
        Cell::text(r.shortfalls.join("; ")),
    ]
}

impl ToDocument for PlanReport {
    fn document(&self) -> Document {
        Document {
            title: format!("chatcap plan: {}", self.profile),
            notes: self.notes(),
            tables: vec![
                self.totals_table(),
                self.day_table(),
                self.staffing_table(),
                self.queue_table(),
                self.perf_table(),
            ],
            charts: self.charts(),
            csv_rows: Some("/intervals"),
        }
    }
}
