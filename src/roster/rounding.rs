//! A whole roster from the dive's whole counts: cover what that leaves bare with
//! the shift that covers most bare slots per unit of cost (breaks placed where cover is
//! spare), give weekly rules the fewest workers their days need (extra shifts where a pattern
//! brings more workers than shifts), then drop shifts nobody needs and swap shifts for cheaper
//! ones of the same rule and day where cover allows. Every step is
//! deterministic; the result is feasible wherever the rules allow and is the integer solve's
//! starting point.

use std::collections::BTreeMap;

use super::catalogue::{Catalogue, Shift};
use super::patterns::{WeekPatterns, fewest_workers};
use super::{Requirement, RosterError, Solution, net_cover};

/// What the rounding works with.
pub struct Rounding<'a> {
    /// The shifts.
    pub cat: &'a Catalogue,
    /// Agents needed per group and slot.
    pub req: &'a Requirement,
    /// Price of an hour per group.
    pub costs: &'a [f64],
    /// Each rule's `max_starts_per_interval`.
    pub max_starts: &'a [Option<u32>],
    /// The weekly blocks of rules with weekly limits.
    pub weeks: &'a [WeekPatterns],
}

/// A whole roster and the workers per pattern of each weekly block.
pub struct Rounded {
    /// Shift and break counts.
    pub solution: Solution<u32>,
    /// Per weekly block, workers per pattern.
    pub patterns: Vec<Vec<u32>>,
}

