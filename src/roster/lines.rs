//! From counts to people: each shift unit gets its breaks (a kind's placements handed out in
//! order), kinds with the same placements are listed together, and units become lines, one
//! person's week each. A weekly rule's lines follow its day-off patterns; other rules' shifts go
//! to the line free longest before they start (a new line when none is free), so no line holds
//! two shifts at once.

use std::collections::BTreeMap;

use super::Covered;
use super::catalogue::{Catalogue, Shift};
use super::patterns::WeekPatterns;
use super::report::{Line, LineDay, ShiftBreak, ShiftRow};
use crate::profile::Profile;

/// One shift as worked: its kind and each break's offset index.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Unit {
    /// Shift kind in the catalogue.
    pub shift: usize,
    /// Per break, the index of its offset.
    pub offsets: Vec<usize>,
}

/// Every shift unit of `covered`, kinds in catalogue order.
pub fn units(covered: &Covered) -> Vec<Unit> {
    let sol = &covered.solution;
    let mut out = Vec::new();
    for (c, &n) in sol.shifts.iter().enumerate() {
        let per_break: Vec<Vec<usize>> = sol.breaks[c]
            .iter()
            .map(|counts| {
                counts
                    .iter()
                    .enumerate()
                    .flat_map(|(k, &m)| std::iter::repeat_n(k, m as usize))
                    .collect()
            })
            .collect();
        for u in 0..n as usize {
            out.push(Unit {
                shift: c,
                offsets: per_break
                    .iter()
                    .map(|ks| ks.get(u).copied().unwrap_or(0))
                    .collect(),
            });
        }
    }
    out
}

/// The shift rows: units of the same kind and placements counted together.
pub fn shift_rows(profile: &Profile, cat: &Catalogue, units: &[Unit]) -> Vec<ShiftRow> {
    let mut counts: BTreeMap<&Unit, u32> = BTreeMap::new();
    for u in units {
        *counts.entry(u).or_default() += 1;
    }
    let slot = cat.grid.slot_secs as f64;
    counts
        .into_iter()
        .map(|(u, count)| {
            let shift = &cat.shifts[u.shift];
            ShiftRow {
                date: date_of(profile, cat, shift),
                start: profile.instant_text(shift.start as f64 * slot),
                length_hours: shift.length as f64 * slot / 3600.0,
                group: cat.group_names[shift.group].clone(),
                rule: cat.rule_names[shift.rule].clone(),
                count,
                breaks: shift
                    .breaks
                    .iter()
                    .zip(&u.offsets)
                    .map(|(b, &k)| ShiftBreak {
                        start: profile
                            .instant_text((shift.start + b.offsets[k] as i64) as f64 * slot),
                        length_mins: b.length as f64 * slot / 60.0,
                        paid: b.paid,
                    })
                    .collect(),
            }
        })
        .collect()
}

fn date_of(profile: &Profile, cat: &Catalogue, shift: &Shift) -> Option<String> {
    profile
        .calendar
        .dated
        .then(|| cat.grid.days[shift.day].to_string())
}

/// A line being built: its rule, group, working days (for weekly rules) and shifts.
struct Draft {
    rule: usize,
    group: usize,
    works: Option<Vec<usize>>,
    shifts: Vec<usize>,
}

impl Draft {
    /// Slot after the line's last shift ends (the earliest a next one may start).
    fn free_from(&self, cat: &Catalogue) -> i64 {
        self.shifts.last().map_or(i64::MIN, |&c| {
            cat.shifts[c].start + cat.shifts[c].length as i64
        })
    }
}

