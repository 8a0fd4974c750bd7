//! A run as data: what one load-test process measured ([`RunRecord`]), what its summary needs
//! of the plan and flags ([`RunContext`]), and the forecast's figures ([`ForecastFigures`]).
//! One process builds its summary from these; a shard writes them to its `--result` file, and
//! `chatcap loadtest merge` adds the shards' records (counts summed, raw histograms added) and
//! builds the same summary one process would have.

use std::collections::BTreeMap;

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

use crate::api::ChatState;
use crate::metrics::QueueTally;
use crate::metrics::hdr_text::serde_text;
use crate::sim::{QueueFigures, SimulationReport};

use super::report::StaffingOut;
use super::run_state::{ChatTally, EndedBy, OfferTally, RunState, count_error};
use super::schedule::{LoadPlan, Window};
use super::shard::Shard;
use super::stats::ServerSnapshot;

/// One endpoint's requests, failures and latencies.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EndpointRecord {
    /// `METHOD /path`.
    pub route: String,
    /// A long-poll (its latency is waiting by design).
    pub long_poll: bool,
    /// Requests sent.
    pub requests: u64,
    /// Requests that failed.
    pub failures: u64,
    /// Latency in microseconds.
    #[serde(with = "serde_text")]
    pub latency_us: Histogram<u64>,
}

/// What one process measured, and how its run went.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunRecord {
    /// The KPI ledger per profile queue (the queue a chat arrived in).
    pub tallies: Vec<QueueTally>,
    /// Per endpoint, by name.
    pub endpoints: BTreeMap<String, EndpointRecord>,
    /// Route latency (offer delivered minus offered), microseconds.
    #[serde(with = "serde_text")]
    pub route_us: Histogram<u64>,
    /// Arrival lag against the schedule, microseconds.
    #[serde(with = "serde_text")]
    pub arrival_lag_us: Histogram<u64>,
    /// Chat created to first answer, microseconds.
    #[serde(with = "serde_text")]
    pub time_to_answer_us: Histogram<u64>,
    /// Chat creation sent to the first agent message seen, microseconds.
    #[serde(with = "serde_text")]
    pub first_response_us: Histogram<u64>,
    /// Chats as the load test saw them end.
    pub chats: ChatTally,
    /// Offers as the agents saw them.
    pub offers: OfferTally,
    /// Chats live at the end, by the last state their customer saw: queued, offered, active.
    pub live: [u64; 3],
    /// Unexpected outcomes by kind.
    pub errors: BTreeMap<String, u64>,
    /// The backend's figures before the run (`None`: not available).
    pub stats_before: Option<ServerSnapshot>,
    /// The backend's figures after the run.
    pub stats_after: Option<ServerSnapshot>,
    /// Things the summary should mention.
    pub warnings: Vec<String>,
    /// Why the run ended.
    pub ended_by: EndedBy,
    /// Wall seconds from the window start to the end.
    pub elapsed_secs: f64,
}

impl RunRecord {
    /// The record of the run `run` (finished or not).
    pub(crate) fn of(run: &RunState) -> RunRecord {
        let (ended_by, elapsed_secs) = run.ending();
        let rec = run.rec();
        let mut live = [0u64; 3];
        for state in rec.live.values() {
            match state {
                ChatState::Queued => live[0] += 1,
                ChatState::Offered => live[1] += 1,
                ChatState::Active => live[2] += 1,
                _ => {}
            }
        }
        let endpoints = run
            .target
            .endpoints
            .iter()
            .zip(&rec.endpoints)
            .map(|(info, stats)| {
                let record = EndpointRecord {
                    route: info.route.clone(),
                    long_poll: info.long_poll,
                    requests: stats.requests,
                    failures: stats.failures,
                    latency_us: stats.latency_us.clone(),
                };
                (info.name.clone(), record)
            })
            .collect();
        let lock = |m: &std::sync::Mutex<Option<ServerSnapshot>>| {
            m.lock().unwrap_or_else(|p| p.into_inner()).clone()
        };
        RunRecord {
            tallies: rec.tallies.clone(),
            endpoints,
            route_us: rec.route_us.clone(),
            arrival_lag_us: rec.arrival_lag_us.clone(),
            time_to_answer_us: rec.time_to_answer_us.clone(),
            first_response_us: rec.first_response_us.clone(),
            chats: rec.chats,
            offers: rec.offers,
            live,
            errors: rec.errors.clone(),
            stats_before: lock(&run.stats_before),
            stats_after: lock(&run.stats_after),
            warnings: run
                .warnings
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .clone(),
            ended_by,
            elapsed_secs,
        }
    }

