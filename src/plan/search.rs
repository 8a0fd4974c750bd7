//! The simulated staffing search behind `chatcap plan`.
//!
//! Closed forms cannot see concurrency with slowdown, accept delays, bot deflection, transfers
//! or the backlog one interval hands to the next; the simulator sees all of them but is costly.
//! The search therefore starts from the closed-form staffing ([`super::analytic`]) and corrects
//! it with the simulator, one interval at a time, in time order:
//!
//! 1. `R` replication engines hold the day simulated up to the start of interval `i` with the
//!    staffing already chosen, so the backlog carried into `i` is the real one.
//! 2. A candidate staffing (one number per agent group) is evaluated on clones of those engines:
//!    every clone continues its engine's random streams, so all candidates see the same
//!    customers (common random numbers) and differences between them are the staffing's alone.
//!    A clone runs to the end of `i` plus a short lookahead into `i + 1` (at its closed-form
//!    staffing) so that the chats arriving late in `i` are resolved; the lookahead is at least
//!    the longest service-level threshold, so a chat still waiting at its end has missed the
//!    threshold, and it counts as missed and as abandoned.
//! 3. A candidate is feasible when every queue with chats in `i` meets its service level, max
//!    abandon and max ASA, and every staffed group meets the strictest max occupancy of the
//!    queues it serves, judged on the mean over replications. `--confidence` judges every
//!    target on its 95% confidence bound; so does any candidate with fewer agents in total
//!    than the closed form, so that the simulation overrules the closed form downwards only when
//!    it is confident.
//! 4. The heuristic, from the closed-form staffing: raise the groups serving failing queues by
//!    10% until feasible; then, group by group, the fewest agents that stay feasible (one step
//!    down, then doubling steps and bisection); then, with several groups, exchanges (two agents
//!    fewer in one group for one more in another) while they stay feasible, and the descent
//!    again. Evaluations are cached per candidate.
//! 5. The engines advance through `i` with the chosen staffing.
//!
//! The whole day is then simulated again with a fresh seed; an interval that misses a target
//! there gets one more agent in the group carrying most of the failing queue (at most
//! [`REPAIR_ROUNDS`] rounds), and the figures reported come from a third, independent run.

use std::collections::HashMap;

use rayon::prelude::*;

use crate::metrics::{Estimate, QueueTally, ratio};
use crate::profile::Profile;
use crate::routing::{SECOND, Time};
use crate::sim::{Engine, ReplicationTallies, Scenario, SimError, Staffing};

use super::PlanError;

/// How candidate staffings are evaluated.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Default,
    clap::ValueEnum,
    serde::Serialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum SearchMode {
    /// Clone the engines at the start of the interval (the default).
    #[default]
    Incremental,
    /// Re-simulate the day from the start for every candidate (same answer, slower; for
    /// comparison).
    Naive,
}

/// What the search is asked for.
#[derive(Debug, Clone, Copy)]
pub struct SearchOptions {
    /// Judge targets on the confidence bound instead of the mean.
    pub confidence: bool,
    /// How candidates are evaluated.
    pub mode: SearchMode,
}

/// The chosen staffing and what finding it cost.
#[derive(Debug, Clone)]
pub struct SearchOutcome {
    /// Agents on duty per group and interval.
    pub staffing: Staffing,
    /// Candidate staffings simulated (cache hits excluded).
    pub evaluations: u64,
    /// Intervals whose targets no staffing within the search limit met.
    pub unmet: Vec<usize>,
}

/// Most agents each group may get in the search: a multiple of its closed-form peak. The
/// search's engines are built with this many agents per group.
pub fn group_limits(seed: &Staffing) -> Vec<u32> {
    seed.groups
        .iter()
        .map(|s| {
            let peak = s.iter().copied().max().unwrap_or(0);
            (peak * 3).max(peak + 20)
        })
        .collect()
}

/// Rounds of the feasibility phase before an interval is declared unreachable.
const RAISE_ROUNDS: usize = 40;

/// Verdict of one candidate in one interval.
#[derive(Debug, Clone, PartialEq, Default)]
struct Verdict {
    feasible: bool,
    /// Queues missing a target.
    failing_queues: Vec<usize>,
    /// Groups above their occupancy limit.
    failing_groups: Vec<usize>,
}