/// The lines: weekly rules' workers by pattern, other rules' shifts by first free line.
pub fn lines(
    profile: &Profile,
    cat: &Catalogue,
    weeks: &[WeekPatterns],
    covered: &Covered,
) -> Vec<Line> {
    let mut drafts: Vec<Draft> = Vec::new();
    // Per (rule, group, day), the shift kinds of its units in start order.
    let mut of_day: BTreeMap<(usize, usize, usize), Vec<usize>> = BTreeMap::new();
    for (c, &n) in covered.solution.shifts.iter().enumerate() {
        let s = &cat.shifts[c];
        of_day
            .entry((s.rule, s.group, s.day))
            .or_default()
            .extend(std::iter::repeat_n(c, n as usize));
    }
    for list in of_day.values_mut() {
        list.sort_by_key(|&c| (cat.shifts[c].start, cat.shifts[c].length, c));
    }
    let mut leftover = BTreeMap::new();
    for (w, week) in weeks.iter().enumerate() {
        let first = drafts.len();
        for (p, &mask) in week.patterns.iter().enumerate() {
            for _ in 0..covered.patterns[w][p] {
                let works = (0..week.days.len()).filter(|j| mask & (1 << j) != 0);
                drafts.push(Draft {
                    rule: week.rule,
                    group: week.group,
                    works: Some(works.map(|j| week.days[j]).collect()),
                    shifts: Vec::new(),
                });
            }
        }
        for &day in &week.days {
            let shifts = of_day
                .remove(&(week.rule, week.group, day))
                .unwrap_or_default();
            let mut free: Vec<usize> = (first..drafts.len())
                .filter(|&l| drafts[l].works.as_ref().is_some_and(|d| d.contains(&day)))
                .collect();
            free.sort_by_key(|&l| (drafts[l].free_from(cat), l));
            let mut shifts = shifts.into_iter();
            for l in free {
                match shifts.next() {
                    Some(c) => drafts[l].shifts.push(c),
                    None => break,
                }
            }
            // More shifts than workers (never from a whole solution): lines of their own.
            let rest: Vec<usize> = shifts.collect();
            if !rest.is_empty() {
                leftover.insert((week.rule, week.group, day), rest);
            }
        }
    }
    of_day.extend(leftover);
    // Rules without weekly limits (and any unit a pattern left over): first free line.
    first_free(cat, of_day, &mut drafts);
    drafts
        .into_iter()
        .filter(|d| !d.shifts.is_empty())
        .enumerate()
        .map(|(i, d)| to_line(profile, cat, i + 1, d))
        .collect()
}

/// Each shift of `of_day` to the line of its rule and group free longest before it starts and
/// not working that day; a new line when none is.
fn first_free(
    cat: &Catalogue,
    of_day: BTreeMap<(usize, usize, usize), Vec<usize>>,
    drafts: &mut Vec<Draft>,
) {
    for ((rule, group, _), shifts) in of_day {
        for c in shifts {
            let start = cat.shifts[c].start;
            let line = (0..drafts.len())
                .filter(|&l| {
                    let d = &drafts[l];
                    d.works.is_none()
                        && d.rule == rule
                        && d.group == group
                        && d.free_from(cat) <= start
                        && d.shifts
                            .last()
                            .is_none_or(|&p| cat.shifts[p].day != cat.shifts[c].day)
                })
                .min_by_key(|&l| (drafts[l].free_from(cat), l));
            match line {
                Some(l) => drafts[l].shifts.push(c),
                None => drafts.push(Draft {
                    rule,
                    group,
                    works: None,
                    shifts: vec![c],
                }),
            }
        }
    }
}

fn to_line(profile: &Profile, cat: &Catalogue, line: usize, d: Draft) -> Line {
    let slot = cat.grid.slot_secs as f64;
    let mut shifts = d.shifts;
    shifts.sort_by_key(|&c| cat.shifts[c].start);
    Line {
        line,
        group: cat.group_names[d.group].clone(),
        rule: cat.rule_names[d.rule].clone(),
        agent_id: None,
        paid_hours: shifts.iter().map(|&c| cat.shifts[c].paid_hours).sum(),
        days: shifts
            .iter()
            .map(|&c| {
                let s = &cat.shifts[c];
                LineDay {
                    date: date_of(profile, cat, s),
                    start: profile.instant_text(s.start as f64 * slot),
                    end: profile.instant_text((s.start + s.length as i64) as f64 * slot),
                }
            })
            .collect(),
    }
}
