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
//!    A candidate runs on the first 4 replications, then 4 more at a time, and stops as soon as
//!    the verdict on all of them is settled ([`super::judge`]'s early verdict, from the paired
//!    differences to the nearest candidate already run on all; a pass at 99% confidence, a
//!    miss at 90% from 200 agents on, where a wrong miss costs one step of the resolution
//!    (1%) and a wrong pass an interval short, else at 99%): near the boundary a candidate needs all, far from it a few do. Steps
//!    of 4 rather than doubling batches run fewer replications past the point a verdict
//!    settles; the schedule does not depend on the thread count, nor does the answer.
//! 4. The heuristic, from the closed-form staffing: raise the groups serving failing queues by
//!    10% until feasible; then, group by group, the fewest agents that stay feasible (one step
//!    down, then doubling steps and bisection), to within the group's resolution: one agent
//!    below 200, 1% above ([`resolution`]) of the agents serving its queues (the queue with the
//!    fewest counts). From the second day on, the search starts where the same interval a day
//!    earlier put each group relative to its closed form, raising the groups behind failing
//!    targets by doubling steps from there, and falls back to the closed form when a few
//!    rounds do not make it feasible. Then, while the interval has fewer than 200 agents,
//!    exchanges (two agents fewer in one group for one more in another) while they stay
//!    feasible, and the descent again. Evaluations are cached per candidate. When raising
//!    reaches the search limit without a feasible candidate, the interval is unreachable: the
//!    descent runs again from the largest staffing tried, judging each candidate against it
//!    ([`super::judge`]), and keeps the fewest agents beyond which more stop helping.
//! 5. The engines advance through `i` with the chosen staffing: each takes the clone the
//!    chosen candidate left at the interval's end where it ran, and simulates the interval
//!    otherwise.
//!
//! The whole horizon is then simulated again with a seed of its own (the verification run); an
//! interval that misses a target there gets one more agent (or its resolution) in the group
//! carrying most of the failing queue and is run again (at most [`REPAIR_ROUNDS`] rounds per
//! interval, see `super::verify`); the figures reported are those of the final staffing's
//! verification run.

mod moves;

use std::collections::HashMap;
use std::ops::Range;

use rayon::prelude::*;

use crate::profile::Profile;
use crate::routing::{SECOND, Time};
use crate::sim::{Engine, Scenario, SimError, Staffing};

use super::PlanError;
use super::judge::{
    CHEAP_MISS_CONFIDENCE, IntervalCounts, IntervalTargets, MISS_CONFIDENCE, Reference, Verdict,
    interval_counts, judge, judge_against, judge_day, judge_early, measurable,
};

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
    /// Replications simulated for those candidates, all together (each candidate runs on as
    /// few replications as settle its verdict).
    pub replications_run: u64,
    /// Intervals whose targets no staffing within the search limit met.
    pub unreachable: Vec<Unreachable>,
}

/// An interval whose targets no staffing within the search limit meets, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Unreachable {
    /// Interval index from 0.
    pub interval: usize,
    /// The largest staffing tried, per group.
    pub limit: Vec<u32>,
    /// The staffing kept, per group: the fewest agents beyond which more stop helping (no
    /// target figure is significantly better at the largest staffing tried).
    pub kept: Vec<u32>,
    /// The targets missed at the largest staffing tried, in words.
    pub reasons: Vec<String>,
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

/// The search's relative resolution: each group's staffing is resolved to within this share of
/// it (at least one agent, so below 200 agents to the single agent). A large group's single
/// agent changes its figures by less than the replications' noise resolves, and costs a share
/// of the staffing below what a plan's forecast is good for; resolving it would take most of a
/// large center's plan time.
const RESOLUTION: f64 = 0.01;

/// The agents a group with `agents` on duty is resolved to ([`RESOLUTION`]).
pub(crate) fn resolution(agents: u32) -> u32 {
    ((f64::from(agents) * RESOLUTION) as u32).max(1)
}

/// Replications a candidate is first simulated on; more follow only when they leave its
/// verdict open.
const FIRST_BATCH: usize = 4;

/// Rounds of the feasibility phase before an interval is declared unreachable.
const RAISE_ROUNDS: usize = 40;

/// The per-interval search state shared by both evaluation modes.
struct Search<'a, 's> {
    scenario: &'s Scenario,
    profile: &'a Profile,
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
    /// Replications simulated for candidates, all evaluations together.
    replications_run: u64,
    /// Verdicts of the current interval's candidates.
    cache: HashMap<Vec<u32>, Verdict>,
    /// The current interval's candidates simulated in every replication, with their counts,
    /// in the order simulated: the references of later candidates' early verdicts.
    complete: Vec<(Vec<u32>, Vec<IntervalCounts>)>,
    /// The closed-form staffing of the current interval.
    interval_seed: Vec<u32>,
    /// The verdict of the last candidate simulated.
    last: Verdict,
    /// Per candidate of the current interval not found infeasible, its clones at the
    /// interval's end by replication (incremental mode): the engines advance by taking the
    /// chosen one's instead of simulating the interval again.
    at_end: HashMap<Vec<u32>, Vec<Option<Engine<'s>>>>,
    /// The intervals found unreachable so far.
    unreachable: Vec<Unreachable>,
    /// In an unreachable interval, the largest staffing tried: candidates are then judged
    /// against it ([`judge_against`]).
    top: Option<Reference>,
}