/// The counts of one replication in one interval that the targets need.
#[derive(Debug, Clone, Copy, Default)]
struct QueueCounts {
    offered: u64,
    answered: u64,
    answered_within: u64,
    abandoned: u64,
    /// Still unresolved when the evaluation stopped, stranded included.
    unresolved: u64,
    wait_sum_answered: f64,
}

impl QueueCounts {
    fn of(t: &QueueTally) -> QueueCounts {
        let resolved = t.rejected + t.answered + t.abandoned + t.short_abandoned;
        QueueCounts {
            offered: t.offered,
            answered: t.answered,
            answered_within: t.answered_within,
            abandoned: t.abandoned,
            unresolved: t.offered.saturating_sub(resolved).max(t.stranded),
            wait_sum_answered: t.wait_sum_answered,
        }
    }

    /// Unresolved chats have waited past the threshold: misses, and counted as abandons.
    fn service_level(&self) -> f64 {
        let den = self.answered + self.abandoned + self.unresolved;
        ratio(self.answered_within as f64, den as f64)
    }

    fn abandon_rate(&self) -> f64 {
        ratio(
            (self.abandoned + self.unresolved) as f64,
            self.offered as f64,
        )
    }

    fn asa_secs(&self) -> f64 {
        ratio(self.wait_sum_answered, self.answered as f64)
    }
}

/// Busy and staffed slot time of one group in one interval.
#[derive(Debug, Clone, Copy, Default)]
struct GroupCounts {
    staffed_slot_secs: f64,
    busy_slot_secs: f64,
}

impl GroupCounts {
    fn occupancy(&self) -> f64 {
        ratio(self.busy_slot_secs, self.staffed_slot_secs)
    }
}

/// One replication's counts in one interval.
#[derive(Debug, Clone, Default)]
struct IntervalCounts {
    queues: Vec<QueueCounts>,
    groups: Vec<GroupCounts>,
}

fn interval_counts(t: &ReplicationTallies, i: usize, nq: usize, ng: usize) -> IntervalCounts {
    IntervalCounts {
        queues: (0..nq)
            .map(|q| QueueCounts::of(&t.queues[i * nq + q]))
            .collect(),
        groups: (0..ng)
            .map(|g| {
                let a = &t.agents[i * ng + g];
                GroupCounts {
                    staffed_slot_secs: a.staffed_slot_secs,
                    busy_slot_secs: a.busy_slot_secs,
                }
            })
            .collect(),
    }
}

/// The targets of one interval, resolved per queue and per group.
#[derive(Debug, Clone)]
pub(crate) struct IntervalTargets {
    /// Per queue: service level, max abandon, max ASA.
    pub queues: Vec<(f64, Option<f64>, Option<f64>)>,
    /// Per group: the strictest max occupancy of the queues it serves.
    pub groups: Vec<Option<f64>>,
    /// Per queue: the groups that serve it.
    pub servers: Vec<Vec<usize>>,
}

impl IntervalTargets {
    pub(crate) fn of(profile: &Profile) -> IntervalTargets {
        let servers = profile.serving_groups();
        let groups = (0..profile.agents.len())
            .map(|g| {
                profile
                    .queues
                    .iter()
                    .enumerate()
                    .filter(|(q, _)| servers[*q].contains(&g))
                    .filter_map(|(_, q)| q.targets.max_occupancy)
                    .reduce(f64::min)
            })
            .collect();
        IntervalTargets {
            queues: profile
                .queues
                .iter()
                .map(|q| {
                    let t = &q.targets;
                    (t.service_level, t.max_abandon, t.max_asa_secs)
                })
                .collect(),
            groups,
            servers,
        }
    }
}

/// Whether an estimate meets "at least `target`" (`strict`: its lower bound does).
pub(crate) fn at_least(e: &Estimate, target: f64, strict: bool) -> bool {
    let value = if strict { e.ci_low } else { e.mean };
    !value.is_finite() || value + 1e-12 >= target
}

/// Whether an estimate meets "at most `limit`" (`strict`: its upper bound does).
pub(crate) fn at_most(e: &Estimate, limit: f64, strict: bool) -> bool {
    let value = if strict { e.ci_high } else { e.mean };
    !value.is_finite() || value <= limit + 1e-12
}

