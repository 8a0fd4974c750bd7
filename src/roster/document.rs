//! The roster as tables and charts: shifts, lines, coverage and the verification run; in the
//! HTML report, the week's shifts per day (Gantt-like), coverage against the requirement per
//! group, and the simulated service level with its confidence band.

use std::collections::BTreeMap;

use super::report::{RosterReport, ShiftRow, hours_after_midnight};
use crate::report::{
    Cell, Chart, Document, Gantt, GanttBar, GanttRow, Mark, Series, Table, ToDocument,
};

impl ToDocument for RosterReport {
    fn document(&self) -> Document {
        let t = &self.totals;
        let mut notes = vec![format!(
            "{:.1} paid hours for {:.1} required ({:.1}% efficiency); the linear bound is {:.1} (gap {:.2}%).",
            t.paid_hours,
            t.required_hours,
            t.efficiency * 100.0,
            t.lp_bound_hours,
            t.gap * 100.0
        )];
        let v = &self.verification;
        notes.push(if v.targets_met {
            format!(
                "verification: every interval meets its targets after {} repair round(s).",
                v.rounds
            )
        } else {
            format!(
                "warning: verification: {} shortfall(s) remain after {} repair round(s).",
                v.shortfalls.len(),
                v.rounds
            )
        });
        if let Some(a) = &self.assignment {
            notes.push(format!(
                "{} of {} lines assigned to the {} agents listed.",
                a.assigned_lines,
                self.lines.len(),
                a.agents
            ));
            if !a.unassigned_lines.is_empty() {
                notes.push(format!(
                    "warning: no listed agent fits line(s) {} (group, availability or contracted hours).",
                    a.unassigned_lines.iter().map(|l| l.to_string()).collect::<Vec<_>>().join(", ")
                ));
            }
        }
        for u in &self.under_covered {
            notes.push(format!(
                "warning: {} {}: {} of {} agents on duty; {}",
                u.start, u.group, u.net, u.required, u.reason
            ));
        }
        Document {
            title: format!("Roster: {}", self.profile),
            notes,
            tables: vec![
                self.shift_table(),
                self.line_table(),
                self.coverage_table(),
                self.verification_table(),
            ],
            charts: self.charts(),
            csv_rows: Some("/shifts"),
        }
    }
}

impl RosterReport {
    fn shift_table(&self) -> Table {
        let mut table = Table::new(
            "Shifts",
            &["date", "start", "hours", "group", "rule", "count", "breaks"],
        );
        for s in &self.shifts {
            let breaks: Vec<String> = s
                .breaks
                .iter()
                .map(|b| {
                    let clock = b.start.get(11..16).unwrap_or(&b.start);
                    format!(
                        "{clock} {}m{}",
                        b.length_mins,
                        if b.paid { "" } else { " unpaid" }
                    )
                })
                .collect();
            table.rows.push(vec![
                Cell::text(s.date.clone().unwrap_or_default()),
                Cell::text(clock_of(&s.start)),
                Cell::num(s.length_hours, 1),
                Cell::text(&s.group),
                Cell::text(&s.rule),
                Cell::Int(i64::from(s.count)),
                Cell::text(breaks.join(", ")),
            ]);
        }
        table
    }

    fn line_table(&self) -> Table {
        let mut table = Table::new(
            "Lines",
            &["line", "group", "rule", "agent", "paid hours", "days"],
        );
        for l in &self.lines {
            let days: Vec<String> = l
                .days
                .iter()
                .map(|d| {
                    let date = d.date.as_deref().map(|d| d.get(5..).unwrap_or(d));
                    format!(
                        "{} {}-{}",
                        date.unwrap_or(""),
                        clock_of(&d.start),
                        clock_of(&d.end)
                    )
                    .trim()
                    .to_string()
                })
                .collect();
            table.rows.push(vec![
                Cell::Int(l.line as i64),
                Cell::text(&l.group),
                Cell::text(&l.rule),
                Cell::text(l.agent_id.clone().unwrap_or_default()),
                Cell::num(l.paid_hours, 1),
                Cell::text(days.join(", ")),
            ]);
        }
        table
    }

    fn coverage_table(&self) -> Table {
        let mut table = Table::new(
            "Coverage",
            &["start", "group", "required", "scheduled", "on break", "net"],
        );
        for c in self
            .coverage
            .iter()
            .filter(|c| c.required > 0 || c.scheduled > 0)
        {
            let mark = if c.net < c.required {
                Mark::Miss
            } else {
                Mark::Plain
            };
            table.push_marked(
                vec![
                    Cell::text(clock_or_label(&c.start)),
                    Cell::text(&c.group),
                    Cell::Int(i64::from(c.required)),
                    Cell::Int(i64::from(c.scheduled)),
                    Cell::Int(i64::from(c.on_break)),
                    Cell::Int(i64::from(c.net)),
                ],
                mark,
            );
        }
        table
    }

    fn verification_table(&self) -> Table {
        let mut table = Table::new(
            "Verification: service level per interval",
            &[
                "start",
                "queue",
                "service level",
                "abandoned",
                "targets met",
            ],
        );
        for r in &self.verification.intervals {
            let mark = if r.targets_met {
                Mark::Plain
            } else {
                Mark::Miss
            };
            table.push_marked(
                vec![
                    Cell::text(clock_or_label(&r.start)),
                    Cell::text(&r.queue),
                    Cell::ci_pct(&r.service_level),
                    Cell::ci_pct(&r.abandon_rate),
                    Cell::text(if r.targets_met { "yes" } else { "no" }),
                ],
                mark,
            );
        }
        table
    }
}

