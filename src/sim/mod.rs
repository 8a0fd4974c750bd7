//! The discrete-event simulator: it drives the real routing core through a day in virtual time,
//! replicates the day with independent random streams in parallel, and reports every figure
//! with a 95% confidence interval.
//!
//! - [`events`]: the (time, sequence) event heap;
//! - [`Scenario`] (from `crate::scenario`): the profile and staffing a replication runs;
//! - [`driver`]: one replication, the event loop;
//! - [`results`]: aggregation over replications into the `chatcap simulate` report, shown
//!   as tables and charts by `document.rs`;
//! - [`targets`]: the profile's targets judged on those figures, in words;
//! - [`chatlog`]: an observer that writes down every customer and agent status of a
//!   replication, for `chatcap simulate --log`.

pub mod chatlog;
mod document;
pub(crate) mod driver;
pub(crate) mod events;
pub(crate) mod results;
pub(crate) mod targets;

use std::time::Instant;

use rayon::prelude::*;

pub use crate::scenario::{Scenario, Staffing};
pub use driver::{Engine, ReplicationTallies};
pub use events::Event;
pub use results::{QueueFigures, SimulationReport, aggregate};

use crate::routing::{AgentId, AgentStatus, ChatId, Decision, Time};

/// Where an arriving customer goes first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entry {
    /// Into the bot stage, at this place (places are reused once the bot is done).
    Bot {
        /// The customer's place in the bot stage.
        place: u32,
    },
    /// Straight into the queue, as this chat (the router's decisions about it follow).
    Queue {
        /// The customer's chat.
        chat: ChatId,
    },
}

/// Hooks into a replication, all no-ops by default: the event loop is generic over the
/// observer, so an unused hook costs nothing. The routing core's decisions tell most of a
/// chat's story ([`Observer::decision`]); the other hooks tell what only the simulator knows
/// (arrivals, the bot stage, first messages, surveys, staffing). They carry numbers only.
pub trait Observer {
    /// Whether [`Decision::LoadChanged`] reaches [`Observer::decision`]; off by default, as
    /// the router then skips them.
    const LOAD_NOTICES: bool = false;
    /// An event is about to be handled.
    #[inline]
    fn event(&mut self, _now: Time, _event: &Event) {}
    /// The routing core made a decision.
    #[inline]
    fn decision(&mut self, _now: Time, _decision: &Decision) {}
    /// A customer arrived at queue `queue` (an index into the scenario's queues); customers
    /// arrive one at a time, so the n-th call is the n-th customer.
    #[inline]
    fn arrived(&mut self, _now: Time, _queue: u16, _entry: Entry) {}
    /// The bot is done with the customer at bot-stage `place`: resolved (`None`), or handed
    /// to the queue as `Some(chat)` (the router's decisions about it follow).
    #[inline]
    fn bot_done(&mut self, _now: Time, _place: u32, _queued_as: Option<ChatId>) {}
    /// The agent's first message in a chat whose queue models a first-response delay (in other
    /// queues the answer is the first message).
    #[inline]
    fn first_response(&mut self, _now: Time, _chat: ChatId) {}
    /// A chat was closed, with the customer's survey score when they answered the survey.
    /// Comes after [`Decision::Closed`].
    #[inline]
    fn closed(&mut self, _now: Time, _chat: ChatId, _csat: Option<f64>) {}
    /// The simulator set an agent's status: `Available` on duty or back from away,
    /// `Draining` off duty (the agent finishes its chats and takes no new ones).
    #[inline]
    fn agent_status(&mut self, _now: Time, _agent: AgentId, _status: AgentStatus) {}
}

impl Observer for () {}

