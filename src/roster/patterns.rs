//! Weekly tours: which days of a week one person works under a rule's `days_per_week` and
//! `consecutive_days_off`. Weeks are blocks of seven days from the horizon's first; a pattern
//! is a set of working days, the days off running in a row across the week's end (a roster
//! repeats, so Sunday and Monday off is two days in a row).

use microlp::{ComparisonOp, LinearExpr, OptimizationDirection, Problem};

use super::RosterError;
use crate::profile::shifts::ShiftRule;

/// The patterns of one rule for one group in one week.
#[derive(Debug, Clone, PartialEq)]
pub struct WeekPatterns {
    /// Rule index.
    pub rule: usize,
    /// Agent group index.
    pub group: usize,
    /// The week's days, as indices into the grid's days (fewer than seven in a last, short
    /// week); bit `j` of a pattern is `days[j]`.
    pub days: Vec<usize>,
    /// The allowed sets of working days, as bit masks over the seven days of the week.
    pub patterns: Vec<u8>,
}

/// Every allowed pattern for `days_per_week` working days with `off_in_a_row` days off in a
/// row (cyclically), in increasing mask order.
pub fn allowed(days_per_week: u32, off_in_a_row: Option<u32>) -> Vec<u8> {
    (0u8..128)
        .filter(|m| m.count_ones() == days_per_week)
        .filter(|&m| {
            let Some(run) = off_in_a_row else {
                return true;
            };
            (0..7).any(|first| (0..run).all(|k| m & (1 << ((first + k) % 7)) == 0))
        })
        .collect()
}

/// The weekly blocks of every rule with `days_per_week`, for each of its groups.
pub fn weeks(rules: &[ShiftRule], days: usize) -> Vec<WeekPatterns> {
    let mut out = Vec::new();
    for (r, rule) in rules.iter().enumerate() {
        let Some(per_week) = rule.days_per_week else {
            continue;
        };
        let patterns = allowed(per_week, rule.consecutive_days_off);
        for &group in &rule.groups {
            for first in (0..days).step_by(7) {
                out.push(WeekPatterns {
                    rule: r,
                    group,
                    days: (first..days.min(first + 7)).collect(),
                    patterns: patterns.clone(),
                });
            }
        }
    }
    out
}

/// The fewest workers, per pattern, so that each day `j` of `week` has at least `need[j]`
/// and at most `most[j]` working: `None` when no choice fits.
pub fn fewest_workers(
    week: &WeekPatterns,
    need: &[u32],
    most: &[u32],
) -> Result<Option<Vec<u32>>, RosterError> {
    let mut problem = Problem::new(OptimizationDirection::Minimize);
    let vars: Vec<_> = week
        .patterns
        .iter()
        .map(|_| problem.add_integer_var(1.0, (0, i32::MAX)))
        .collect();
    for j in 0..week.days.len() {
        let mut row = LinearExpr::empty();
        for (p, pattern) in week.patterns.iter().enumerate() {
            if pattern & (1 << j) != 0 {
                row.add(vars[p], 1.0);
            }
        }
        problem.add_constraint(row.clone(), ComparisonOp::Ge, f64::from(need[j]));
        problem.add_constraint(row, ComparisonOp::Le, f64::from(most[j]));
    }
    match problem.solve() {
        Ok(outcome) => {
            let solution = outcome.into_solution().map_err(|_| {
                RosterError::Solver("the weekly pattern choice stopped early".to_string())
            })?;
            Ok(Some(
                vars.iter()
                    .map(|&v| solution.var_value(v).round() as u32)
                    .collect(),
            ))
        }
        Err(microlp::Error::Infeasible) => Ok(None),
        Err(e) => Err(RosterError::Solver(e.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn five_days_with_two_off_in_a_row_has_seven_patterns() {
        let p = allowed(5, Some(2));
        assert_eq!(p.len(), 7);
        // Saturday and Sunday off: Monday to Friday.
        assert!(p.contains(&0b001_1111));
        // Sunday and Monday off, across the week's end.
        assert!(p.contains(&0b011_1110));
        // Tuesday and Thursday off are not in a row.
        assert!(!p.contains(&0b111_0101));
        assert_eq!(allowed(5, None).len(), 21);
    }
}
