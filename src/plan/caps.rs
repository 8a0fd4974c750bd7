//! `chatcap caps`: the plan repeated for each per-agent concurrency cap, so a team lead sees what
//! each cap costs in agent hours and in customer experience (slower handling, later first
//! responses), and which cap to run.
//!
//! A higher cap needs fewer agents as long as the slowdown per extra chat stays modest, but each
//! chat takes longer (AHT inflation) and the agent's first reply comes later. The recommended
//! cap is the one with the fewest agent hours among the caps whose plan reaches every target,
//! whose FRT p90 stays within `max_frt_p90_secs` and whose AHT stays within `max_aht_inflation`
//! times the handle time at concurrency 1.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;

use serde::Serialize;

use crate::metrics::Estimate;
use crate::profile::{MAX_CONCURRENCY, Profile, Slowdown};
use crate::report::{Cell, Chart, Document, Mark, Series, Table, ToDocument};
use crate::sim::targets::distinct;

use super::{PlanError, PlanOptions, PlanReport, plan};

/// Limits a cap must stay within to be recommended.
#[derive(Debug, Clone, Copy)]
pub struct CapLimits {
    /// Longest 90th-percentile first-response time, seconds.
    pub max_frt_p90_secs: f64,
    /// Largest ratio of AHT to the handle time at concurrency 1.
    pub max_aht_inflation: f64,
}

/// The plan with one cap.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct CapRow {
    /// Chats each agent may hold at once (every group).
    pub cap: u32,
    /// Required agent hours over the day.
    pub agent_hours: f64,
    /// Rostered agent hours (shrinkage included).
    pub rostered_agent_hours: f64,
    /// Most agents required in one interval.
    pub peak_required: u32,
    /// Most agents rostered in one interval.
    pub peak_rostered: u32,
    /// Mean answered-to-closed time with this cap's slowdown, seconds.
    pub aht_secs: Estimate,
    /// AHT over the handle time at concurrency 1.
    pub aht_inflation: f64,
    /// Whole-day service level.
    pub service_level: Estimate,
    /// Whole-day abandon rate.
    pub abandon_rate: Estimate,
    /// 90th percentile first-response time, seconds.
    pub frt_p90_secs: Estimate,
    /// Busy slots / staffed slots.
    pub occupancy: Estimate,
    /// Mean chats per staffed agent.
    pub mean_concurrency: Estimate,
    /// Every interval meets every target in the plan's verification run (a miss there within
    /// the simulation's noise does not make a cap ineligible; an unreachable target does).
    pub targets_met: bool,
    /// Within every limit, and the targets reachable: a candidate for the recommendation.
    pub eligible: bool,
    /// Why not, when not eligible.
    pub reasons: Vec<String>,
    /// This is the recommended cap.
    pub recommended: bool,
}

/// The `chatcap caps` result.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct CapsReport {
    /// Profile name.
    pub profile: String,
    /// Replications per plan.
    pub replications: u32,
    /// Seed of the plans.
    pub seed: u64,
    /// Handle time at concurrency 1, volume-weighted over queues and intervals, seconds.
    pub base_aht_secs: f64,
    /// Longest FRT p90 allowed for the recommendation, seconds.
    pub max_frt_p90_secs: f64,
    /// Largest AHT inflation allowed for the recommendation.
    pub max_aht_inflation: f64,
    /// One row per cap tried.
    pub caps: Vec<CapRow>,
    /// The cap to run: fewest agent hours among the eligible ones; null when none is.
    pub recommended: Option<u32>,
    /// Why that cap, in words.
    pub reason: String,
    /// Things to know.
    pub warnings: Vec<String>,
}

/// Volume-weighted handle time at concurrency 1 of the chats agents handle, seconds.
fn base_aht(profile: &Profile) -> f64 {
    let (mut work, mut chats) = (0.0, 0.0);
    for q in &profile.queues {
        let bot = q.bot.as_ref().map_or(0.0, |b| b.resolve_share);
        for (i, v) in q.volume.iter().enumerate() {
            let handled = v * (1.0 - bot);
            let aht = q
                .aht_by_interval
                .get(i)
                .copied()
                .unwrap_or(q.handle_time.mean_secs);
            work += handled * aht;
            chats += handled;
        }
    }
    if chats > 0.0 { work / chats } else { f64::NAN }
}

