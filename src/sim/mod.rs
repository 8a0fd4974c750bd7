//! The discrete-event simulator: it drives the real routing core through a day in virtual time,
//! replicates the day with independent random streams in parallel, and reports every figure
//! with a 95% confidence interval.
//!
//! - [`events`]: the (time, sequence) event heap;
//! - [`Scenario`] (from `crate::scenario`): the profile and staffing a replication runs;
//! - [`driver`]: one replication, the event loop;
//! - [`results`]: aggregation over replications into the `chatcap simulate` report, shown
//!   as tables and charts by `document.rs`;
//! - [`targets`]: the profile's targets judged on those figures, in words.

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
pub use results::{SimulationReport, aggregate};

use crate::routing::{Decision, Time};

/// Hooks into a replication, all no-ops by default: the event loop is generic over the
/// observer, so an unused hook costs nothing.
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
    let mut report = aggregate(scenario, &runs, perf);
    if let Some(w) = report.targets_warning() {
        report.warnings.insert(0, w);
    }
    Ok(report)
}