/// `"HH:MM"` of an RFC 3339 start, or the text itself.
fn clock_of(start: &str) -> String {
    start.get(11..16).unwrap_or(start).to_string()
}

/// `"MM-DD HH:MM"` of an RFC 3339 start, or the text itself.
fn clock_or_label(start: &str) -> String {
    match (start.get(5..10), start.get(11..16)) {
        (Some(date), Some(clock)) => format!("{date} {clock}"),
        _ => start.to_string(),
    }
}

impl RosterReport {
    fn charts(&self) -> Vec<Chart> {
        let mut charts = vec![self.gantt()];
        for group in first_seen(self.coverage.iter().map(|c| &c.group)) {
            // Per interval: the requirement and the thinnest net cover of its slots.
            let mut per: BTreeMap<usize, (String, f64, f64)> = BTreeMap::new();
            for c in self.coverage.iter().filter(|c| &c.group == group) {
                let e =
                    per.entry(c.interval)
                        .or_insert((clock_or_label(&c.start), 0.0, f64::INFINITY));
                e.1 = e.1.max(f64::from(c.required));
                e.2 = e.2.min(f64::from(c.net));
            }
            charts.push(Chart {
                title: format!("Coverage: {group}"),
                x_label: "interval".to_string(),
                y_label: "agents on duty".to_string(),
                x: per.values().map(|v| v.0.clone()).collect(),
                series: vec![
                    Series {
                        name: "on duty (fewest in the interval)".to_string(),
                        values: per.values().map(|v| v.2).collect(),
                        band: None,
                        bars: true,
                    },
                    Series {
                        name: "required".to_string(),
                        values: per.values().map(|v| v.1).collect(),
                        band: None,
                        bars: false,
                    },
                ],
                ..Chart::default()
            });
        }
        let mut queues: BTreeMap<&str, Vec<&super::report::VerifiedInterval>> = BTreeMap::new();
        for r in &self.verification.intervals {
            queues.entry(&r.queue).or_default().push(r);
        }
        for (queue, rows) in queues {
            charts.push(Chart {
                title: format!("Simulated service level: {queue}"),
                x_label: "interval".to_string(),
                y_label: "service level".to_string(),
                x: rows.iter().map(|r| clock_or_label(&r.start)).collect(),
                series: vec![Series::estimates(
                    "service level",
                    rows.iter().map(|r| r.service_level),
                    false,
                )],
                percent: true,
                targets: self
                    .verification
                    .service_level_targets
                    .get(queue)
                    .map(|&t| (format!("target {:.0}%", t * 100.0), t))
                    .into_iter()
                    .collect(),
                ..Chart::default()
            });
        }
        charts
    }

    /// The shifts per day, one bar per kind.
    fn gantt(&self) -> Chart {
        let groups: Vec<String> = first_seen(self.shifts.iter().map(|s| &s.group))
            .into_iter()
            .cloned()
            .collect();
        let mut days: BTreeMap<Option<String>, Vec<&ShiftRow>> = BTreeMap::new();
        for s in &self.shifts {
            days.entry(s.date.clone()).or_default().push(s);
        }
        let mut hours: f64 = 24.0;
        let rows = days
            .into_iter()
            .map(|(date, mut shifts)| {
                shifts.sort_by(|a, b| a.start.cmp(&b.start).then(a.group.cmp(&b.group)));
                // One bar per start, length and group; its breaks are every placement's.
                let mut bars: Vec<GanttBar> = Vec::new();
                for s in shifts {
                    let from = hours_after_midnight(&s.start);
                    let to = from + s.length_hours;
                    hours = hours.max(to);
                    let group = groups.iter().position(|g| g == &s.group).unwrap_or(0);
                    let breaks = s.breaks.iter().map(|b| {
                        let mut at = hours_after_midnight(&b.start);
                        if at < from {
                            at += 24.0;
                        }
                        (at, at + b.length_mins / 60.0)
                    });
                    match bars
                        .iter_mut()
                        .find(|b| b.from == from && b.to == to && b.group == group)
                    {
                        Some(bar) => {
                            bar.count += s.count;
                            bar.breaks.extend(breaks);
                        }
                        None => bars.push(GanttBar {
                            from,
                            to,
                            breaks: breaks.collect(),
                            group,
                            count: s.count,
                        }),
                    }
                }
                GanttRow {
                    label: date.as_deref().map_or("day".to_string(), day_label),
                    bars,
                }
            })
            .collect();
        Chart {
            title: "Shifts per day (breaks lighter)".to_string(),
            gantt: Some(Gantt {
                groups,
                hours: hours.ceil(),
                rows,
            }),
            ..Chart::default()
        }
    }
}

/// The distinct names of `names`, in the order they first come.
fn first_seen<'a>(names: impl Iterator<Item = &'a String>) -> Vec<&'a String> {
    let mut seen: Vec<&String> = Vec::new();
    for name in names {
        if !seen.contains(&name) {
            seen.push(name);
        }
    }
    seen
}

/// `"Mon 07"` for `"2026-12-07"`.
fn day_label(date: &str) -> String {
    date.parse::<jiff::civil::Date>()
        .map(|d| d.strftime("%a %d").to_string())
        .unwrap_or_else(|_| date.to_string())
}