/// Judges the per-replication counts of one interval against its targets.
fn judge(reps: &[IntervalCounts], targets: &IntervalTargets, strict: bool) -> Verdict {
    let mut failing_queues = Vec::new();
    for (q, &(sl, max_abandon, max_asa)) in targets.queues.iter().enumerate() {
        let est = |f: fn(&QueueCounts) -> f64| {
            Estimate::from_samples(reps.iter().map(|r| f(&r.queues[q])))
        };
        let ok = at_least(&est(QueueCounts::service_level), sl, strict)
            && max_abandon.is_none_or(|m| at_most(&est(QueueCounts::abandon_rate), m, strict))
            && max_asa.is_none_or(|m| at_most(&est(QueueCounts::asa_secs), m, strict));
        if !ok {
            failing_queues.push(q);
        }
    }
    let mut failing_groups = Vec::new();
    for (g, limit) in targets.groups.iter().enumerate() {
        if let Some(limit) = limit {
            let occ = Estimate::from_samples(reps.iter().map(|r| r.groups[g].occupancy()));
            if !at_most(&occ, *limit, strict) {
                failing_groups.push(g);
            }
        }
    }
    Verdict {
        feasible: failing_queues.is_empty() && failing_groups.is_empty(),
        failing_queues,
        failing_groups,
    }
}

/// Whether interval `i` has any chat to judge in any replication.
fn measurable(reps: &[IntervalCounts]) -> bool {
    reps.iter().any(|r| r.queues.iter().any(|q| q.offered > 0))
}

/// The per-interval search state shared by both evaluation modes.
struct Search<'a, 's> {
    scenario: &'s Scenario,
    targets: &'a IntervalTargets,
    options: SearchOptions,
    seed: &'a Staffing,
    replications: u32,
    /// Engines at the start of the current interval (incremental mode).
    engines: Vec<Engine<'s>>,
    /// Staffing chosen so far.
    chosen: Vec<Vec<u32>>,
    lookahead: Time,
    pool: &'a rayon::ThreadPool,
    evaluations: u64,
    /// Verdicts of the current interval's candidates.
    cache: HashMap<Vec<u32>, Verdict>,
    /// The closed-form staffing of the current interval.
    interval_seed: Vec<u32>,
    /// The verdict of the last candidate simulated.
    last: Verdict,
}

