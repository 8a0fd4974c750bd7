//! The verification of a plan: the whole horizon simulated with a seed of its own, and repairs
//! where it misses a target.
//!
//! An interval that misses a target gets one more agent (or the search's resolution of a large
//! group) in the group carrying most of a failing queue, and in each group above its occupancy
//! limit (never beyond a group's `max_on_duty`); a group still too busy after a raise pulls work
//! from the queues it shares, so the groups sharing them get one more too. The interval is
//! simulated again, at most [`REPAIR_ROUNDS`] times. A repair changes nothing before the
//! interval it raises, so the horizon is verified an interval at a time: the replications are
//! forked at the interval's start ([`Engine::fork`], which leaves out the tallies that can no
//! longer change), run through it and on for the search's lookahead, where it is judged (the
//! last interval: on drained copies); an interval that misses is run again from its fork with
//! the raised staffing, never anything before it. A plan costs one run of the horizon plus the
//! intervals repaired.
//!
//! The replications that reach the end are the run of the final staffing from scratch (the same
//! random streams, the same staffing at every instant): its figures are the ones reported.

use std::time::Instant;

use rayon::prelude::*;

use crate::profile::Profile;
use crate::routing::{SECOND, Time};
use crate::sim::{self, Engine, ReplicationTallies, Scenario, SimError, Staffing};

use super::judge::{IntervalTargets, Misses, judge_counts, range_counts};
use super::search::{SearchOutcome, lookahead, resolution};
use super::{PlanError, REPAIR_ROUNDS, verification_seed};

/// The verification run of the final staffing and the cells its repairs raised.
pub(super) struct Verified {
    /// (interval, group) cells raised.
    pub repaired: Vec<(usize, usize)>,
    /// Per replication, the run of the final staffing.
    pub runs: Vec<ReplicationTallies>,
    /// Its speed: the final run's chats over the whole verification's time.
    pub perf: sim::Perf,
}

/// What the verification of an interval works with.
struct Check<'a> {
    profile: &'a Profile,
    outcome: &'a SearchOutcome,
    targets: &'a IntervalTargets,
    pool: &'a rayon::ThreadPool,
}

/// Verifies `staffing` interval by interval and repairs its misses (see the module
/// documentation); `round_started(r)` is called as the first interval to reach round `r`
/// starts it.
pub(super) fn verify_and_repair(
    profile: &Profile,
    outcome: &SearchOutcome,
    targets: &IntervalTargets,
    pool: &rayon::ThreadPool,
    staffing: &mut Staffing,
    round_started: &dyn Fn(usize),
) -> Result<Verified, PlanError> {
    let started = Instant::now();
    let mut scenario = Scenario::new(profile, staffing)?;
    scenario.seed = verification_seed(profile);
    // Room for the repairs: agents are created for the most a group may reach.
    for (g, group) in scenario.groups.iter_mut().enumerate() {
        let most = staffing.groups[g].iter().copied().max().unwrap_or(0);
        group.pool = most + REPAIR_ROUNDS as u32 * resolution(most);
    }
    let check = Check {
        profile,
        outcome,
        targets,
        pool,
    };
    let mut engines = (0..profile.simulation.replications)
        .map(|rep| Engine::new(&scenario, rep))
        .collect::<Result<Vec<_>, _>>()?;
    let mut repaired = Vec::new();
    let mut rounds_seen = 0;
    round_started(0);
    // The forks at the start of the next interval, made as the last one ended.
    let mut carried: Option<Vec<Engine>> = None;
    for i in 0..profile.intervals {
        let at_start = carried.take();
        // No customer can arrive: nothing to judge.
        if !scenario.has_arrivals(i) {
            check.run_through(&mut engines, i)?;
            continue;
        }
        let checkpoint: Vec<Engine> = match at_start {
            Some(forks) => forks,
            None => pool.install(|| engines.par_iter_mut().map(|e| e.fork(i)).collect()),
        };
        let mut round = 0;
        loop {
            let (misses, next) = check.run_interval(&mut engines, i)?;
            carried = next;
            let raised = round < REPAIR_ROUNDS && check.raise(&misses, i, staffing, &mut repaired);
            if !raised {
                break;
            }
            round += 1;
            if round > rounds_seen {
                rounds_seen = round;
                round_started(round);
            }
            for (e, fork) in engines.iter_mut().zip(&checkpoint) {
                e.restore(fork);
                for (g, per_interval) in staffing.groups.iter().enumerate() {
                    e.set_staffing(g, i, per_interval[i])?;
                }
            }
        }
    }
    let runs = pool.install(|| {
        engines
            .into_par_iter()
            .map(|e| e.finish().map(|(t, ())| t))
            .collect::<Result<Vec<_>, SimError>>()
    })?;
    let perf = sim::Perf::measure(&runs, started, pool.current_num_threads());
    Ok(Verified {
        repaired,
        runs,
        perf,
    })
}

