//! The moves of the search within one interval: raising to feasibility, the descent group by
//! group (from a day-earlier guess where there is one), exchanges between groups, and the
//! fallback for an interval no staffing within the search limit makes feasible.

use crate::sim::SimError;

use super::super::judge::{Reference, shortfalls};
use super::{RAISE_ROUNDS, Search, Unreachable, intervals_per_day, resolution};

/// Candidates tried up from the guesses before the search raises from the closed form.
const GUESS_ROUNDS: usize = 4;

/// An interval's staffing, and why its targets cannot be met when they cannot.
pub(super) type Interval = (Vec<u32>, Option<Unreachable>);

impl Search<'_, '_> {
    /// Group by group, dearest first, the fewest agents (not below `lows`, to within the group's
    /// [`resolution`]) that keep the feasible `staff` feasible. A group with a guess is tried
    /// there first and bracketed from it (doubling steps up when the guess falls short).
    fn descend(
        &mut self,
        i: usize,
        staff: &mut [u32],
        lows: &[u32],
        guesses: &[Option<u32>],
    ) -> Result<(), SimError> {
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
            let resolved = self.resolution_of(g, staff);
            let guess = guesses.get(g).copied().flatten();
            if let Some(guess) = guess.filter(|&n| n >= lows[g] && n + resolved <= high) {
                let mut step = 0;
                while guess + step < high {
                    if feasible_with(self, guess + step)? {
                        high = guess + step;
                        break;
                    }
                    low = Some(guess + step);
                    step = (step * 2).max(resolved);
                }
            }
            let mut step = resolved;
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
                while high - low > resolved {
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
        let descended = self.descend(i, &mut kept, lows, &[]);
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
    pub(super) fn interval(&mut self, i: usize, limits: &[u32]) -> Result<Interval, SimError> {
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

        let guesses = self.guesses(i);
        if let Some(mut staff) = self.feasible_near_guesses(i, &guesses, &lows, &limits)? {
            self.descend(i, &mut staff, &lows, &[])?;
            self.exchange(i, &mut staff, &limits, &lows)?;
            return Ok((staff, None));
        }

        // Feasibility: raise the groups behind every failing target.
        let mut staff = self.interval_seed.clone();
        let mut rounds = 0;
        while !self.evaluate(i, &staff)? {
            rounds += 1;
            let raise = self.behind_failures();
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

        self.descend(i, &mut staff, &lows, &guesses)?;
        self.exchange(i, &mut staff, &limits, &lows)?;
        Ok((staff, None))
    }

    /// The agents group `g` is resolved to in `staff`: the [`resolution`] of the agents serving
    /// a queue it serves (all groups serving it together), of its queues the one with the
    /// fewest. A queue's figures move with the agents serving it, whatever their group, so an
    /// agent of a group beside many others moves them as little as one of a large group; a
    /// group alone on a queue is resolved by its own size.
    fn resolution_of(&self, g: usize, staff: &[u32]) -> u32 {
        let servers = &self.targets.servers;
        servers
            .iter()
            .filter(|groups| groups.contains(&g))
            .map(|groups| resolution(groups.iter().map(|&h| staff[h]).sum()))
            .min()
            .unwrap_or_else(|| resolution(staff[g]))
    }

    /// The groups serving a queue that failed in the last candidate, and those that failed.
    fn behind_failures(&self) -> Vec<bool> {
        let mut raise = vec![false; self.interval_seed.len()];
        for &q in &self.last.failing_queues {
            for &g in &self.targets.servers[q] {
                raise[g] = true;
            }
        }
        for &g in &self.last.failing_groups {
            raise[g] = true;
        }
        raise
    }

    /// From the second day on, a feasible staffing found from where the day before says the
    /// fewest agents lie: the guesses, with the groups behind failing targets raised by their
    /// resolution, then by doubling steps, for a few rounds. Near the boundary this leaves only
    /// one step down per group to check, and the infeasible candidates met on the way up are
    /// cached for the descent. `None` when there are no guesses or the rounds run out (the
    /// search then raises from the closed form).
    fn feasible_near_guesses(
        &mut self,
        i: usize,
        guesses: &[Option<u32>],
        lows: &[u32],
        limits: &[u32],
    ) -> Result<Option<Vec<u32>>, SimError> {
        if guesses.iter().all(Option::is_none) {
            return Ok(None);
        }
        let mut staff: Vec<u32> = (0..guesses.len())
            .map(|g| {
                let guess = guesses[g].unwrap_or(self.interval_seed[g]);
                guess.clamp(lows[g], limits[g])
            })
            .collect();
        let mut steps = vec![0; staff.len()];
        for _ in 0..GUESS_ROUNDS {
            if self.evaluate(i, &staff)? {
                return Ok(Some(staff));
            }
            let raise = self.behind_failures();
            let mut moved = false;
            for g in 0..staff.len() {
                if !raise[g] || staff[g] >= limits[g] {
                    continue;
                }
                steps[g] = (steps[g] * 2).max(self.resolution_of(g, &staff));
                staff[g] = (staff[g] + steps[g]).min(limits[g]);
                moved = true;
            }
            if !moved {
                break;
            }
        }
        Ok(None)
    }

    /// Where each group's fewest agents probably lie in interval `i`: its closed form scaled
    /// as the staffing found a day earlier was (a day's pattern repeats better than the last
    /// interval's, which lags every ramp); none on the first day and where that interval was
    /// unreachable or not staffed by the closed form.
    fn guesses(&self, i: usize) -> Vec<Option<u32>> {
        let day = intervals_per_day(self.profile);
        let Some(earlier) = i.checked_sub(day) else {
            return vec![None; self.interval_seed.len()];
        };
        let unreachable = self.unreachable.iter().any(|u| u.interval == earlier);
        (0..self.interval_seed.len())
            .map(|g| {
                let (found, seed) = (self.chosen[earlier][g], self.seed.groups[g][earlier]);
                (seed > 0 && !unreachable).then(|| {
                    let ratio = f64::from(found) / f64::from(seed);
                    (f64::from(self.interval_seed[g]) * ratio).round() as u32
                })
            })
            .collect()
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
        // An exchange saves an agent or two: below what the search resolves once the interval
        // has so many agents that its resolution is coarser than one.
        if resolution(staff.iter().sum()) > 1 {
            return Ok(());
        }
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
                            self.descend(i, staff, lows, &[])?;
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
