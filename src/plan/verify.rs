//! The verification of a plan: the whole horizon simulated with a seed of its own, and repairs
//! where it misses a target.
//!
//! An interval that misses a target gets one more agent in the group carrying most of a failing
//! queue, and in each group above its occupancy limit (never beyond a group's `max_on_duty`); a
//! group still too busy after a raise pulls work from the queues it shares, so the groups sharing
//! them get one more too. The interval is simulated again, at most [`REPAIR_ROUNDS`] times. A repair changes nothing before the
//! interval it raises, so the horizon is verified a day at a time: the replications run through
//! a day, that day's intervals are judged (its last ones after the search's lookahead), and a day
//! that misses is run again from its own start with the raised staffing, never the days before
//! it. A horizon of one day is one run plus one per round, as a whole-horizon rerun would be;
//! a week costs one run plus the days repaired.
//!
//! The replications that reach the end are the run of the final staffing from scratch (the same
//! random streams, the same staffing at every instant): its figures are the ones reported.

use std::time::Instant;

use rayon::prelude::*;

use crate::profile::Profile;
use crate::routing::{SECOND, Time};
use crate::sim::{self, Engine, ReplicationTallies, Scenario, SimError, Staffing};

use super::judge::{IntervalTargets, Misses, judge_counts, range_counts};
use super::search::{SearchOutcome, lookahead};
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

/// What one day of the verification works with.
struct Check<'a> {
    profile: &'a Profile,
    outcome: &'a SearchOutcome,
    targets: &'a IntervalTargets,
    pool: &'a rayon::ThreadPool,
}

/// Verifies `staffing` day by day and repairs its misses (see the module documentation);
/// `round_started(r)` is called as the first day to reach round `r` starts it.
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
        group.pool = most + REPAIR_ROUNDS as u32;
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
    let day = intervals_per_day(profile);
    let mut repaired = Vec::new();
    let mut rounds_seen = 0;
    round_started(0);
    let mut start = 0;
    while start < profile.intervals {
        let end = (start + day).min(profile.intervals);
        let checkpoint = engines.clone();
        let mut round = 0;
        loop {
            let misses = check.run_day(&mut engines, start..end)?;
            let raised =
                round < REPAIR_ROUNDS && check.raise(&misses, start, staffing, &mut repaired);
            if !raised {
                break;
            }
            round += 1;
            if round > rounds_seen {
                rounds_seen = round;
                round_started(round);
            }
            engines = restaffed(&checkpoint, staffing, start..end)?;
        }
        start = end;
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

/// Intervals in a day of the horizon: the span a repair reruns.
fn intervals_per_day(profile: &Profile) -> usize {
    ((86_400.0 / profile.interval_secs).ceil() as usize).max(1)
}

/// The `checkpoint` engines with the cells of `range` set to `staffing`.
fn restaffed<'s>(
    checkpoint: &[Engine<'s>],
    staffing: &Staffing,
    range: std::ops::Range<usize>,
) -> Result<Vec<Engine<'s>>, SimError> {
    let mut engines = checkpoint.to_vec();
    for e in &mut engines {
        for (g, per_interval) in staffing.groups.iter().enumerate() {
            for i in range.clone() {
                e.set_staffing(g, i, per_interval[i])?;
            }
        }
    }
    Ok(engines)
}

impl Check<'_> {
    /// Runs `engines` through the intervals `range` (to the end of the horizon when it is the
    /// last day) and judges them; the queues and groups each interval misses.
    fn run_day(
        &self,
        engines: &mut [Engine<'_>],
        range: std::ops::Range<usize>,
    ) -> Result<Vec<Misses>, SimError> {
        let interval = (self.profile.interval_secs * SECOND as f64) as Time;
        let last = range.end == self.profile.intervals;
        let end = if last {
            Time::MAX
        } else {
            interval * range.end as Time
        };
        let judged_until = end.saturating_add(lookahead(self.profile).max(1));
        self.pool
            .install(|| engines.par_iter_mut().try_for_each(|e| e.run_until(end)))?;
        // The last chats of the day are resolved on copies: through the next day's start, or
        // drained as at the end of the horizon.
        let range_counts = |t: &ReplicationTallies| range_counts(t, range.clone(), self.targets);
        let per_run = self.pool.install(|| {
            engines
                .par_iter()
                .map(|e| {
                    let mut e = e.clone();
                    if last {
                        e.finish().map(|(t, ())| range_counts(&t))
                    } else {
                        e.run_until(judged_until)
                            .map(|()| range_counts(e.tallies()))
                    }
                })
                .collect::<Result<Vec<_>, SimError>>()
        })?;
        Ok(judge_counts(&per_run, self.targets, false))
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
            let room = |g: usize| {
                let (_, most) = profile.agents[g].on_duty_bounds(profile.is_open(i));
                staffing.groups[g][i] < most
            };
            for &q in queues {
                // The group carrying most of the failing queue, of those below max_on_duty.
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
                // Raised before and still too busy: it pulls work from queues it shares, so
                // the groups sharing them take one more too.
                if repaired.contains(&(i, g)) {
                    for sharing in targets.servers.iter().filter(|s| s.contains(&g)) {
                        for &other in sharing.iter().filter(|&&o| room(o)) {
                            raise[other] = true;
                        }
                    }
                }
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
}
