//! Staffing: how many agents each group needs on duty per interval.
//!
//! - [`analytic`]: a closed-form staffing in milliseconds (balanced-pool model, [`pool`]);
//! - [`search`]: the simulated search that corrects it interval by interval;
//! - [`report`]: the `chatcap plan` result, verified by an independent simulation of the day
//!   (`verify`: interval by interval, repairing misses);
//! - [`caps`]: `chatcap caps`, the plan repeated for each per-agent concurrency cap.

pub(crate) mod analytic;
pub mod caps;
mod document;
mod judge;
pub(crate) mod pool;
pub(crate) mod report;
pub mod search;
mod verify;

use std::time::Instant;

pub use analytic::analytic_staffing;
pub use report::PlanReport;
pub(crate) use search::resolution;
pub use search::{SearchMode, SearchOptions};

use crate::erlang::ErlangError;
use crate::profile::Profile;
use crate::sim::{Scenario, SimError};

/// Why a plan could not be made.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    /// The closed-form seed failed (for example targets no staffing can meet).
    #[error(transparent)]
    Erlang(#[from] ErlangError),
    /// The profile and a staffing do not compile into a scenario.
    #[error(transparent)]
    Scenario(#[from] crate::scenario::ScenarioError),
    /// The simulator cannot run a staffing.
    #[error(transparent)]
    Sim(#[from] SimError),
    /// A plan option is out of range.
    #[error("invalid {option}: {message}")]
    Option {
        /// The option at fault.
        option: &'static str,
        /// What is wrong and what would be right.
        message: String,
    },
}

/// What `chatcap plan` is asked for.
#[derive(Debug, Clone, Copy)]
pub struct PlanOptions {
    /// Judge targets on the 95% confidence bound instead of the mean.
    pub confidence: bool,
    /// How the search evaluates candidates.
    pub mode: SearchMode,
    /// Worker threads (all cores when `None`); results do not depend on it.
    pub threads: Option<usize>,
    /// Paid hours per FTE, for the FTE total.
    pub fte_hours: f64,
}

impl Default for PlanOptions {
    fn default() -> Self {
        PlanOptions {
            confidence: false,
            mode: SearchMode::Incremental,
            threads: None,
            fte_hours: 8.0,
        }
    }
}

/// Verification rounds per interval: an interval that misses a target in the verification run
/// gets one more agent, or the search's resolution of a large group (see `verify`).
pub const REPAIR_ROUNDS: usize = 5;

/// Seed offset of the verification run (a stream of the same profile independent of the
/// search's).
const VERIFICATION_SEED_OFFSET: u64 = 1_000_003;

/// Timings of the phases of a plan, seconds.
#[derive(Debug, Clone, Copy, Default)]
pub struct PlanTimes {
    /// Closed-form seed.
    pub analytic_secs: f64,
    /// Simulated search.
    pub search_secs: f64,
    /// Verification and repair runs.
    pub verify_secs: f64,
}

/// Plans `profile`: closed-form seed, simulated search, verification and repair with a seed of
/// its own.
/// `progress(done, total)` is called as intervals are planned.
pub fn plan(
    profile: &Profile,
    options: PlanOptions,
    progress: &dyn Fn(usize, usize),
) -> Result<PlanReport, PlanError> {
    check_options(profile, &options)?;
    let started = Instant::now();
    let pool = crate::sim::thread_pool(options.threads)?;
    let seed = analytic_staffing(profile)?;
    let mut times = PlanTimes {
        analytic_secs: started.elapsed().as_secs_f64(),
        ..PlanTimes::default()
    };
    let total = profile.intervals + REPAIR_ROUNDS + 1;
    let search_options = SearchOptions {
        confidence: options.confidence,
        mode: options.mode,
    };
    let outcome = search::search(profile, &seed, search_options, &pool, &|i| {
        progress(i + 1, total)
    })?;
    times.search_secs = started.elapsed().as_secs_f64() - times.analytic_secs;

    let targets = judge::IntervalTargets::of(profile);
    let mut staffing = outcome.staffing.clone();
    let verified =
        verify::verify_and_repair(profile, &outcome, &targets, &pool, &mut staffing, &|r| {
            progress(profile.intervals + r + 1, total)
        })?;
    progress(total, total);
    let scenario = Scenario::new(profile, &staffing)?;
    let report_seed = verification_seed(profile);
    let verify::Verified {
        repaired,
        runs,
        perf,
    } = verified;
    times.verify_secs = started.elapsed().as_secs_f64() - times.analytic_secs - times.search_secs;
    report::build(report::Inputs {
        profile,
        scenario: &scenario,
        options,
        seed: &seed,
        outcome: &outcome,
        staffing: &staffing,
        repaired: &repaired,
        runs: &runs,
        report_seed,
        targets: &targets,
        times,
        verify_perf: perf,
        elapsed_secs: started.elapsed().as_secs_f64(),
        threads: pool.current_num_threads(),
    })
}

/// Refuses plan options and profile settings a plan cannot be made with.
fn check_options(profile: &Profile, options: &PlanOptions) -> Result<(), PlanError> {
    if !(options.fte_hours.is_finite() && options.fte_hours > 0.0 && options.fte_hours <= 24.0) {
        return Err(PlanError::Option {
            option: "--fte-hours",
            message: format!(
                "{}; give the paid hours of one FTE per day, above 0 and at most 24 (8 is usual)",
                options.fte_hours
            ),
        });
    }
    // One replication has no spread: every bound would equal the mean, and `--confidence`
    // (and the stricter judging below the closed form) would silently check means only.
    if profile.simulation.replications < 2 {
        return Err(PlanError::Option {
            option: "--replications",
            message: format!(
                "{}; the plan needs at least 2 for confidence intervals (20 is typical): set it \
                 with --replications or [simulation] replications",
                profile.simulation.replications
            ),
        });
    }
    Ok(())
}

/// The seed of the verification run.
pub(crate) fn verification_seed(profile: &Profile) -> u64 {
    profile
        .simulation
        .seed
        .wrapping_add(VERIFICATION_SEED_OFFSET)
}
