//! Staffing: how many agents each group needs on duty per interval.
//!
//! - [`analytic`]: a closed-form staffing in milliseconds (balanced-pool model, [`pool`]);
//! - [`search`]: the simulated search that corrects it interval by interval;
//! - [`report`]: the `chatcap plan` result, verified by an independent simulation of the day;
//! - [`caps`]: `chatcap caps`, the plan repeated for each per-agent concurrency cap.

pub(crate) mod analytic;
pub mod caps;
mod document;
mod judge;
pub(crate) mod pool;
pub(crate) mod report;
pub mod search;

use std::time::Instant;

pub use analytic::analytic_staffing;
pub use report::PlanReport;
pub use search::{SearchMode, SearchOptions};

use crate::erlang::ErlangError;
use crate::profile::Profile;
use crate::sim::{self, ReplicationTallies, Scenario, SimError, Staffing};

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

/// Verification rounds: intervals that miss a target in the verification run get one more agent.
pub const REPAIR_ROUNDS: usize = 3;

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

/// Runs the whole day of `scenario` with `seed`; the per-replication tallies.
fn run_day(
    scenario: &Scenario,
    seed: u64,
    replications: u32,
    pool: &rayon::ThreadPool,
) -> Result<(Vec<ReplicationTallies>, sim::Perf), SimError> {
    let mut sc = scenario.clone();
    sc.seed = seed;
    sim::simulate_runs(&sc, replications, pool, &|| {})
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
    let pool = sim::thread_pool(options.threads)?;
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
    let verified = verify_and_repair(profile, &outcome, &targets, &pool, &mut staffing, &|r| {
        progress(profile.intervals + r + 1, total)
    })?;
    progress(total, total);
    let scenario = Scenario::new(profile, &staffing)?;
    let report_seed = verification_seed(profile);
    let Verified {
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
fn verification_seed(profile: &Profile) -> u64 {
    profile
        .simulation
        .seed
        .wrapping_add(VERIFICATION_SEED_OFFSET)
}

/// The verification run of the final staffing and the cells its repairs raised.
struct Verified {
    /// (interval, group) cells raised.
    repaired: Vec<(usize, usize)>,
    /// Per replication, the run of the final staffing.
    runs: Vec<ReplicationTallies>,
    /// Its speed.
    perf: sim::Perf,
}

/// The whole horizon simulated with a seed independent of the search's, up to
/// [`REPAIR_ROUNDS`] times: each interval that misses a target gets one more agent in the
/// group carrying most of a failing queue, and in each group above its occupancy limit (never
/// beyond a group's `max_on_duty`), and the run is repeated. Returns the run of the final
/// staffing (its figures are the ones reported) and the cells raised; `round_started(r)` is
/// called as round `r` starts.
fn verify_and_repair(
    profile: &Profile,
    outcome: &search::SearchOutcome,
    targets: &judge::IntervalTargets,
    pool: &rayon::ThreadPool,
    staffing: &mut Staffing,
    round_started: &dyn Fn(usize),
) -> Result<Verified, PlanError> {
    let replications = profile.simulation.replications;
    let seed = verification_seed(profile);
    let mut repaired = Vec::new();
    let mut round = 0;
    loop {
        round_started(round);
        let scenario = Scenario::new(profile, staffing)?;
        let (runs, perf) = run_day(&scenario, seed, replications, pool)?;
        let done = round == REPAIR_ROUNDS
            || !raise_misses(profile, outcome, targets, &runs, staffing, &mut repaired);
        if done {
            return Ok(Verified {
                repaired,
                runs,
                perf,
            });
        }
        round += 1;
    }
}

/// One more agent where the verification run `runs` misses a target (the group carrying most
/// of a failing queue, each group above its occupancy limit), except in unreachable intervals
/// and past a group's `max_on_duty`; the cells raised are added to `repaired`. Whether any was.
fn raise_misses(
    profile: &Profile,
    outcome: &search::SearchOutcome,
    targets: &judge::IntervalTargets,
    runs: &[ReplicationTallies],
    staffing: &mut Staffing,
    repaired: &mut Vec<(usize, usize)>,
) -> bool {
    let verdicts = judge::judge_day(runs, profile.intervals, targets, false);
    let mut changed = false;
    for (i, (queues, groups)) in verdicts.iter().enumerate() {
        // More agents stop helping there: the search kept the staffing beyond which.
        if outcome.unreachable.iter().any(|u| u.interval == i) {
            continue;
        }
        let mut raise = vec![false; staffing.groups.len()];
        let room = |g: usize| {
            let (_, most) = profile.agents[g].on_duty_bounds(profile.is_open(i));
            staffing.groups[g][i] < most
        };
        for &q in queues {
            // The group carrying most of the failing queue, of those below their max_on_duty.
            if let Some(&g) = targets.servers[q]
                .iter()
                .filter(|&&g| room(g))
                .max_by_key(|&&g| (staffing.groups[g][i], std::cmp::Reverse(g)))
            {
                raise[g] = true;
            }
        }
        for &g in groups.iter().filter(|&&g| room(g)) {
            raise[g] = true;
        }
        for (g, up) in raise.iter().enumerate() {
            if *up {
                staffing.groups[g][i] += 1;
                repaired.push((i, g));
                changed = true;
            }
        }
    }
    changed
}