impl<'a, 's> Search<'a, 's> {
    /// Simulates candidate `staff` for interval `i`; the counts of `i` per replication.
    fn simulate(&mut self, i: usize, staff: &[u32]) -> Result<Vec<IntervalCounts>, SimError> {
        self.evaluations += 1;
        let sc = self.scenario;
        let (nq, ng) = (sc.queues.len(), sc.groups.len());
        let last = i + 1 == sc.intervals;
        let until = sc.interval * (i as Time + 1) + self.lookahead;
        let run = |mut engine: Engine<'s>| -> Result<IntervalCounts, SimError> {
            for (g, &n) in staff.iter().enumerate() {
                engine.set_staffing(g, i, n)?;
            }
            if last {
                let (tallies, ()) = engine.finish()?;
                Ok(interval_counts(&tallies, i, nq, ng))
            } else {
                engine.run_until(until)?;
                Ok(interval_counts(engine.tallies(), i, nq, ng))
            }
        };
        let chosen = &self.chosen;
        self.pool.install(|| match self.options.mode {
            SearchMode::Incremental => self.engines.par_iter().map(|e| run(e.clone())).collect(),
            SearchMode::Naive => (0..self.replications)
                .into_par_iter()
                .map(|rep| {
                    let mut engine = Engine::new(sc, rep)?;
                    for (j, staff) in chosen.iter().enumerate() {
                        for (g, &n) in staff.iter().enumerate() {
                            engine.set_staffing(g, j, n)?;
                        }
                    }
                    run(engine)
                })
                .collect(),
        })
    }

    /// Moves the engines through interval `i` with its chosen staffing.
    fn advance(&mut self, i: usize, staff: &[u32]) -> Result<(), SimError> {
        self.chosen.push(staff.to_vec());
        // Naive evaluations start from scratch; after the last interval nothing is evaluated.
        if self.options.mode == SearchMode::Naive || i + 1 >= self.scenario.intervals {
            return Ok(());
        }
        let until = self.scenario.interval * (i as Time + 1);
        self.pool.install(|| {
            self.engines.par_iter_mut().try_for_each(|e| {
                for (g, &n) in staff.iter().enumerate() {
                    e.set_staffing(g, i, n)?;
                }
                e.run_until(until)?;
                // Only the next interval's figures are read from the copies.
                e.discard_tallies_before(i + 1);
                Ok(())
            })
        })
    }

    /// Evaluates candidate `staff` for interval `i`, once per candidate.
    fn evaluate(&mut self, i: usize, staff: &[u32]) -> Result<bool, SimError> {
        if let Some(v) = self.cache.get(staff) {
            self.last = v.clone();
            return Ok(v.feasible);
        }
        let reps = self.simulate(i, staff)?;
        let seed = &self.interval_seed;
        let strict = self.options.confidence || staff.iter().sum::<u32>() < seed.iter().sum();
        let verdict = if measurable(&reps) {
            judge(&reps, self.targets, strict)
        } else {
            // Nothing to measure (no chats, or all within the warm-up): keep the closed form.
            let keeps = staff.iter().zip(seed).all(|(a, b)| a >= b);
            Verdict {
                feasible: keeps,
                failing_queues: Vec::new(),
                failing_groups: if keeps {
                    Vec::new()
                } else {
                    (0..seed.len()).collect()
                },
            }
        };
        let feasible = verdict.feasible;
        self.last = verdict.clone();
        self.cache.insert(staff.to_vec(), verdict);
        Ok(feasible)
    }

    /// Group by group, the fewest agents that keep the feasible `staff` feasible.
    fn descend(&mut self, i: usize, staff: &mut [u32]) -> Result<(), SimError> {
        for g in 0..staff.len() {
            let mut candidate = staff.to_vec();
            let mut feasible_with = |search: &mut Self, n: u32| {
                candidate[g] = n;
                search.evaluate(i, &candidate)
            };
            // `high` is feasible; `low`, once known, is not.
            let mut high = staff[g];
            let mut low = None;
            let mut step = 1;
            while low.is_none() && high > 0 {
                let n = high.saturating_sub(step);
                if feasible_with(self, n)? {
                    high = n;
                    step *= 2;
                } else {
                    low = Some(n);
                }
            }
            if let Some(mut low) = low {
                while high - low > 1 {
                    let mid = low + (high - low) / 2;
                    if feasible_with(self, mid)? {
                        high = mid;
                    } else {
                        low = mid;
                    }
                }
            }
            staff[g] = high;
        }
        Ok(())
    }

    /// The fewest agents per group for interval `i` (see the module documentation), and
    /// whether they meet the targets.
    fn interval(&mut self, i: usize, limits: &[u32]) -> Result<(Vec<u32>, bool), SimError> {
        let ng = self.scenario.groups.len();
        self.cache.clear();
        self.interval_seed = (0..ng).map(|g| self.seed.groups[g][i]).collect();

        // Feasibility: raise the groups behind every failing target.
        let mut staff = self.interval_seed.clone();
        let mut rounds = 0;
        while !self.evaluate(i, &staff)? {
            rounds += 1;
            let mut raise = vec![false; ng];
            for &q in &self.last.failing_queues {
                for &g in &self.targets.servers[q] {
                    raise[g] = true;
                }
            }
            for &g in &self.last.failing_groups {
                raise[g] = true;
            }
            let mut moved = false;
            for g in 0..ng {
                if !raise[g] || staff[g] >= limits[g] {
                    continue;
                }
                staff[g] = (staff[g] + (staff[g] / 10).max(1)).min(limits[g]);
                moved = true;
            }
            if !moved || rounds > RAISE_ROUNDS {
                return Ok((staff, false));
            }
        }

        self.descend(i, &mut staff)?;
        // Exchanges: two agents fewer in one group for one more in another.
        for _ in 0..ng * 2 {
            let mut improved = false;
            'pairs: for g in 0..ng {
                for h in 0..ng {
                    if g == h || staff[g] < 2 || staff[h] >= limits[h] {
                        continue;
                    }
                    let mut s = staff.clone();
                    s[g] -= 2;
                    s[h] += 1;
                    if self.evaluate(i, &s)? {
                        staff = s;
                        self.descend(i, &mut staff)?;
                        improved = true;
                        break 'pairs;
                    }
                }
            }
            if !improved {
                break;
            }
        }
        Ok((staff, true))
    }
}