/// A scenario the simulator cannot run.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// A distribution cannot be sampled.
    #[error(transparent)]
    Model(#[from] crate::model::ModelError),
    /// The routing core refused the setup or an input.
    #[error("routing: {0}")]
    Routing(#[from] crate::routing::RouteError),
    /// Staffing does not fit the profile.
    #[error("staffing: {0}")]
    Staffing(String),
    /// The profile and staffing do not compile into a scenario.
    #[error(transparent)]
    Scenario(#[from] crate::scenario::ScenarioError),
    /// The worker threads could not be started.
    #[error("cannot start {threads} simulation threads: {message}")]
    Threads {
        /// Requested threads.
        threads: usize,
        /// Why.
        message: String,
    },
}

impl SimError {
    /// Whether the scenario or its settings are at fault (rather than the machine, e.g. no
    /// threads to be had).
    pub fn is_input(&self) -> bool {
        !matches!(self, SimError::Threads { .. })
    }
}

/// Runs one replication to the end.
pub fn run_replication(
    scenario: &Scenario,
    replication: u32,
) -> Result<ReplicationTallies, SimError> {
    Ok(Engine::new(scenario, replication)?.finish()?.0)
}

/// Timing of a simulation run.
#[derive(Debug, Clone, Copy, serde::Serialize, schemars::JsonSchema)]
pub struct Perf {
    /// Customers simulated, all replications.
    pub chats: u64,
    /// Events processed, all replications.
    pub events: u64,
    /// Wall-clock seconds.
    pub elapsed_secs: f64,
    /// Customers simulated per wall-clock second.
    pub chats_per_sec: f64,
    /// Worker threads used.
    pub threads: usize,
}

/// A thread pool of `threads` workers (all cores when `None`).
pub fn thread_pool(threads: Option<usize>) -> Result<rayon::ThreadPool, SimError> {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads.unwrap_or(0))
        .build()
        .map_err(|e| SimError::Threads {
            threads: threads.unwrap_or(0),
            message: e.to_string(),
        })
}

/// Runs `replications` replications on `pool`, calling `progress` after each; returns the
/// per-replication tallies in replication order (whatever the thread count) and the timing.
pub fn simulate_runs(
    scenario: &Scenario,
    replications: u32,
    pool: &rayon::ThreadPool,
    progress: &(dyn Fn() + Sync),
) -> Result<(Vec<ReplicationTallies>, Perf), SimError> {
    let started = Instant::now();
    let runs: Result<Vec<ReplicationTallies>, SimError> = pool.install(|| {
        (0..replications)
            .into_par_iter()
            .map(|rep| {
                let tallies = run_replication(scenario, rep);
                progress();
                tallies
            })
            .collect()
    });
    let runs = runs?;
    let perf = Perf::measure(&runs, started, pool.current_num_threads());
    Ok((runs, perf))
}

impl Perf {
    /// Timing of `runs` started at `started`.
    pub fn measure(runs: &[ReplicationTallies], started: Instant, threads: usize) -> Perf {
        let elapsed = started.elapsed().as_secs_f64();
        let chats = runs.iter().map(|r| r.chats).sum::<u64>();
        Perf {
            chats,
            events: runs.iter().map(|r| r.events).sum(),
            elapsed_secs: elapsed,
            chats_per_sec: if elapsed > 0.0 {
                chats as f64 / elapsed
            } else {
                0.0
            },
            threads,
        }
    }
}

/// Runs `replications` replications on `threads` threads (all cores when `None`), calling
/// `progress` after each, and aggregates them, with a warning when the profile's targets are
/// missed. The result does not depend on the thread count.
pub fn simulate(
    scenario: &Scenario,
    replications: u32,
    threads: Option<usize>,
    progress: &(dyn Fn() + Sync),
) -> Result<SimulationReport, SimError> {
    let pool = thread_pool(threads)?;
    let (runs, perf) = simulate_runs(scenario, replications, &pool, progress)?;
    Ok(report_of(scenario, &runs, perf))
}

/// [`simulate`] with `observer` following replication 0, the very replication a run without
/// it simulates (same random streams); returns the report over every replication and the
/// observer.
pub fn simulate_observed<O: Observer + Send>(
    scenario: &Scenario,
    replications: u32,
    threads: Option<usize>,
    progress: &(dyn Fn() + Sync),
    observer: O,
) -> Result<(SimulationReport, O), SimError> {
    let pool = thread_pool(threads)?;
    let started = Instant::now();
    let (first, rest) = pool.install(|| {
        rayon::join(
            || {
                let observed = Engine::with_observer(scenario, 0, observer)?.finish();
                progress();
                observed
            },
            || {
                (1..replications)
                    .into_par_iter()
                    .map(|rep| {
                        let tallies = run_replication(scenario, rep);
                        progress();
                        tallies
                    })
                    .collect::<Result<Vec<_>, SimError>>()
            },
        )
    });
    let (tallies, observer) = first?;
    let mut runs = vec![tallies];
    runs.extend(rest?);
    let perf = Perf::measure(&runs, started, pool.current_num_threads());
    Ok((report_of(scenario, &runs, perf), observer))
}

/// The report of `runs`, with a warning when the profile's targets are missed.
fn report_of(scenario: &Scenario, runs: &[ReplicationTallies], perf: Perf) -> SimulationReport {
    let mut report = aggregate(scenario, runs, perf);
    if let Some(w) = report.targets_warning() {
        report.warnings.insert(0, w);
    }
    report
}