    /// Adds another shard's record of the same run: counts summed, histograms added, the
    /// server's earliest snapshot before and latest after (every shard's requests lie between
    /// them), the worst ending and the longest run.
    pub fn merge(&mut self, o: &RunRecord) -> Result<(), String> {
        if o.tallies.len() != self.tallies.len() {
            return Err(format!(
                "one result has {} queues and another {}",
                self.tallies.len(),
                o.tallies.len()
            ));
        }
        for (t, ot) in self.tallies.iter_mut().zip(&o.tallies) {
            t.merge(ot);
        }
        for (name, e) in &o.endpoints {
            match self.endpoints.get_mut(name) {
                Some(mine) => {
                    mine.requests += e.requests;
                    mine.failures += e.failures;
                    add(&mut mine.latency_us, &e.latency_us)?;
                }
                None => {
                    self.endpoints.insert(name.clone(), e.clone());
                }
            }
        }
        add(&mut self.route_us, &o.route_us)?;
        add(&mut self.arrival_lag_us, &o.arrival_lag_us)?;
        add(&mut self.time_to_answer_us, &o.time_to_answer_us)?;
        add(&mut self.first_response_us, &o.first_response_us)?;
        self.chats.merge(&o.chats);
        self.offers.merge(&o.offers);
        for (mine, theirs) in self.live.iter_mut().zip(o.live) {
            *mine += theirs;
        }
        for (kind, &count) in &o.errors {
            count_error(&mut self.errors, kind.clone(), count);
        }
        self.stats_before = earliest(self.stats_before.take(), o.stats_before.clone());
        self.stats_after = latest(self.stats_after.take(), o.stats_after.clone());
        for w in &o.warnings {
            if !self.warnings.contains(w) {
                self.warnings.push(w.clone());
            }
        }
        self.ended_by = self.ended_by.max(o.ended_by);
        self.elapsed_secs = self.elapsed_secs.max(o.elapsed_secs);
        Ok(())
    }
}

fn add(mine: &mut Histogram<u64>, theirs: &Histogram<u64>) -> Result<(), String> {
    mine.add(theirs)
        .map_err(|e| format!("histograms cannot be added ({e:?})"))
}

fn earliest(a: Option<ServerSnapshot>, b: Option<ServerSnapshot>) -> Option<ServerSnapshot> {
    match (a, b) {
        (Some(a), Some(b)) => Some(if b.progress() < a.progress() { b } else { a }),
        (a, b) => a.or(b),
    }
}

fn latest(a: Option<ServerSnapshot>, b: Option<ServerSnapshot>) -> Option<ServerSnapshot> {
    match (a, b) {
        (Some(a), Some(b)) => Some(if b.progress() > a.progress() { b } else { a }),
        (a, b) => a.or(b),
    }
}

/// What the summary needs of the plan and the flags.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunContext {
    /// Profile name.
    pub profile: String,
    /// The profile's queues, in order (the record's tallies follow it).
    pub queues: Vec<String>,
    /// Target base URL.
    pub host: String,
    /// Seed of the schedule and the forecast.
    pub seed: u64,
    /// The window played.
    pub window: Window,
    /// Agents on duty (the whole run's, every shard's).
    pub staffing: StaffingOut,
    /// Customer users of this process (merged: of every shard).
    pub customers: usize,
    /// Goose users of this process (merged: of every shard).
    pub users: usize,
    /// `--drain`, wall seconds.
    pub drain_limit_secs: f64,
    /// Goose report files written.
    pub report_files: Vec<String>,
    /// The part of the run this summary covers (merged: the whole).
    pub shard: Shard,
}

impl RunContext {
    /// The context of a run of `plan` against `host`.
    pub(crate) fn of(
        plan: &LoadPlan,
        host: &str,
        drain_limit_secs: f64,
        report_files: &[String],
    ) -> RunContext {
        RunContext {
            profile: plan.profile.name.clone(),
            queues: plan.profile.queues.iter().map(|q| q.name.clone()).collect(),
            host: host.to_string(),
            seed: plan.seed,
            window: plan.window.clone(),
            staffing: StaffingOut {
                source: plan.staffing_source.to_string(),
                agents: plan.agents.len(),
                groups: plan
                    .profile
                    .agents
                    .iter()
                    .zip(&plan.staffing.groups)
                    .map(|(g, s)| (g.name.clone(), s.clone()))
                    .collect(),
            },
            customers: plan.customers,
            users: plan.shard_agents.len() + plan.customers,
            drain_limit_secs,
            report_files: report_files.to_vec(),
            shard: plan.shard,
        }
    }
}

/// The forecast's figures the summary compares with.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ForecastFigures {
    /// Replications simulated.
    pub replications: u32,
    /// All queues.
    pub overall: QueueFigures,
    /// Per queue.
    pub queues: BTreeMap<String, QueueFigures>,
    /// The simulator's warnings.
    pub warnings: Vec<String>,
}

impl ForecastFigures {
    /// The figures of a forecast run.
    pub fn of(report: &SimulationReport) -> ForecastFigures {
        ForecastFigures {
            replications: report.replications,
            overall: report.summary.overall,
            queues: report.summary.queues.clone(),
            warnings: report.warnings.clone(),
        }
    }
}