/// Why `caps` cannot run.
#[derive(Debug, thiserror::Error)]
pub enum CapsError {
    /// An input is out of range.
    #[error(transparent)]
    Input(#[from] CapsInputError),
    /// The plan for one cap failed.
    #[error(transparent)]
    Plan(#[from] PlanError),
}

/// A `caps` input out of range, said in the planner's terms (a command line names its own flags
/// beside it).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CapsInputError {
    /// No cap to try, or a cap outside `1..=most`.
    #[error("caps {caps:?} are not one or more caps between 1 and {most}; give caps in that range")]
    Caps {
        /// The caps given.
        caps: Vec<u32>,
        /// The largest cap allowed.
        most: u32,
    },
    /// The AHT inflation limit is below 1 or not a number.
    #[error(
        "the AHT inflation limit {0} is below 1; give a ratio of at least 1 (1.5 allows chats \
         to take 50% longer)"
    )]
    AhtInflation(f64),
    /// The FRT p90 limit is not a positive time.
    #[error("the FRT p90 limit {0} s is not a positive time; give one such as 60 s")]
    FrtP90(f64),
}

/// Checks the caps to try and the limits of a recommended cap.
fn check_inputs(caps: &[u32], limits: CapLimits) -> Result<(), CapsInputError> {
    let most = MAX_CONCURRENCY as u32;
    if caps.is_empty() || caps.iter().any(|&c| c == 0 || c > most) {
        return Err(CapsInputError::Caps {
            caps: caps.to_vec(),
            most,
        });
    }
    if !(limits.max_aht_inflation.is_finite() && limits.max_aht_inflation >= 1.0) {
        return Err(CapsInputError::AhtInflation(limits.max_aht_inflation));
    }
    if !(limits.max_frt_p90_secs.is_finite() && limits.max_frt_p90_secs > 0.0) {
        return Err(CapsInputError::FrtP90(limits.max_frt_p90_secs));
    }
    Ok(())
}

/// Plans `profile` once per cap in `caps`; `progress(done, total)` after each.
pub fn caps(
    profile: &Profile,
    caps: &[u32],
    limits: CapLimits,
    options: PlanOptions,
    progress: &dyn Fn(usize, usize),
) -> Result<CapsReport, CapsError> {
    check_inputs(caps, limits)?;
    let base = base_aht(profile);
    let largest = caps.iter().copied().max().unwrap_or(1);
    let warnings = slowdown_warnings(profile, largest);
    let rows = plan_caps(profile, caps, base, limits, options, progress)?;
    let best = rows.iter().filter(|r| r.eligible).min_by(|a, b| {
        a.agent_hours
            .total_cmp(&b.agent_hours)
            .then(a.cap.cmp(&b.cap))
    });
    let recommended = best.map(|b| b.cap);
    let reason = recommendation_reason(best, &rows, limits);
    Ok(CapsReport {
        profile: profile.name.clone(),
        replications: profile.simulation.replications,
        seed: profile.simulation.seed,
        base_aht_secs: base,
        max_frt_p90_secs: limits.max_frt_p90_secs,
        max_aht_inflation: limits.max_aht_inflation,
        recommended,
        caps: rows
            .into_iter()
            .map(|r| CapRow {
                recommended: Some(r.cap) == recommended,
                ..r
            })
            .collect(),
        reason,
        warnings,
    })
}

/// The plan of every cap, in the order of `caps`. The caps are planned side by side, each on
/// its share of the threads (one each when there are more caps than threads): a plan's own
/// threads wait for one another between batches of replications, two plans do not. Each plan
/// is the same on any thread count, so the rows are too. `progress(done, total)` is called as
/// plans finish.
fn plan_caps(
    profile: &Profile,
    caps: &[u32],
    base: f64,
    limits: CapLimits,
    options: PlanOptions,
    progress: &dyn Fn(usize, usize),
) -> Result<Vec<CapRow>, PlanError> {
    let threads = options.threads.unwrap_or_else(|| {
        std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
    });
    let workers = threads.min(caps.len()).max(1);
    let per_plan = PlanOptions {
        threads: Some((threads / workers).max(1)),
        ..options
    };
    let next = AtomicUsize::new(0);
    let (done_tx, done_rx) = mpsc::channel();
    let mut rows: Vec<Option<Result<CapRow, PlanError>>> = caps.iter().map(|_| None).collect();
    std::thread::scope(|scope| {
        for _ in 0..workers {
            let (done_tx, next) = (done_tx.clone(), &next);
            scope.spawn(move || {
                loop {
                    let k = next.fetch_add(1, Ordering::Relaxed);
                    let Some(&cap) = caps.get(k) else { break };
                    let row = plan_cap(profile, cap, base, limits, per_plan);
                    if done_tx.send((k, row)).is_err() {
                        break;
                    }
                }
            });
        }
        drop(done_tx);
        for (done, (k, row)) in done_rx.iter().enumerate() {
            rows[k] = Some(row);
            progress(done + 1, caps.len());
        }
    });
    rows.into_iter().flatten().collect()
}