impl<'a, 's> Search<'a, 's> {
    /// Simulates candidate `staff` for interval `i` in replications `reps`; the counts of `i`
    /// per replication. In incremental mode the clones at the interval's end are kept in
    /// [`Search::at_end`].
    fn simulate(
        &mut self,
        i: usize,
        staff: &[u32],
        reps: Range<usize>,
    ) -> Result<Vec<IntervalCounts>, SimError> {
        self.replications_run += reps.len() as u64;
        let sc = self.scenario;
        let (nq, ng) = (sc.queues.len(), sc.groups.len());
        let last = i + 1 == sc.intervals;
        let until = sc.interval * (i as Time + 1) + self.lookahead;
        let end = sc.interval * (i as Time + 1);
        let keep = self.options.mode == SearchMode::Incremental && !last;
        type Run<'s> = (IntervalCounts, Option<Engine<'s>>);
        let run = |mut engine: Engine<'s>| -> Result<Run<'s>, SimError> {
            for (g, &n) in staff.iter().enumerate() {
                engine.set_staffing(g, i, n)?;
            }
            if last {
                let (tallies, ()) = engine.finish()?;
                return Ok((interval_counts(&tallies, i, nq, ng), None));
            }
            let mut at_end = None;
            if keep {
                engine.run_until(end)?;
                at_end = Some(engine.clone());
            }
            engine.run_until(until)?;
            Ok((interval_counts(engine.tallies(), i, nq, ng), at_end))
        };
        let chosen = &self.chosen;
        let first = reps.start;
        let runs: Vec<Run<'s>> = self.pool.install(|| match self.options.mode {
            SearchMode::Incremental => self.engines[reps]
                .par_iter()
                .map(|e| run(e.clone()))
                .collect::<Result<_, _>>(),
            SearchMode::Naive => reps
                .into_par_iter()
                .map(|rep| {
                    let mut engine = Engine::new(sc, rep as u32)?;
                    for (j, staff) in chosen.iter().enumerate() {
                        for (g, &n) in staff.iter().enumerate() {
                            engine.set_staffing(g, j, n)?;
                        }
                    }
                    run(engine)
                })
                .collect::<Result<_, _>>(),
        })?;
        let total = self.replications as usize;
        let mut counts = Vec::with_capacity(runs.len());
        for (k, (c, engine)) in runs.into_iter().enumerate() {
            counts.push(c);
            if let Some(engine) = engine {
                let slots = self
                    .at_end
                    .entry(staff.to_vec())
                    .or_insert_with(|| (0..total).map(|_| None).collect());
                slots[first + k] = Some(engine);
            }
        }
        Ok(counts)
    }

    /// Simulates candidate `staff` for interval `i` in every replication.
    fn simulate_all(&mut self, i: usize, staff: &[u32]) -> Result<Vec<IntervalCounts>, SimError> {
        self.simulate(i, staff, 0..self.replications as usize)
    }

    /// Moves the engines through interval `i` with its chosen staffing.
    fn advance(&mut self, i: usize, staff: &[u32]) -> Result<(), SimError> {
        self.chosen.push(staff.to_vec());
        // Naive evaluations start from scratch; after the last interval nothing is evaluated.
        if self.options.mode == SearchMode::Naive || i + 1 >= self.scenario.intervals {
            return Ok(());
        }
        let until = self.scenario.interval * (i as Time + 1);
        let mut at_end = self.at_end.remove(staff).unwrap_or_default();
        at_end.resize_with(self.engines.len(), || None);
        self.at_end.clear();
        self.pool.install(|| {
            self.engines
                .par_iter_mut()
                .zip(at_end.par_iter_mut())
                .try_for_each(|(e, end)| {
                    // The chosen candidate's clone at the interval's end is this engine run
                    // through the interval.
                    if let Some(end) = end.take() {
                        *e = end;
                    } else {
                        for (g, &n) in staff.iter().enumerate() {
                            e.set_staffing(g, i, n)?;
                        }
                        e.run_until(until)?;
                    }
                    // Only the next interval's figures are read from the copies.
                    e.discard_tallies_before(i + 1);
                    Ok(())
                })
        })
    }

    /// Evaluates candidate `staff` for interval `i`, once per candidate: on the first
    /// [`FIRST_BATCH`] replications, then as many more at a time, until the verdict on all of
    /// them is settled ([`judge_early`]) or all have run.
    fn evaluate(&mut self, i: usize, staff: &[u32]) -> Result<bool, SimError> {
        if let Some(v) = self.cache.get(staff) {
            self.last = v.clone();
            return Ok(v.feasible);
        }
        // No customer can arrive: nothing to measure, whatever the staffing.
        if !self.scenario.has_arrivals(i) {
            let verdict = Self::closed_form_verdict(staff, &self.interval_seed);
            self.last = verdict.clone();
            self.cache.insert(staff.to_vec(), verdict);
            return Ok(self.last.feasible);
        }
        self.evaluations += 1;
        let seed = &self.interval_seed;
        let strict = self.options.confidence || staff.iter().sum::<u32>() < seed.iter().sum();
        // Where a step of the resolution is a small share of the agents, a wrong miss costs
        // little; with fewer, one agent may be a large share of a group.
        let miss = if resolution(staff.iter().sum()) > 1 {
            CHEAP_MISS_CONFIDENCE
        } else {
            MISS_CONFIDENCE
        };
        let total = self.replications as usize;
        // Against a reference the paired comparison needs every replication.
        let mut upto = if self.top.is_some() {
            total
        } else {
            FIRST_BATCH.min(total)
        };
        let reference = self.nearest_complete(staff);
        let mut reps = Vec::with_capacity(total);
        let verdict = loop {
            let more = self.simulate(i, staff, reps.len()..upto)?;
            reps.extend(more);
            let reference = reference.map(|r| self.complete[r].1.as_slice());
            if let Some(v) = judge_early(&reps, reference, total, self.targets, (strict, miss)) {
                break v;
            }
            if upto == total {
                break self.judge_all(&reps, staff, strict);
            }
            upto = (upto + FIRST_BATCH).min(total);
        };
        let feasible = verdict.feasible;
        if !feasible {
            self.at_end.remove(staff);
        }
        if reps.len() == total {
            self.complete.push((staff.to_vec(), reps));
        }
        self.last = verdict.clone();
        self.cache.insert(staff.to_vec(), verdict);
        Ok(feasible)
    }

    /// Of the candidates of this interval simulated in every replication, the index of the
    /// one nearest `staff` (fewest agents moved; ties to the first simulated).
    fn nearest_complete(&self, staff: &[u32]) -> Option<usize> {
        let distance =
            |other: &[u32]| -> u32 { other.iter().zip(staff).map(|(a, b)| a.abs_diff(*b)).sum() };
        (0..self.complete.len()).min_by_key(|&k| (distance(&self.complete[k].0), k))
    }

    /// The verdict on every replication's counts `reps` of candidate `staff`.
    fn judge_all(&self, reps: &[IntervalCounts], staff: &[u32], strict: bool) -> Verdict {
        if !measurable(reps) {
            Self::closed_form_verdict(staff, &self.interval_seed)
        } else if let Some(top) = &self.top {
            judge_against(reps, top, self.targets, strict)
        } else {
            judge(reps, self.targets, strict)
        }
    }

    /// Nothing to measure (no chats, or all within the warm-up): keep the closed form.
    fn closed_form_verdict(staff: &[u32], seed: &[u32]) -> Verdict {
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
    }
}

