//! The `chatcap fit` report as a document: tables of what was measured per queue and group, the
//! forecast per interval, the rows skipped, and three kinds of HTML chart that let a planner
//! judge the fit by eye: the forecast against the history, Kaplan-Meier against the fitted
//! patience, and the slowdown per concurrency level with its intervals. The figures are
//! decided elsewhere; this only shows them.

use crate::model::{DurationModel, stream};
use crate::profile::duration::format_duration;
use crate::profile::{Dist, DistKind};
use crate::report::{Cell, Chart, Document, Series, Table, ToDocument};

use super::report::{DistFit, FitReport, GroupFit, PatienceFit, QueueFit};

/// History intervals shown before the forecast in its chart: one week of half hours.
const HISTORY_SHOWN: usize = 336;
/// Points along the patience chart's time axis.
const SURVIVAL_POINTS: usize = 41;
/// Draws of the fitted patience distribution behind its survival curve.
const SURVIVAL_DRAWS: usize = 20_000;

impl ToDocument for FitReport {
    fn document(&self) -> Document {
        let h = &self.horizon;
        let mut notes = vec![
            format!(
                "history {} to {} ({}); forecast {} days from {}",
                h.history_start, h.history_end, h.timezone, h.days, h.forecast_start
            ),
            format!(
                "{} rows read, {} used, {} skipped",
                self.rows.read,
                self.rows.used,
                self.rows.skipped.values().sum::<u64>()
            ),
        ];
        notes.extend(self.warnings.iter().map(|w| format!("warning: {w}")));
        let mut charts = Vec::new();
        for (name, q) in &self.queues {
            charts.push(forecast_chart(name, q));
            charts.extend(q.patience.as_ref().map(|p| patience_chart(name, p)));
        }
        charts.extend(self.groups.iter().filter_map(slowdown_chart));
        Document {
            title: "chatcap fit".to_string(),
            notes,
            tables: vec![
                self.queue_table(),
                self.duration_table(),
                self.slowdown_table(),
                self.forecast_table(),
                self.skipped_table(),
                self.perf_table(),
            ],
            charts,
            csv_rows: Some("/intervals"),
        }
    }
}

impl FitReport {
    /// One row per queue: volume, forecast quality and the shares.
    fn queue_table(&self) -> Table {
        let mut table = Table::new(
            "Per queue",
            &[
                "queue",
                "chats",
                "model",
                "WAPE",
                "naive WAPE",
                "volume cv",
                "bot",
                "transfer",
                "CSAT",
            ],
        )
        .with_secondary(&["CSAT", "transfer", "bot", "naive WAPE"]);
        for (name, q) in &self.queues {
            let v = &q.volume;
            let pct = |x: Option<f64>| x.map_or(Cell::Empty, Cell::Pct);
            table.rows.push(vec![
                Cell::text(name),
                Cell::Int(q.chats as i64),
                Cell::text(&v.model),
                pct(v.wape),
                pct(v.baseline_wape),
                Cell::num(v.volume_cv, 3),
                pct(q.bot.as_ref().map(|b| b.resolve_share)),
                pct(q.transfer.as_ref().map(|t| t.share)),
                q.csat
                    .as_ref()
                    .map_or(Cell::Empty, |c| Cell::num(c.score, 2)),
            ]);
        }
        table
    }

    /// One row per queue and duration measured, with the family and the mean's interval.
    fn duration_table(&self) -> Table {
        let mut table = Table::new(
            "Durations (means in seconds with 95% confidence intervals)",
            &[
                "queue", "figure", "dist", "mean s", "cv", "chats", "censored",
            ],
        );
        for (name, q) in &self.queues {
            for (figure, d) in durations(q) {
                table.rows.push(vec![
                    Cell::text(name),
                    Cell::text(figure),
                    Cell::text(&d.dist),
                    mean_cell(d.mean_secs, d.mean_ci_low, d.mean_ci_high),
                    Cell::num(d.cv, 2),
                    Cell::Int(d.chats as i64),
                    Cell::Empty,
                ]);
            }
            if let Some(p) = &q.patience {
                table.rows.push(vec![
                    Cell::text(name),
                    Cell::text("patience"),
                    Cell::text(&p.dist),
                    mean_cell(p.mean_secs, p.mean_ci_low, p.mean_ci_high),
                    Cell::num(p.cv, 2),
                    Cell::Int(p.chats as i64),
                    Cell::Pct(p.censored_share),
                ]);
            }
        }
        table
    }

