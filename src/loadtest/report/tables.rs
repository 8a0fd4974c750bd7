//! The summary as tables for the text, Markdown and CSV outputs: one table per part of the
//! summary, each built by a function of its own; CSV rows are the comparison's.

use crate::report::{Cell, Document, Table, ToDocument};

use super::{COMPARED, ComparisonRow, LatencyOut, LoadTestReport, shown_value};

fn value_cell(v: f64, share: bool) -> Cell {
    if share { Cell::Pct(v) } else { Cell::num(v, 1) }
}

fn ms_cell(v: f64) -> Cell {
    Cell::num(v, 2)
}

fn latency_cells(l: &LatencyOut) -> [Cell; 4] {
    [
        ms_cell(l.p50_ms),
        ms_cell(l.p90_ms),
        ms_cell(l.p99_ms),
        ms_cell(l.max_ms),
    ]
}

fn latency_row(name: &str, l: &LatencyOut) -> Vec<Cell> {
    let mut row = vec![Cell::text(name), Cell::Int(l.count as i64)];
    row.extend(latency_cells(l));
    row
}

impl ToDocument for LoadTestReport {
    fn document(&self) -> Document {
        let mut doc = Document {
            title: format!("chatcap loadtest: {} at {}", self.profile, self.host),
            notes: vec![self.headline()],
            ..Document::default()
        };
        doc.notes
            .extend(self.warnings.iter().map(|w| format!("warning: {w}")));
        doc.tables = vec![
            self.comparison_table(),
            self.chats_table(),
            self.http_table(),
            self.timings_table(),
        ];
        doc.csv_rows = Some("/comparison");
        if !self.thresholds.is_empty() {
            doc.tables.push(self.thresholds_table());
        }
        doc.tables.push(self.run_table());
        if !self.errors.is_empty() {
            let mut errors = Table::new("Unexpected answers", &["what", "count"]);
            for (what, n) in &self.errors {
                errors
                    .rows
                    .push(vec![Cell::text(what), Cell::Int(*n as i64)]);
            }
            doc.tables.push(errors);
        }
        doc
    }
}

impl LoadTestReport {
    /// What was played, against what, and in which units.
    fn headline(&self) -> String {
        let w = &self.window;
        format!(
            "window {} for {:.0} profile s ({:.1} wall s at time scale {}); {} agents ({}), \
             {} customer users; forecast: {} simulated windows, 95% intervals; waits in \
             profile seconds, latencies in wall milliseconds",
            w.start,
            w.profile_secs,
            w.wall_secs,
            w.time_scale,
            self.staffing.agents,
            self.staffing.source,
            self.customers,
            self.forecast.replications
        )
    }

    fn comparison_table(&self) -> Table {
        let mut cmp = Table::new(
            "Measured vs forecast",
            &["figure", "measured", "forecast", "95% CI", "z"],
        );
        for row in &self.comparison {
            cmp.rows.push(comparison_row(row));
        }
        cmp
    }

    fn chats_table(&self) -> Table {
        let c = &self.chats;
        let server = |name: &str| {
            c.server
                .as_ref()
                .and_then(|s| s.get(name))
                .map_or(Cell::Empty, |n| Cell::Int(*n as i64))
        };
        let mut chats = Table::new("Chats", &["state", "load test", "server"]);
        let ours = &c.counts;
        let rows: [(&str, u64); 7] = [
            ("created", ours.created),
            ("queued", ours.queued),
            ("offered", ours.offered),
            ("active", ours.active),
            ("closed", ours.closed),
            ("abandoned", ours.abandoned),
            ("rejected", ours.rejected),
        ];
        for (name, ours) in rows {
            chats
                .rows
                .push(vec![Cell::text(name), Cell::Int(ours as i64), server(name)]);
        }
        // Coarser backend counts: live chats, and closed plus abandoned.
        let coarse = [
            ("live", ours.queued + ours.offered + ours.active),
            ("ended", ours.closed + ours.abandoned),
        ];
        for (name, ours) in coarse {
            if c.server.as_ref().is_some_and(|s| s.contains_key(name)) {
                chats
                    .rows
                    .push(vec![Cell::text(name), Cell::Int(ours as i64), server(name)]);
            }
        }
        for (name, v) in [
            ("lost", c.lost),
            ("bot resolved", c.bot_resolved),
            ("create failed", c.create_failed),
            ("sent away at drain end", c.forced_leaves),
        ] {
            chats
                .rows
                .push(vec![Cell::text(name), Cell::Int(v as i64), Cell::Empty]);
        }
        chats.rows.push(vec![
            Cell::text("conserved"),
            Cell::text(match c.conserved {
                Some(true) => "yes",
                Some(false) => "NO",
                None => "unknown (no /v1/stats)",
            }),
            Cell::Empty,
        ]);
        chats
    }