/// Intervals in a day of the horizon.
pub(crate) fn intervals_per_day(profile: &Profile) -> usize {
    ((86_400.0 / profile.interval_secs).ceil() as usize).max(1)
}

/// Lookahead after an interval's end: long enough that a chat still waiting has missed every
/// threshold, and a little more so that most of them are resolved.
pub(crate) fn lookahead(profile: &Profile) -> Time {
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
        profile,
        replications,
        engines,
        chosen: Vec::with_capacity(profile.intervals),
        lookahead: lookahead(profile).max(1),
        pool,
        evaluations: 0,
        replications_run: 0,
        cache: HashMap::new(),
        complete: Vec::new(),
        interval_seed: Vec::new(),
        last: Verdict::default(),
        at_end: HashMap::new(),
        unreachable: Vec::new(),
        top: None,
    };
    for i in 0..profile.intervals {
        let (staff, why) = search.interval(i, &limits)?;
        search.unreachable.extend(why);
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
        replications_run: search.replications_run,
        unreachable: search.unreachable,
    })
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

#[cfg(test)]
mod tests {
    use super::resolution;

    #[test]
    fn groups_below_200_agents_are_resolved_to_the_agent_and_larger_ones_to_1_percent() {
        assert_eq!(resolution(0), 1);
        assert_eq!(resolution(199), 1);
        assert_eq!(resolution(200), 2);
        assert_eq!(resolution(450), 4);
        assert_eq!(resolution(1_500), 15);
    }
}