/// A warning per agent group whose slowdown list stops short of the `largest` cap tried.
fn slowdown_warnings(profile: &Profile, largest: u32) -> Vec<String> {
    profile
        .agents
        .iter()
        .filter_map(|g| match &g.slowdown {
            Slowdown::Levels(levels) if levels.len() < largest as usize => Some(format!(
                "agent group {:?} lists slowdown for {} chats; larger caps repeat the last \
                 factor. List a factor per level up to the largest cap tried ({largest})",
                g.name,
                levels.len()
            )),
            _ => None,
        })
        .collect()
}

/// The plan of `profile` with every group at `cap`, judged against `limits` (`base`: the
/// handle time at concurrency 1); not yet marked recommended.
fn plan_cap(
    profile: &Profile,
    cap: u32,
    base: f64,
    limits: CapLimits,
    options: PlanOptions,
) -> Result<CapRow, PlanError> {
    let mut p = profile.clone();
    for g in &mut p.agents {
        g.concurrency = cap;
    }
    let report = plan(&p, options, &|_, _| {})?;
    let reasons = ineligible_reasons(&report, base, limits, options.confidence);
    let s = &report.summary;
    let totals = &report.totals.all;
    Ok(CapRow {
        cap,
        agent_hours: totals.agent_hours,
        rostered_agent_hours: totals.rostered_agent_hours,
        peak_required: totals.peak_required,
        peak_rostered: totals.peak_rostered,
        aht_secs: s.overall.aht_secs,
        aht_inflation: s.overall.aht_secs.mean / base,
        service_level: s.overall.service_level,
        abandon_rate: s.overall.abandon_rate,
        frt_p90_secs: s.overall.frt_p90_secs,
        occupancy: s.agents.occupancy,
        mean_concurrency: s.agents.mean_concurrency,
        targets_met: report.targets_met,
        eligible: reasons.is_empty(),
        reasons,
        recommended: false,
    })
}