    fn http_table(&self) -> Table {
        let mut http = Table::new(
            "HTTP per endpoint (wall ms)",
            &[
                "endpoint", "requests", "failures", "p50", "p90", "p99", "max",
            ],
        );
        for (name, e) in &self.http.endpoints {
            if e.requests == 0 {
                continue;
            }
            let label = if e.long_poll {
                format!("{name} (long-poll)")
            } else {
                name.clone()
            };
            let mut row = vec![
                Cell::text(label),
                Cell::Int(e.requests as i64),
                Cell::Int(e.failures as i64),
            ];
            row.extend(latency_cells(&e.latency));
            http.rows.push(row);
        }
        let a = &self.http.all;
        let mut all = vec![
            Cell::text("(all but long-polls)"),
            Cell::Int(a.count as i64),
            Cell::Int(self.http.failures as i64),
        ];
        all.extend(latency_cells(a));
        http.rows.push(all);
        http
    }

    fn timings_table(&self) -> Table {
        let mut timings = Table::new(
            "Timings (wall ms)",
            &["timing", "count", "p50", "p90", "p99", "max"],
        );
        timings.rows = vec![
            latency_row("route latency", &self.route_latency),
            latency_row("arrival lag", &self.arrival_lag),
            latency_row("time to answer", &self.time_to_answer),
            latency_row("first response seen", &self.first_response),
        ];
        timings
    }

    fn thresholds_table(&self) -> Table {
        let mut thresholds = Table::new("Thresholds", &["rule", "measured", "result"]);
        for t in &self.thresholds {
            thresholds.rows.push(vec![
                Cell::text(&t.expr),
                Cell::text(if t.value.is_finite() {
                    shown_value(&t.metric, t.value)
                } else {
                    "-".to_string()
                }),
                Cell::text(if t.passed { "pass" } else { "FAIL" }),
            ]);
        }
        thresholds
    }

    fn run_table(&self) -> Table {
        Table::key_value(
            "Run",
            vec![
                ("ended by", Cell::text(format!("{:?}", self.run.ended_by))),
                ("elapsed wall s", Cell::num(self.run.elapsed_secs, 1)),
                ("HTTP requests", Cell::Int(self.http.requests as i64)),
                ("requests per second", Cell::num(self.http.rps, 1)),
                ("HTTP error rate", Cell::Pct(self.http.error_rate)),
                ("offers delivered", Cell::Int(self.offers.delivered as i64)),
                ("offers accepted", Cell::Int(self.offers.accepted as i64)),
                ("transfers", Cell::Int(self.offers.transfers as i64)),
                ("goose users", Cell::Int(self.run.users as i64)),
            ],
        )
    }
}

/// One comparison row: shares as percentages, other figures with one decimal.
fn comparison_row(row: &ComparisonRow) -> Vec<Cell> {
    let share = COMPARED
        .iter()
        .find(|(k, _)| *k == row.figure)
        .is_some_and(|(_, s)| *s);
    let ci = if share {
        format!(
            "{} - {}",
            Cell::Pct(row.ci_low).display(),
            Cell::Pct(row.ci_high).display()
        )
    } else {
        format!(
            "{} - {}",
            Cell::num(row.ci_low, 1).display(),
            Cell::num(row.ci_high, 1).display()
        )
    };
    vec![
        Cell::text(row.figure),
        value_cell(row.measured, share),
        value_cell(row.forecast, share),
        Cell::text(ci),
        Cell::num(row.z, 2),
    ]
}