    /// One row per group and level.
    fn slowdown_table(&self) -> Table {
        let mut table = Table::new(
            "Slowdown per agent group and concurrency level",
            &["group", "agents", "level", "factor", "chat hours"],
        );
        for g in &self.groups {
            for l in &g.slowdown {
                table.rows.push(vec![
                    Cell::text(&g.name),
                    Cell::Int(g.agents as i64),
                    Cell::Int(i64::from(l.level)),
                    Cell::Ci {
                        mean: l.factor,
                        low: l.ci_low,
                        high: l.ci_high,
                        decimals: 3,
                    },
                    Cell::num(l.chat_hours, 1),
                ]);
            }
        }
        table
    }

    /// The forecast per interval and queue: the profile's volumes with their intervals.
    fn forecast_table(&self) -> Table {
        let mut table = Table::new(
            "Forecast per interval and queue (95% prediction interval)",
            &["start", "queue", "volume"],
        );
        for row in &self.intervals {
            table.rows.push(vec![
                Cell::text(short_label(&row.start)),
                Cell::text(&row.queue),
                Cell::Ci {
                    mean: row.volume,
                    low: row.low,
                    high: row.high,
                    decimals: 1,
                },
            ]);
        }
        table
    }

    /// Rows left out, by reason.
    fn skipped_table(&self) -> Table {
        let mut table = Table::new("Rows skipped", &["reason", "rows"]);
        for (reason, count) in &self.rows.skipped {
            table
                .rows
                .push(vec![Cell::text(reason), Cell::Int(*count as i64)]);
        }
        table
    }

    fn perf_table(&self) -> Table {
        Table::key_value(
            "Performance",
            vec![
                ("rows read", Cell::Int(self.rows.read as i64)),
                ("reading s", Cell::num(self.perf.read_secs, 3)),
                ("elapsed s", Cell::num(self.perf.elapsed_secs, 3)),
                ("rows per second", Cell::num(self.perf.rows_per_sec, 0)),
            ],
        )
    }
}

/// The durations measured for a queue other than patience, with their names.
fn durations(q: &QueueFit) -> Vec<(&'static str, &DistFit)> {
    let bot_time = q.bot.as_ref().and_then(|b| b.time.as_ref());
    [
        ("handle time", q.handle_time.as_ref()),
        ("accept delay", q.accept_delay.as_ref()),
        ("first response", q.first_response.as_ref()),
        ("bot time", bot_time),
    ]
    .into_iter()
    .filter_map(|(name, d)| d.map(|d| (name, d)))
    .collect()
}

fn mean_cell(mean: f64, low: f64, high: f64) -> Cell {
    Cell::Ci {
        mean,
        low,
        high,
        decimals: 1,
    }
}

/// `Mon 07 08:30` from `2026-12-07T08:30:00+01:00` (the local time as written); the text as it
/// is when it is not a date-time.
pub(crate) fn short_label(start: &str) -> String {
    // The local part: 19 characters with seconds (before an offset), or all of a shorter text
    // such as the history's `2026-12-07T08:30`.
    start
        .get(..19)
        .or(Some(start))
        .and_then(|local| local.parse::<jiff::civil::DateTime>().ok())
        .map_or_else(
            || start.to_string(),
            |t| t.strftime("%a %d %H:%M").to_string(),
        )
}

/// The last week of the history, then the forecast with its 95% prediction band.
fn forecast_chart(name: &str, q: &QueueFit) -> Chart {
    let v = &q.volume;
    let past = &v.history[v.history.len().saturating_sub(HISTORY_SHOWN)..];
    let ahead = &v.forecast;
    let mut x: Vec<String> = past.iter().map(|(label, _)| short_label(label)).collect();
    x.extend(ahead.iter().map(|p| short_label(&p.start)));
    let gap = |n: usize| std::iter::repeat_n(f64::NAN, n);
    let history = Series {
        name: "history".to_string(),
        values: past
            .iter()
            .map(|(_, c)| *c)
            .chain(gap(ahead.len()))
            .collect(),
        ..Series::default()
    };
    let forecast = Series {
        name: format!("forecast ({})", v.model),
        values: gap(past.len())
            .chain(ahead.iter().map(|p| p.volume))
            .collect(),
        band: Some(
            gap(past.len())
                .map(|n| (n, n))
                .chain(ahead.iter().map(|p| (p.low, p.high)))
                .collect(),
        ),
        bars: false,
    };
    Chart {
        title: format!("{name}: chats per interval, history and forecast (95% band)"),
        x_label: "interval start".to_string(),
        y_label: "chats".to_string(),
        x,
        series: vec![history, forecast],
        band_label: Some("95% prediction interval".to_string()),
        ..Chart::default()
    }
}