impl Check<'_> {
    /// Runs `engines` through interval `i`.
    fn run_through(&self, engines: &mut [Engine<'_>], i: usize) -> Result<(), SimError> {
        let end = self.interval_end(i);
        self.pool
            .install(|| engines.par_iter_mut().try_for_each(|e| e.run_until(end)))
    }

    /// The end of interval `i`.
    fn interval_end(&self, i: usize) -> Time {
        let interval = (self.profile.interval_secs * SECOND as f64) as Time;
        interval * (i as Time + 1)
    }

    /// Runs `engines` through interval `i` and on for the lookahead, and judges `i` there (the
    /// last interval: on drained copies); the queues and groups it misses, and the forks made at
    /// `i`'s end, from which the next interval is run again if it is repaired. Going on into
    /// the next interval is what the engines would do next anyway: the same streams, the same
    /// staffing.
    fn run_interval<'s>(
        &self,
        engines: &mut [Engine<'s>],
        i: usize,
    ) -> Result<(Vec<Misses>, Option<Vec<Engine<'s>>>), SimError> {
        let end = self.interval_end(i);
        let last = i + 1 == self.profile.intervals;
        let judged_until = end.saturating_add(lookahead(self.profile).max(1));
        let range_counts = |t: &ReplicationTallies| range_counts(t, i..i + 1, self.targets);
        type Judged<'s> = (Vec<super::judge::IntervalCounts>, Option<Engine<'s>>);
        let per_run = self.pool.install(|| {
            engines
                .par_iter_mut()
                .map(|e| -> Result<Judged<'s>, SimError> {
                    e.run_until(end)?;
                    if last {
                        let copy = e.fork(i);
                        return copy.finish().map(|(t, ())| (range_counts(&t), None));
                    }
                    let next = e.fork(i + 1);
                    e.run_until(judged_until)?;
                    Ok((range_counts(e.tallies()), Some(next)))
                })
                .collect::<Result<Vec<_>, SimError>>()
        })?;
        let (counts, forks): (Vec<_>, Vec<_>) = per_run.into_iter().unzip();
        let forks: Option<Vec<Engine<'s>>> = forks.into_iter().collect();
        Ok((judge_counts(&counts, self.targets, false), forks))
    }

    /// One more agent where `misses` (the intervals from `start`) miss a target: the group
    /// carrying most of a failing queue, each group above its occupancy limit (and, when it
    /// was raised before, the groups sharing its queues), except in
    /// unreachable intervals and past a group's `max_on_duty`. The cells raised are added to
    /// `repaired`; whether any was.
    fn raise(
        &self,
        misses: &[Misses],
        start: usize,
        staffing: &mut Staffing,
        repaired: &mut Vec<(usize, usize)>,
    ) -> bool {
        let (profile, targets) = (self.profile, self.targets);
        let mut changed = false;
        for (k, (queues, groups)) in misses.iter().enumerate() {
            let i = start + k;
            // More agents stop helping there: the search kept the staffing beyond which.
            if self.outcome.unreachable.iter().any(|u| u.interval == i) {
                continue;
            }
            let mut raise = vec![false; staffing.groups.len()];
            let room: Vec<u32> = (0..staffing.groups.len())
                .map(|g| {
                    let (_, most) = profile.agents[g].on_duty_bounds(profile.is_open(i));
                    most.saturating_sub(staffing.groups[g][i])
                })
                .collect();
            for &q in queues {
                // The group carrying most of the failing queue, of those below max_on_duty.
                if let Some(&g) = targets.servers[q]
                    .iter()
                    .filter(|&&g| room[g] > 0)
                    .max_by_key(|&&g| (staffing.groups[g][i], std::cmp::Reverse(g)))
                {
                    raise[g] = true;
                }
            }
            for &g in groups.iter().filter(|&&g| room[g] > 0) {
                raise[g] = true;
                // Raised before and still too busy: it pulls work from queues it shares, so
                // the groups sharing them take one more too.
                if repaired.contains(&(i, g)) {
                    for sharing in targets.servers.iter().filter(|s| s.contains(&g)) {
                        for &other in sharing.iter().filter(|&&o| room[o] > 0) {
                            raise[other] = true;
                        }
                    }
                }
            }
            for (g, up) in raise.iter().enumerate() {
                if *up {
                    // One agent, or the search's resolution of a large group.
                    let up = resolution(staffing.groups[g][i]).min(room[g]);
                    staffing.groups[g][i] += up;
                    repaired.push((i, g));
                    changed = true;
                }
            }
        }
        changed
    }
}
