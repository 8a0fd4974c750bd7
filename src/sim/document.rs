//! The `chatcap simulate` report as a document: its tables (per queue, interval, agent group)
//! and its HTML charts. Kept apart from the aggregation, which decides the figures; this only
//! shows them.

use crate::metrics::Estimate;
use crate::profile::table_label;
use crate::report::{Cell, Chart, Document, Series, Table, ToDocument};

use super::results::{QueueFigures, SimulationReport};

/// Leading columns of a per interval and queue table; [`QueueFigures::interval_cells`] fills them.
pub(crate) const INTERVAL_QUEUE_COLUMNS: [&str; 8] = [
    "start",
    "queue",
    "offered",
    "SL",
    "ASA s",
    "abandon",
    "wait p90 s",
    "FRT p90 s",
];

impl QueueFigures {
    /// The cells of [`INTERVAL_QUEUE_COLUMNS`] for one interval and queue.
    pub(crate) fn interval_cells(&self, start: &str, queue: &str) -> Vec<Cell> {
        vec![
            Cell::text(start),
            Cell::text(queue),
            Cell::num(self.offered.mean, 1),
            Cell::ci_pct(&self.service_level),
            Cell::ci(&self.asa_secs, 1),
            Cell::Pct(self.abandon_rate.mean),
            Cell::num(self.wait_p90_secs.mean, 1),
            Cell::num(self.frt_p90_secs.mean, 1),
        ]
    }
}

impl ToDocument for SimulationReport {
    fn document(&self) -> Document {
        let mut doc = Document {
            title: format!("chatcap simulate: {}", self.profile),
            notes: vec![format!(
                "{} replications, seed {}; figures are means with 95% confidence intervals",
                self.replications, self.seed
            )],
            ..Document::default()
        };
        doc.notes
            .extend(self.warnings.iter().map(|w| format!("warning: {w}")));
        let mut rows = Table::new(
            "Per interval and queue",
            &[&INTERVAL_QUEUE_COLUMNS[..], &["AHT s"]].concat(),
        );
        for r in &self.intervals {
            let f = &r.figures;
            let mut row = f.interval_cells(&table_label(&r.start), &r.queue);
            row.push(Cell::num(f.aht_secs.mean, 0));
            rows.rows.push(row);
        }
        let mut queues = Table::new(
            "Whole day per queue",
            &[
                "queue", "offered", "SL", "ASA s", "abandon", "FRT s", "AHT s", "FCR", "bot",
            ],
        );
        let all = std::iter::once(("(all)", &self.summary.overall))
            .chain(self.summary.queues.iter().map(|(n, f)| (n.as_str(), f)));
        for (name, f) in all {
            queues.rows.push(vec![
                Cell::text(name),
                Cell::num(f.offered.mean, 0),
                Cell::ci_pct(&f.service_level),
                Cell::ci(&f.asa_secs, 1),
                Cell::ci_pct(&f.abandon_rate),
                Cell::num(f.frt_secs.mean, 1),
                Cell::num(f.aht_secs.mean, 0),
                Cell::Pct(f.fcr.mean),
                Cell::Pct(f.bot_resolved.mean),
            ]);
        }
        let mut groups = Table::new(
            "Agents per group and interval",
            &[
                "start",
                "group",
                "agents",
                "occupancy",
                "utilization",
                "concurrency",
            ],
        );
        for r in &self.agent_intervals {
            groups.rows.push(vec![
                Cell::text(table_label(&r.start)),
                Cell::text(&r.group),
                Cell::Int(i64::from(r.scheduled_agents)),
                Cell::ci_pct(&r.figures.occupancy),
                Cell::Pct(r.figures.utilization.mean),
                Cell::num(r.figures.mean_concurrency.mean, 2),
            ]);
        }
        let perf = Table::key_value(
            "Performance",
            vec![
                ("chats", Cell::Int(self.perf.chats as i64)),
                ("events", Cell::Int(self.perf.events as i64)),
                ("elapsed s", Cell::num(self.perf.elapsed_secs, 3)),
                ("chats per second", Cell::num(self.perf.chats_per_sec, 0)),
                ("threads", Cell::Int(self.perf.threads as i64)),
            ],
        );
        doc.tables = vec![rows, queues, groups, perf];
        doc.csv_rows = Some("/intervals");
        doc.charts = self.charts();
        doc
    }
}

impl SimulationReport {
    /// Charts of the HTML report, one value per interval: service level, offered volume, ASA
    /// and abandon rate per queue, occupancy per agent group.
    fn charts(&self) -> Vec<Chart> {
        let first_queue = self.intervals.first().map(|r| r.queue.as_str());
        let labels: Vec<String> = self
            .intervals
            .iter()
            .filter(|r| Some(r.queue.as_str()) == first_queue)
            .map(|r| table_label(&r.start))
            .collect();
        let per_queue = |pick: fn(&QueueFigures) -> Estimate, bars: bool| -> Vec<Series> {
            self.summary
                .queues
                .keys()
                .map(|name| {
                    let cells: Vec<Estimate> = self
                        .intervals
                        .iter()
                        .filter(|r| &r.queue == name)
                        .map(|r| pick(&r.figures))
                        .collect();
                    Series::estimates(name.as_str(), cells, bars)
                })
                .collect()
        };
        let per_group: Vec<Series> = self
            .summary
            .groups
            .keys()
            .map(|name| {
                let cells: Vec<Estimate> = self
                    .agent_intervals
                    .iter()
                    .filter(|r| &r.group == name)
                    .map(|r| r.figures.occupancy)
                    .collect();
                Series::estimates(name.as_str(), cells, false)
            })
            .collect();
        let chart = |title: &str, y_label: &str, percent: bool, series: Vec<Series>| Chart {
            title: title.into(),
            x_label: "interval start".into(),
            y_label: y_label.into(),
            x: labels.clone(),
            series,
            percent,
            ..Chart::default()
        };
        let service_level = per_queue(|f| f.service_level, false);
        let offered = per_queue(|f| f.offered, true);
        let asa = per_queue(|f| f.asa_secs, false);
        let abandon = per_queue(|f| f.abandon_rate, false);
        vec![
            chart(
                "Service level per interval",
                "service level",
                true,
                service_level,
            ),
            chart(
                "Offered chats per interval",
                "chats offered",
                false,
                offered,
            ),
            chart(
                "Average speed of answer per interval",
                "ASA (s)",
                false,
                asa,
            ),
            chart("Abandon rate per interval", "abandoned", true, abandon),
            chart("Agent occupancy per interval", "occupancy", true, per_group),
        ]
    }
}