/// Lookahead after an interval's end: long enough that a chat still waiting has missed every
/// threshold, and a little more so that most of them are resolved.
fn lookahead(profile: &Profile) -> Time {
    let threshold = profile
        .queues
        .iter()
        .map(|q| q.targets.threshold_secs)
        .fold(0.0, f64::max);
    let secs = (2.0 * threshold + 120.0).min(profile.interval_secs);
    (secs * SECOND as f64) as Time
}

/// Searches the fewest agents per group and interval meeting the targets of `profile`,
/// starting from `seed` (the closed-form staffing). `progress` is called after each interval.
pub fn search(
    profile: &Profile,
    seed: &Staffing,
    options: SearchOptions,
    pool: &rayon::ThreadPool,
    progress: &dyn Fn(usize),
) -> Result<SearchOutcome, PlanError> {
    let limits = group_limits(seed);
    let mut scenario = Scenario::new(profile, seed)?;
    for (g, limit) in limits.iter().enumerate() {
        scenario.groups[g].pool = *limit;
    }
    let targets = IntervalTargets::of(profile);
    let replications = profile.simulation.replications;
    let engines = match options.mode {
        SearchMode::Incremental => (0..replications)
            .map(|rep| Engine::new(&scenario, rep))
            .collect::<Result<Vec<_>, _>>()?,
        SearchMode::Naive => Vec::new(),
    };
    let mut search = Search {
        scenario: &scenario,
        targets: &targets,
        options,
        seed,
        replications,
        engines,
        chosen: Vec::with_capacity(profile.intervals),
        lookahead: lookahead(profile).max(1),
        pool,
        evaluations: 0,
        cache: HashMap::new(),
        interval_seed: Vec::new(),
        last: Verdict::default(),
    };
    let mut unmet = Vec::new();
    for i in 0..profile.intervals {
        let (staff, met) = search.interval(i, &limits)?;
        if !met {
            unmet.push(i);
        }
        search.advance(i, &staff)?;
        progress(i);
    }
    let ng = profile.agents.len();
    let groups = (0..ng)
        .map(|g| search.chosen.iter().map(|s| s[g]).collect())
        .collect();
    Ok(SearchOutcome {
        staffing: Staffing { groups },
        evaluations: search.evaluations,
        unmet,
    })
}

/// Per replication, the counts of every interval of a whole-day run.
pub(crate) fn judge_day(
    runs: &[ReplicationTallies],
    intervals: usize,
    targets: &IntervalTargets,
    strict: bool,
) -> Vec<(Vec<usize>, Vec<usize>)> {
    let nq = targets.queues.len();
    let ng = targets.groups.len();
    (0..intervals)
        .map(|i| {
            let reps: Vec<IntervalCounts> =
                runs.iter().map(|r| interval_counts(r, i, nq, ng)).collect();
            if !measurable(&reps) {
                return (Vec::new(), Vec::new());
            }
            let v = judge(&reps, targets, strict);
            (v.failing_queues, v.failing_groups)
        })
        .collect()
}

/// Whether each interval of a whole-day simulation of `staffing` meets its targets, judged as
/// the search judges a candidate (`strict`: on the confidence bound), with `pool[g]` agents
/// created per group and the profile's seed. With the search's pool sizes and a one-interval
/// profile it evaluates exactly what the search evaluates, which makes exhaustive searches to
/// compare with possible.
pub fn evaluate_day(
    profile: &Profile,
    staffing: &Staffing,
    pool: &[u32],
    strict: bool,
    threads: &rayon::ThreadPool,
) -> Result<Vec<bool>, PlanError> {
    let mut scenario = Scenario::new(profile, staffing)?;
    for (g, &n) in pool.iter().enumerate() {
        if let Some(group) = scenario.groups.get_mut(g) {
            group.pool = group.pool.max(n);
        }
    }
    let (runs, _) =
        crate::sim::simulate_runs(&scenario, profile.simulation.replications, threads, &|| {})?;
    let targets = IntervalTargets::of(profile);
    Ok(judge_day(&runs, profile.intervals, &targets, strict)
        .into_iter()
        .map(|(q, g)| q.is_empty() && g.is_empty())
        .collect())
}
