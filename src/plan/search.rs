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
//!    A candidate runs on the first 4 replications, then 8, 16 and all, and stops as soon as
//!    the verdict on all of them is certain ([`super::judge`]'s early verdict, from the paired
//!    differences to the nearest candidate already run on all): near the boundary a candidate
//!    needs all, far from it a few do.
//! 4. The heuristic, from the closed-form staffing: raise the groups serving failing queues by
//!    10% until feasible; then, group by group, the fewest agents that stay feasible (one step
//!    down, then doubling steps and bisection); then, with several groups, exchanges (two agents
//!    fewer in one group for one more in another) while they stay feasible, and the descent
//!    again. Evaluations are cached per candidate. When raising reaches the search limit
//!    without a feasible candidate, the interval is unreachable: the descent runs again from
//!    the largest staffing tried, judging each candidate against it ([`super::judge`]), and
//!    keeps the fewest agents beyond which more stop helping.
//! 5. The engines advance through `i` with the chosen staffing.
//!
//! The whole horizon is then simulated again with a seed of its own (the verification run); an
//! interval that misses a target there gets one more agent in the group carrying most of the
//! failing queue and its day is run again (at most [`REPAIR_ROUNDS`] rounds per day, see
//! `super::verify`); the figures reported are those of the final staffing's verification run.

use std::collections::HashMap;
use std::ops::Range;

use rayon::prelude::*;

use crate::profile::Profile;
use crate::routing::{SECOND, Time};
use crate::sim::{Engine, Scenario, SimError, Staffing};

use super::PlanError;
use super::judge::{
    IntervalCounts, IntervalTargets, Reference, Verdict, interval_counts, judge, judge_against,
    judge_day, judge_early, measurable, shortfalls,
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
    /// In an unreachable interval, the largest staffing tried: candidates are then judged
    /// against it ([`judge_against`]).
    top: Option<Reference>,
}