impl Rounding<'_> {
    /// Completes whole counts `sol` into a roster: covers bare slots, fills the weekly
    /// patterns, drops spare shifts.
    pub fn complete(&self, mut sol: Solution<u32>) -> Result<Rounded, RosterError> {
        let mut state = State::new(self, &sol);
        let before = sol.shifts.clone();
        self.cover_bare(&mut sol, &mut state);
        let patterns = self.fill_weeks(&mut sol, &mut state, &before)?;
        self.drop_spare(&mut sol, &mut state);
        self.shorten(&mut sol, &mut state);
        Ok(Rounded {
            solution: sol,
            patterns,
        })
    }

    fn cost(&self, shift: &Shift) -> f64 {
        shift.paid_hours * self.costs[shift.group]
    }

    /// Whether rule `rule` may start one more shift in the interval of slot `start`.
    fn may_start(&self, state: &State, shift: &Shift) -> bool {
        match self.max_starts[shift.rule] {
            None => true,
            Some(most) => state.starts_at(self.cat, shift) < most,
        }
    }

    /// Adds shifts until every slot is covered or no allowed shift helps a bare one.
    fn cover_bare(&self, sol: &mut Solution<u32>, state: &mut State) {
        let mut hopeless = vec![vec![false; self.cat.grid.slots]; self.req.len()];
        loop {
            let bare = (0..self.req.len()).find_map(|g| {
                (0..self.cat.grid.slots)
                    .find(|&s| !hopeless[g][s] && state.net[g][s] < i64::from(self.req[g][s]))
                    .map(|s| (g, s))
            });
            let Some((g, s)) = bare else {
                return;
            };
            let mut best: Option<(f64, usize, Vec<usize>)> = None;
            for &c in &state.covering[g][s] {
                let shift = &self.cat.shifts[c];
                if !self.may_start(state, shift) {
                    continue;
                }
                let offsets = spare_offsets(self.cat, self.req, &state.net, shift);
                let gain = bare_gain(self.cat, self.req, &state.net, shift, &offsets, s);
                let Some(gain) = gain else { continue };
                let score = gain as f64 / self.cost(shift).max(1e-9);
                if best.as_ref().is_none_or(|b| score > b.0) {
                    best = Some((score, c, offsets));
                }
            }
            match best {
                Some((_, c, offsets)) => state.add(self.cat, sol, c, &offsets, 1),
                None => hopeless[g][s] = true,
            }
        }
    }

    /// Gives each weekly block the fewest workers its days need; where their patterns bring
    /// more workers to a day than it has shifts, adds the cheapest shifts that cover the
    /// thinnest slots. Where the rule's starts cannot hold the shifts their patterns bring, the
    /// shifts added to cover bare slots (over the counts `before`) go again, and those slots
    /// stay bare. Workers per pattern, per block.
    fn fill_weeks(
        &self,
        sol: &mut Solution<u32>,
        state: &mut State,
        before: &[u32],
    ) -> Result<Vec<Vec<u32>>, RosterError> {
        let mut out = Vec::with_capacity(self.weeks.len());
        for week in self.weeks {
            let of_day = |day: usize| {
                (0..self.cat.shifts.len()).filter(move |&c| {
                    let s = &self.cat.shifts[c];
                    s.rule == week.rule && s.group == week.group && s.day == day
                })
            };
            let mut workers = None;
            for retry in [false, true] {
                if retry {
                    for c in week.days.iter().flat_map(|&d| of_day(d)) {
                        while sol.shifts[c] > before[c] {
                            let offsets = taken_offsets(self.cat, self.req, &state.net, sol, c);
                            state.add(self.cat, sol, c, &offsets, -1);
                        }
                    }
                }
                let need = self.day_counts(week, sol);
                let most: Vec<u32> = week
                    .days
                    .iter()
                    .zip(&need)
                    .map(|(&d, &n)| n.saturating_add(self.free_starts(state, of_day(d))))
                    .collect();
                if let Some(w) = fewest_workers(week, &need, &most)? {
                    workers = Some((w, need));
                    break;
                }
            }
            let (workers, need) = workers.ok_or_else(|| {
                RosterError::Rules(format!(
                    "shift rule {:?}: its days_per_week and consecutive_days_off cannot be met within its max_starts_per_interval for group {:?}; raise max_starts_per_interval or allow more day-off patterns",
                    self.cat.rule_names[week.rule], self.cat.group_names[week.group]
                ))
            })?;
            for (j, &d) in week.days.iter().enumerate() {
                let working: u32 = week
                    .patterns
                    .iter()
                    .zip(&workers)
                    .filter(|(p, _)| *p & (1 << j) != 0)
                    .map(|(_, n)| n)
                    .sum();
                for _ in need[j]..working {
                    self.add_thinnest(sol, state, of_day(d))?;
                }
            }
            out.push(workers);
        }
        Ok(out)
    }

    /// Shifts of the week's rule and group on each of its days.
    fn day_counts(&self, week: &WeekPatterns, sol: &Solution<u32>) -> Vec<u32> {
        week.days
            .iter()
            .map(|&d| {
                self.cat
                    .shifts
                    .iter()
                    .zip(&sol.shifts)
                    .filter(|(s, _)| s.rule == week.rule && s.group == week.group && s.day == d)
                    .map(|(_, &n)| n)
                    .sum()
            })
            .collect()
    }

    /// Starts still allowed for the shifts `of_day` (one per shift kind when unlimited).
    fn free_starts(&self, state: &State, of_day: impl Iterator<Item = usize>) -> u32 {
        let mut seen = BTreeMap::new();
        let mut unlimited = 0u32;
        for c in of_day {
            let shift = &self.cat.shifts[c];
            match self.max_starts[shift.rule] {
                None => unlimited = u32::MAX,
                Some(most) => {
                    let key = State::start_key(self.cat, shift);
                    seen.entry(key)
                        .or_insert(most.saturating_sub(state.starts_at(self.cat, shift)));
                }
            }
        }
        seen.values().fold(unlimited, |a, b| a.saturating_add(*b))
    }

    /// Adds the cheapest allowed shift of `choices`, the one covering the thinnest slots first.
    fn add_thinnest(
        &self,
        sol: &mut Solution<u32>,
        state: &mut State,
        choices: impl Iterator<Item = usize>,
    ) -> Result<(), RosterError> {
        let mut best: Option<(f64, f64, usize)> = None;
        for c in choices {
            let shift = &self.cat.shifts[c];
            if !self.may_start(state, shift) {
                continue;
            }
            let g = shift.group;
            let thin: f64 = shift
                .slots(&self.cat.grid)
                .map(|s| 1.0 / (1.0 + (state.net[g][s] - i64::from(self.req[g][s])).max(0) as f64))
                .sum();
            let key = (self.cost(shift), -thin);
            if best.is_none_or(|b| key < (b.0, b.1)) {
                best = Some((key.0, key.1, c));
            }
        }
        let (_, _, c) = best.ok_or_else(|| {
            RosterError::Solver("a weekly pattern needs a shift no rule allows".to_string())
        })?;
        let offsets = spare_offsets(self.cat, self.req, &state.net, &self.cat.shifts[c]);
        state.add(self.cat, sol, c, &offsets, 1);
        Ok(())
    }

    /// Removes shifts of rules without weekly limits whose cover no slot needs, dearest first.
    fn drop_spare(&self, sol: &mut Solution<u32>, state: &mut State) {
        let mut order: Vec<usize> = (0..sol.shifts.len())
            .filter(|&c| sol.shifts[c] > 0)
            .filter(|&c| !self.cat.rule_weekly[self.cat.shifts[c].rule])
            .collect();
        order.sort_by(|&a, &b| {
            let (sa, sb) = (&self.cat.shifts[a], &self.cat.shifts[b]);
            self.cost(sb).total_cmp(&self.cost(sa)).then(a.cmp(&b))
        });
        for c in order {
            while sol.shifts[c] > 0 {
                let Some(offsets) = removable(self.cat, self.req, &state.net, sol, c) else {
                    break;
                };
                state.add(self.cat, sol, c, &offsets, -1);
            }
        }
    }
}