/// Kaplan-Meier survival of the waits beside the survival of the fitted distribution.
fn patience_chart(name: &str, p: &PatienceFit) -> Chart {
    let last = p.kaplan_meier.last().map_or(0.0, |(t, _)| *t);
    let end = if last > 0.0 { last } else { 3.0 * p.mean_secs };
    let times: Vec<f64> = (0..SURVIVAL_POINTS)
        .map(|i| end * i as f64 / (SURVIVAL_POINTS - 1) as f64)
        .collect();
    let km = times
        .iter()
        .map(|t| {
            let before = p.kaplan_meier.partition_point(|(at, _)| at <= t);
            before.checked_sub(1).map_or(1.0, |i| p.kaplan_meier[i].1)
        })
        .collect();
    Chart {
        title: format!(
            "{name}: patience, Kaplan-Meier against the fitted {} (mean {})",
            p.dist,
            format_duration(p.mean_secs)
        ),
        x_label: "wait".to_string(),
        y_label: "still waiting".to_string(),
        x: times.iter().map(|t| format_duration(t.round())).collect(),
        series: vec![
            Series {
                name: "Kaplan-Meier".to_string(),
                values: km,
                ..Series::default()
            },
            Series {
                name: format!("fitted {}", p.dist),
                values: fitted_survival(&p.dist, p.mean_secs, p.cv, &times),
                ..Series::default()
            },
        ],
        percent: true,
        ..Chart::default()
    }
}

/// Survival of the fitted distribution at `times`, from draws of the very sampler the
/// simulator uses (fixed seed, so the chart is the same on every run); NaN when the family
/// cannot be built.
fn fitted_survival(dist: &str, mean_secs: f64, cv: f64, times: &[f64]) -> Vec<f64> {
    let kind = DistKind::ALL
        .iter()
        .find(|(n, _)| *n == dist)
        .map_or(DistKind::Exponential, |(_, k)| *k);
    let spec = Dist {
        kind,
        mean_secs,
        cv,
        values_secs: Vec::new(),
    };
    let Ok(model) = DurationModel::new(&spec, "patience") else {
        return vec![f64::NAN; times.len()];
    };
    let mut rng = stream(0, 0, 0);
    let mut draws: Vec<f64> = (0..SURVIVAL_DRAWS)
        .map(|_| model.sample(&mut rng))
        .collect();
    draws.sort_by(f64::total_cmp);
    times
        .iter()
        .map(|t| 1.0 - draws.partition_point(|d| d <= t) as f64 / draws.len() as f64)
        .collect()
}

/// The group's slowdown factor per level as bars with their 95% intervals as whiskers.
fn slowdown_chart(g: &GroupFit) -> Option<Chart> {
    if g.slowdown.is_empty() {
        return None;
    }
    Some(Chart {
        title: format!(
            "{}: handle time per concurrency level over handle time at 1 (95% CI)",
            g.name
        ),
        x_label: "chats held".to_string(),
        y_label: "slowdown factor".to_string(),
        x: g.slowdown.iter().map(|l| l.level.to_string()).collect(),
        series: vec![Series {
            name: "factor".to_string(),
            values: g.slowdown.iter().map(|l| l.factor).collect(),
            band: Some(g.slowdown.iter().map(|l| (l.ci_low, l.ci_high)).collect()),
            bars: true,
        }],
        band_label: Some("95% confidence interval".to_string()),
        ..Chart::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_read_the_local_time_as_written() {
        assert_eq!(short_label("2026-12-07T08:30:00+01:00"), "Mon 07 08:30");
        assert_eq!(short_label("08:30"), "08:30");
        assert_eq!(short_label("2026-12-07T08:30"), "Mon 07 08:30");
    }

    #[test]
    fn fitted_exponential_survival_is_exp_minus_t_over_mean() {
        let times = [0.0, 60.0, 120.0];
        let s = fitted_survival("exponential", 60.0, 1.0, &times);
        for (t, s) in times.iter().zip(s) {
            assert!((s - (-t / 60.0f64).exp()).abs() < 0.01, "{t}: {s}");
        }
    }
}