impl<'a, 's> Search<'a, 's> {
    /// Simulates candidate `staff` for interval `i` in replications `reps`; the counts of `i`
    /// per replication.
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
            SearchMode::Incremental => self.engines[reps]
                .par_iter()
                .map(|e| run(e.clone()))
                .collect(),
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
                .collect(),
        })
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

    /// Evaluates candidate `staff` for interval `i`, once per candidate: on the first
    /// [`FIRST_BATCH`] replications, then twice as many at a time, until the verdict on all of
    /// them is certain ([`judge_early`]) or all have run.
    fn evaluate(&mut self, i: usize, staff: &[u32]) -> Result<bool, SimError> {
        if let Some(v) = self.cache.get(staff) {
            self.last = v.clone();
            return Ok(v.feasible);
        }
        self.evaluations += 1;
        let seed = &self.interval_seed;
        let strict = self.options.confidence || staff.iter().sum::<u32>() < seed.iter().sum();
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
            if let Some(v) = judge_early(&reps, reference, total, self.targets, strict) {
                break v;
            }
            if upto == total {
                break self.judge_all(&reps, staff, strict);
            }
            upto = (upto * 2).min(total);
        };
        let feasible = verdict.feasible;
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

    /// Group by group, dearest first, the fewest agents (not below `lows`) that keep the
    /// feasible `staff` feasible.
    fn descend(&mut self, i: usize, staff: &mut [u32], lows: &[u32]) -> Result<(), SimError> {
        let mut order: Vec<usize> = (0..staff.len()).collect();
        let cost = |g: usize| self.profile.agents[g].cost_per_hour;
        order.sort_by(|&a, &b| cost(b).total_cmp(&cost(a)));
        for g in order {
            let mut candidate = staff.to_vec();
            let mut feasible_with = |search: &mut Self, n: u32| {
                candidate[g] = n;
                search.evaluate(i, &candidate)
            };
            // `high` is feasible; `low`, once known, is not.
            let mut high = staff[g];
            let mut low = None;
            let mut step = 1;
            while low.is_none() && high > lows[g] {
                let n = high.saturating_sub(step).max(lows[g]);
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

    /// An interval no staffing up to `top` makes feasible: the fewest agents per group beyond
    /// which more stop helping, and the targets missed at `top`.
    fn unreachable(
        &mut self,
        i: usize,
        top: Vec<u32>,
        lows: &[u32],
        capped: Vec<String>,
    ) -> Result<Interval, SimError> {
        self.evaluations += 1;
        let at_top = self.simulate_all(i, &top)?;
        let strict =
            self.options.confidence || top.iter().sum::<u32>() < self.interval_seed.iter().sum();
        let mut reasons = shortfalls(&at_top, self.targets, strict);
        reasons.extend(capped);
        self.cache.clear();
        self.top = Some(Reference::new(
            at_top,
            self.targets,
            self.options.confidence,
        ));
        let mut kept = top.clone();
        let descended = self.descend(i, &mut kept, lows);
        self.top = None;
        descended?;
        let why = Unreachable {
            interval: i,
            limit: top,
            kept: kept.clone(),
            reasons,
        };
        Ok((kept, Some(why)))
    }

    /// The fewest agents per group for interval `i` (see the module documentation), and
    /// why the targets cannot be met when they cannot.
    fn interval(&mut self, i: usize, limits: &[u32]) -> Result<Interval, SimError> {
        let ng = self.scenario.groups.len();
        self.cache.clear();
        self.complete.clear();
        self.interval_seed = (0..ng).map(|g| self.seed.groups[g][i]).collect();
        // The groups' bounds (the closed-form seed is already within them).
        let bounds: Vec<(u32, u32)> = (0..ng)
            .map(|g| self.profile.agents[g].on_duty_bounds(self.profile.is_open(i)))
            .collect();
        let lows: Vec<u32> = bounds.iter().map(|b| b.0).collect();
        let limits: Vec<u32> = (0..ng)
            .map(|g| limits[g].min(bounds[g].1).max(self.interval_seed[g]))
            .collect();

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
                let capped = (0..ng)
                    .filter(|&g| raise[g] && staff[g] >= bounds[g].1)
                    .map(|g| {
                        format!(
                            "group {} is at its max_on_duty = {}",
                            self.profile.agents[g].name, bounds[g].1
                        )
                    })
                    .collect();
                return self.unreachable(i, staff, &lows, capped);
            }
        }

        self.descend(i, &mut staff, &lows)?;
        self.exchange(i, &mut staff, &limits, &lows)?;
        Ok((staff, None))
    }

    /// Exchanges while they stay feasible: one or two agents fewer in one group for one more
    /// in another, where that lowers the cost (two for one among groups of equal cost), each
    /// followed by the descent again.
    fn exchange(
        &mut self,
        i: usize,
        staff: &mut Vec<u32>,
        limits: &[u32],
        lows: &[u32],
    ) -> Result<(), SimError> {
        let ng = staff.len();
        let cost: Vec<f64> = self
            .profile
            .agents
            .iter()
            .map(|a| a.cost_per_hour)
            .collect();
        for _ in 0..ng * 2 {
            let mut improved = false;
            'pairs: for g in 0..ng {
                for h in 0..ng {
                    if g == h || staff[h] >= limits[h] {
                        continue;
                    }
                    for fewer in [1, 2] {
                        let cheaper = cost[h] < f64::from(fewer) * cost[g];
                        if !cheaper || staff[g] < lows[g] + fewer {
                            continue;
                        }
                        let mut s = staff.clone();
                        s[g] -= fewer;
                        s[h] += 1;
                        if self.evaluate(i, &s)? {
                            *staff = s;
                            self.descend(i, staff, lows)?;
                            improved = true;
                            break 'pairs;
                        }
                    }
                }
            }
            if !improved {
                break;
            }
        }
        Ok(())
    }
}

/// An interval's staffing, and why its targets cannot be met when they cannot.
type Interval = (Vec<u32>, Option<Unreachable>);

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
        top: None,
    };
    let mut unreachable = Vec::new();
    for i in 0..profile.intervals {
        let (staff, why) = search.interval(i, &limits)?;
        unreachable.extend(why);
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
        unreachable,
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