impl Rounding<'_> {
    /// Replaces shifts by cheaper ones of the same rule, group and day (shorter, or starting
    /// elsewhere) wherever cover allows, dearest first, until none can be. A weekly rule's
    /// days keep their counts, so its workers' patterns still hold.
    fn shorten(&self, sol: &mut Solution<u32>, state: &mut State) {
        let mut same_day: BTreeMap<(usize, usize, usize), Vec<usize>> = BTreeMap::new();
        for (c, s) in self.cat.shifts.iter().enumerate() {
            same_day
                .entry((s.rule, s.group, s.day))
                .or_default()
                .push(c);
        }
        for alternatives in same_day.values_mut() {
            alternatives.sort_by(|&a, &b| {
                let (ca, cb) = (
                    self.cost(&self.cat.shifts[a]),
                    self.cost(&self.cat.shifts[b]),
                );
                ca.total_cmp(&cb).then(a.cmp(&b))
            });
        }
        // Each swap lowers the cost, so the passes end; the bound keeps them few.
        for _ in 0..8 {
            let mut changed = false;
            for c in 0..sol.shifts.len() {
                let shift = &self.cat.shifts[c];
                let key = (shift.rule, shift.group, shift.day);
                while sol.shifts[c] > 0 && self.swap_cheaper(sol, state, c, &same_day[&key]) {
                    changed = true;
                }
            }
            if !changed {
                break;
            }
        }
    }

    /// Takes one unit of shift `c` out and puts the cheapest of `alternatives` that covers
    /// what it leaves bare in; false (and nothing changed) when none does.
    fn swap_cheaper(
        &self,
        sol: &mut Solution<u32>,
        state: &mut State,
        c: usize,
        alternatives: &[usize],
    ) -> bool {
        let shift = &self.cat.shifts[c];
        let g = shift.group;
        let out = taken_offsets(self.cat, self.req, &state.net, sol, c);
        state.add(self.cat, sol, c, &out, -1);
        let bare: Vec<usize> = shift
            .slots(&self.cat.grid)
            .filter(|&s| state.net[g][s] < i64::from(self.req[g][s]))
            .collect();
        let fits = bare
            .iter()
            .all(|&s| state.net[g][s] + 1 >= i64::from(self.req[g][s]));
        let cost = self.cost(shift);
        for &a in alternatives.iter().filter(|_| fits) {
            let alt = &self.cat.shifts[a];
            if self.cost(alt) >= cost - 1e-9 {
                break;
            }
            if a == c || !self.may_start(state, alt) {
                continue;
            }
            let offsets = spare_offsets(self.cat, self.req, &state.net, alt);
            let mut covered: Vec<usize> = alt.slots(&self.cat.grid).collect();
            for (b, &k) in offsets.iter().enumerate() {
                let on_break: Vec<usize> = alt
                    .break_slots(&self.cat.grid, b, alt.breaks[b].offsets[k])
                    .collect();
                covered.retain(|s| !on_break.contains(s));
            }
            if bare.iter().all(|s| covered.contains(s)) {
                state.add(self.cat, sol, a, &offsets, 1);
                return true;
            }
        }
        state.add(self.cat, sol, c, &out, 1);
        false
    }
}

/// Per break of shift `c`, the offset of a unit to take out: the taken one whose slots have
/// the least cover to spare.
fn taken_offsets(
    cat: &Catalogue,
    req: &Requirement,
    net: &[Vec<i64>],
    sol: &Solution<u32>,
    c: usize,
) -> Vec<usize> {
    let shift = &cat.shifts[c];
    let g = shift.group;
    (0..shift.breaks.len())
        .map(|b| {
            (0..shift.breaks[b].offsets.len())
                .filter(|&k| sol.breaks[c][b][k] > 0)
                .min_by_key(|&k| {
                    shift
                        .break_slots(&cat.grid, b, shift.breaks[b].offsets[k])
                        .map(|s| net[g][s] - i64::from(req[g][s]))
                        .min()
                        .unwrap_or(i64::MAX)
                })
                .unwrap_or(0)
        })
        .collect()
}