/// Why a cap's plan may not be recommended: unreachable targets, FRT p90 or AHT past their
/// limits; empty when it may.
fn ineligible_reasons(
    report: &PlanReport,
    base: f64,
    limits: CapLimits,
    confidence: bool,
) -> Vec<String> {
    // With --confidence the limits hold for the upper 95% bound, as the targets do (the
    // same check); `upper` is the figure the message quotes.
    let upper = |e: &Estimate| if confidence { e.ci_high } else { e.mean };
    let mut reasons = Vec::new();
    if !report.unreachable.is_empty() {
        reasons.push(format!(
            "no staffing meets the targets at {}",
            report
                .unreachable
                .iter()
                .map(|u| u.start.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    let overall = &report.summary.overall;
    let frt = overall.frt_p90_secs;
    if !frt.meets_at_most(limits.max_frt_p90_secs, confidence) {
        let (value, limit) = distinct(upper(&frt), limits.max_frt_p90_secs, 0);
        reasons.push(format!("FRT p90 {value} s above {limit} s"));
    }
    let aht = overall.aht_secs;
    if !aht.meets_at_most(limits.max_aht_inflation * base, confidence) {
        let (value, limit) = distinct(upper(&aht) / base, limits.max_aht_inflation, 2);
        reasons.push(format!(
            "AHT {value}x the concurrency-1 handle time, above {limit}x"
        ));
    }
    reasons
}

/// Why `best` is the cap to run, or why no cap is.
fn recommendation_reason(best: Option<&CapRow>, rows: &[CapRow], limits: CapLimits) -> String {
    let Some(b) = best else {
        return format!(
            "no cap tried meets every target with FRT p90 at most {:.0} s and AHT at most \
             {:.2}x; relax --max-frt-p90 or --max-aht-inflation, or try other caps",
            limits.max_frt_p90_secs, limits.max_aht_inflation
        );
    };
    let mut reason = format!(
        "cap {} needs the fewest agent hours ({:.1}) among the caps that meet every target with \
         FRT p90 at most {:.0} s and AHT at most {:.2}x",
        b.cap, b.agent_hours, limits.max_frt_p90_secs, limits.max_aht_inflation
    );
    if let Some(cheaper) = rows
        .iter()
        .filter(|r| !r.eligible && r.agent_hours < b.agent_hours)
        .min_by(|a, b| a.agent_hours.total_cmp(&b.agent_hours))
    {
        reason.push_str(&format!(
            "; cap {} would need {:.1} agent hours but {}",
            cheaper.cap,
            cheaper.agent_hours,
            cheaper.reasons.join(" and ")
        ));
    }
    reason
}

impl ToDocument for CapsReport {
    fn document(&self) -> Document {
        let mut notes = vec![
            format!(
                "each cap planned with {} replications, seed {}; handle time at concurrency 1: \
                 {:.0} s",
                self.replications, self.seed, self.base_aht_secs
            ),
            match self.recommended {
                Some(c) => format!("recommended cap: {c}: {}", self.reason),
                None => format!("no recommended cap: {}", self.reason),
            },
        ];
        notes.extend(self.warnings.iter().map(|w| format!("warning: {w}")));
        Document {
            title: format!("chatcap caps: {}", self.profile),
            notes,
            tables: vec![self.table()],
            csv_rows: Some("/caps"),
            charts: self.charts(),
        }
    }
}

impl CapsReport {
    /// One row per cap, the recommended one marked.
    fn table(&self) -> Table {
        let mut table = Table::new(
            "Plan per concurrency cap",
            &[
                "cap",
                "agent hours",
                "rostered hours",
                "peak rostered",
                "AHT s",
                "AHT x",
                "SL",
                "FRT p90 s",
                "occupancy",
                "eligible",
            ],
        )
        .with_secondary(&["rostered hours", "occupancy", "AHT s", "peak rostered"]);
        for r in &self.caps {
            let mark = if r.recommended {
                Mark::Pick
            } else {
                Mark::Plain
            };
            table.push_marked(
                vec![
                    Cell::Int(i64::from(r.cap)),
                    Cell::num(r.agent_hours, 1),
                    Cell::num(r.rostered_agent_hours, 1),
                    Cell::Int(i64::from(r.peak_rostered)),
                    Cell::ci(&r.aht_secs, 0),
                    Cell::num(r.aht_inflation, 2),
                    Cell::ci_pct(&r.service_level),
                    Cell::ci(&r.frt_p90_secs, 1),
                    Cell::ci_pct(&r.occupancy),
                    Cell::text(if r.recommended {
                        "RECOMMENDED".to_string()
                    } else if r.eligible {
                        "yes".to_string()
                    } else {
                        format!("no: {}", r.reasons.join("; "))
                    }),
                ],
                mark,
            );
        }
        table
    }

    /// Agent hours, FRT p90 and AHT per cap, the recommended cap highlighted.
    fn charts(&self) -> Vec<Chart> {
        let x: Vec<String> = self.caps.iter().map(|r| r.cap.to_string()).collect();
        let chart = |title: &str, y: &str, series: Vec<Series>, targets| Chart {
            title: title.into(),
            x_label: "concurrency cap".into(),
            y_label: y.into(),
            x: x.clone(),
            series,
            targets,
            percent: false,
            highlight: self
                .caps
                .iter()
                .position(|r| r.recommended)
                .map(|i| (i, "recommended".to_string())),
            ..Chart::default()
        };
        let hours = Series {
            name: "agent hours".into(),
            values: self.caps.iter().map(|r| r.agent_hours).collect(),
            band: None,
            bars: true,
        };
        let rostered = Series {
            name: "rostered agent hours".into(),
            values: self.caps.iter().map(|r| r.rostered_agent_hours).collect(),
            band: None,
            bars: true,
        };
        let frt = Series::estimates("FRT p90", self.caps.iter().map(|r| r.frt_p90_secs), false);
        let aht = Series::estimates("AHT", self.caps.iter().map(|r| r.aht_secs), false);
        vec![
            chart(
                "Agent hours per concurrency cap",
                "agent hours",
                vec![hours, rostered],
                Vec::new(),
            ),
            chart(
                "First-response time p90 per concurrency cap",
                "seconds",
                vec![frt],
                vec![("max FRT p90".into(), self.max_frt_p90_secs)],
            ),
            chart(
                "Average handle time per concurrency cap",
                "seconds",
                vec![aht],
                vec![(
                    format!("{:.2}x base", self.max_aht_inflation),
                    self.max_aht_inflation * self.base_aht_secs,
                )],
            ),
        ]
    }
}