/// For each break of `shift`, the offset whose slots have the most cover to spare.
fn spare_offsets(
    cat: &Catalogue,
    req: &Requirement,
    net: &[Vec<i64>],
    shift: &Shift,
) -> Vec<usize> {
    let g = shift.group;
    (0..shift.breaks.len())
        .map(|b| {
            let spare = |k: &usize| {
                shift
                    .break_slots(&cat.grid, b, shift.breaks[b].offsets[*k])
                    .map(|s| net[g][s] - i64::from(req[g][s]))
                    .min()
                    .unwrap_or(i64::MAX)
            };
            (0..shift.breaks[b].offsets.len())
                .max_by(|a, b| spare(a).cmp(&spare(b)).then(b.cmp(a)))
                .unwrap_or(0)
        })
        .collect()
}

/// The bare slots one more `shift` (breaks at `offsets`) would cover, if it covers `must`.
fn bare_gain(
    cat: &Catalogue,
    req: &Requirement,
    net: &[Vec<i64>],
    shift: &Shift,
    offsets: &[usize],
    must: usize,
) -> Option<u32> {
    let g = shift.group;
    let mut on_break = Vec::new();
    for (b, &k) in offsets.iter().enumerate() {
        on_break.extend(shift.break_slots(&cat.grid, b, shift.breaks[b].offsets[k]));
    }
    let mut covers_must = false;
    let mut gain = 0;
    for s in shift.slots(&cat.grid).filter(|s| !on_break.contains(s)) {
        covers_must |= s == must;
        gain += u32::from(net[g][s] < i64::from(req[g][s]));
    }
    covers_must.then_some(gain)
}

/// The offsets of one unit of shift `c` that can go without any slot falling below its need.
fn removable(
    cat: &Catalogue,
    req: &Requirement,
    net: &[Vec<i64>],
    sol: &Solution<u32>,
    c: usize,
) -> Option<Vec<usize>> {
    let shift = &cat.shifts[c];
    let g = shift.group;
    let offsets = taken_offsets(cat, req, net, sol, c);
    let mut delta = BTreeMap::new();
    for s in shift.slots(&cat.grid) {
        *delta.entry(s).or_insert(0i64) -= 1;
    }
    for (b, &k) in offsets.iter().enumerate() {
        for s in shift.break_slots(&cat.grid, b, shift.breaks[b].offsets[k]) {
            *delta.entry(s).or_insert(0) += 1;
        }
    }
    delta
        .iter()
        .all(|(&s, &d)| d >= 0 || req[g][s] == 0 || net[g][s] + d >= i64::from(req[g][s]))
        .then_some(offsets)
}

/// The rounding's running state: net cover, starts per rule and interval, and which shifts
/// cover each slot.
struct State {
    net: Vec<Vec<i64>>,
    starts: BTreeMap<(usize, i64), u32>,
    covering: Vec<Vec<Vec<usize>>>,
}

impl State {
    fn new(r: &Rounding<'_>, sol: &Solution<u32>) -> State {
        let groups = r.req.len();
        let mut covering = vec![vec![Vec::new(); r.cat.grid.slots]; groups];
        for (c, shift) in r.cat.shifts.iter().enumerate() {
            for s in shift.slots(&r.cat.grid) {
                covering[shift.group][s].push(c);
            }
        }
        let mut starts = BTreeMap::new();
        for (c, shift) in r.cat.shifts.iter().enumerate() {
            *starts.entry(State::start_key(r.cat, shift)).or_insert(0) += sol.shifts[c];
        }
        State {
            net: net_cover(r.cat, groups, sol),
            starts,
            covering,
        }
    }

    fn start_key(cat: &Catalogue, shift: &Shift) -> (usize, i64) {
        (
            shift.rule,
            shift.start.div_euclid(cat.grid.per_interval as i64),
        )
    }

    fn starts_at(&self, cat: &Catalogue, shift: &Shift) -> u32 {
        self.starts
            .get(&State::start_key(cat, shift))
            .copied()
            .unwrap_or(0)
    }

    /// Adds `n` (1 or -1) units of shift `c` with its breaks at `offsets`.
    fn add(
        &mut self,
        cat: &Catalogue,
        sol: &mut Solution<u32>,
        c: usize,
        offsets: &[usize],
        n: i32,
    ) {
        let shift = &cat.shifts[c];
        let g = shift.group;
        let apply = |v: &mut u32| *v = v.saturating_add_signed(n);
        apply(&mut sol.shifts[c]);
        apply(self.starts.entry(State::start_key(cat, shift)).or_insert(0));
        for s in shift.slots(&cat.grid) {
            self.net[g][s] += i64::from(n);
        }
        for (b, &k) in offsets.iter().enumerate() {
            apply(&mut sol.breaks[c][b][k]);
            for s in shift.break_slots(&cat.grid, b, shift.breaks[b].offsets[k]) {
                self.net[g][s] -= i64::from(n);
            }
        }
    }
}
