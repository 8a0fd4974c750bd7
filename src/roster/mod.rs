//! Rosters: shifts with breaks and days off that cover a plan's requirement at the least paid
//! time, checked by simulating the staffing they really give (breaks taken as placed).
//!
//! - [`agents`]: named agents from `--agents` for the lines;
//! - [`catalogue`]: the slot grid and every shift the `[[shifts]]` rules allow;
//! - [`patterns`]: weekly tours (days worked, days off in a row);
//! - [`model`]: the covering integer program, its relaxation (the lower bound) and the
//!   node-limited integer solve;
//! - [`rounding`]: a whole roster from the relaxation, the integer solve's starting point;
//! - [`lines`]: one person's week per line, and named agents when a list is given;
//! - [`requirement`]: the plan's requirement, made now or read from a plan file;
//! - [`verify`]: the roster's staffing simulated, misses repaired by more cover;
//! - [`report`]: the `chatcap roster` result;
//! - `run`: cover, simulate, repair, and lay the roster out.

pub mod agents;
pub mod catalogue;
mod document;
pub mod lines;
pub mod model;
pub mod patterns;
pub mod report;
pub mod requirement;
pub mod rounding;
mod run;
pub mod verify;

use std::time::Instant;

pub use report::RosterReport;
pub use run::{RosterOptions, roster};

use crate::plan::PlanError;
use crate::profile::Profile;
use catalogue::Catalogue;
use model::Model;
use patterns::WeekPatterns;
use rounding::Rounding;

/// Agents needed on duty per agent group and slot: `req[group][slot]`.
pub type Requirement = Vec<Vec<u32>>;

/// Why a roster could not be made.
#[derive(Debug, thiserror::Error)]
pub enum RosterError {
    /// A bad input: profile rules, plan file, agent list or flag.
    #[error("{0}")]
    Input(String),
    /// The rules cannot be met together.
    #[error("{0}")]
    Rules(String),
    /// The solver failed.
    #[error("roster solver: {0}")]
    Solver(String),
    /// Planning the requirement or simulating the roster failed.
    #[error(transparent)]
    Plan(#[from] PlanError),
}

impl RosterError {
    /// Whether the error is the input's (exit code 2) rather than a failure (1).
    pub fn is_input(&self) -> bool {
        match self {
            RosterError::Input(_) | RosterError::Rules(_) => true,
            RosterError::Solver(_) => false,
            RosterError::Plan(PlanError::Sim(e)) => e.is_input(),
            RosterError::Plan(_) => true,
        }
    }
}

/// Counts of a roster: per shift of the catalogue, and per shift, break and offset.
#[derive(Debug, Clone, PartialEq)]
pub struct Solution<T> {
    /// Per shift kind, how many.
    pub shifts: Vec<T>,
    /// Per shift kind and break, how many take it at each allowed offset.
    pub breaks: Vec<Vec<Vec<T>>>,
}

impl Solution<f64> {
    /// The nearest whole counts.
    pub fn rounded(&self) -> Solution<u32> {
        let whole = |v: &f64| v.round().max(0.0) as u32;
        Solution {
            shifts: self.shifts.iter().map(whole).collect(),
            breaks: self
                .breaks
                .iter()
                .map(|b| b.iter().map(|o| o.iter().map(whole).collect()).collect())
                .collect(),
        }
    }
}

/// Agents on shift and on break per group and slot.
pub fn on_shift_and_break(
    cat: &Catalogue,
    groups: usize,
    sol: &Solution<u32>,
) -> (Vec<Vec<i64>>, Vec<Vec<i64>>) {
    let mut on_shift = vec![vec![0i64; cat.grid.slots]; groups];
    let mut on_break = vec![vec![0i64; cat.grid.slots]; groups];
    for (c, shift) in cat.shifts.iter().enumerate() {
        if sol.shifts[c] == 0 {
            continue;
        }
        let g = shift.group;
        for s in shift.slots(&cat.grid) {
            on_shift[g][s] += i64::from(sol.shifts[c]);
        }
        for (b, brk) in shift.breaks.iter().enumerate() {
            for (k, &offset) in brk.offsets.iter().enumerate() {
                let n = i64::from(sol.breaks[c][b][k]);
                if n > 0 {
                    for s in shift.break_slots(&cat.grid, b, offset) {
                        on_break[g][s] += n;
                    }
                }
            }
        }
    }
    (on_shift, on_break)
}

/// Net cover (on shift, not on break) per group and slot.
pub fn net_cover(cat: &Catalogue, groups: usize, sol: &Solution<u32>) -> Vec<Vec<i64>> {
    let (mut net, on_break) = on_shift_and_break(cat, groups, sol);
    for (n, b) in net.iter_mut().zip(&on_break) {
        for (x, y) in n.iter_mut().zip(b) {
            *x -= y;
        }
    }
    net
}

/// The rules' inputs to the covering program.
pub struct Rules<'a> {
    /// The shifts.
    pub cat: &'a Catalogue,
    /// Price of an hour per group.
    pub costs: Vec<f64>,
    /// Each rule's `max_starts_per_interval`.
    pub max_starts: Vec<Option<u32>>,
    /// Weekly blocks of rules with weekly limits.
    pub weeks: Vec<WeekPatterns>,
}

impl<'a> Rules<'a> {
    /// The rules of `profile` over `cat`.
    pub fn of(profile: &Profile, cat: &'a Catalogue) -> Rules<'a> {
        Rules {
            cat,
            costs: profile.agents.iter().map(|g| g.cost_per_hour).collect(),
            max_starts: profile
                .shifts
                .iter()
                .map(|r| r.max_starts_per_interval)
                .collect(),
            weeks: patterns::weeks(&profile.shifts, cat.grid.days.len()),
        }
    }
}

/// A covering solution with its bound.
#[derive(Debug, Clone)]
pub struct Covered {
    /// Shift and break counts.
    pub solution: Solution<u32>,
    /// Per weekly block, workers per pattern.
    pub patterns: Vec<Vec<u32>>,
    /// The relaxation's paid hours (its cost with uncovered requirement left out).
    pub lp_hours: f64,
    /// The relaxation's cost, without the price of uncovered requirement.
    pub lp_cost: f64,
    /// The solution's paid hours.
    pub paid_hours: f64,
    /// The solution's cost.
    pub cost: f64,
    /// Seconds in the relaxation, the rounding and the integer solve.
    pub solve_secs: f64,
}

/// Covers `req` with the rules: the relaxation (the bound), a dive to whole counts, then the
/// rounding's completion (bare slots, weekly patterns, spare and dear shifts). With `from`, an
/// earlier roster, the completion starts from it instead of a dive: what it covered stays put
/// and only what `req` leaves bare is added.
pub fn cover(
    rules: &Rules<'_>,
    req: &Requirement,
    from: Option<&Solution<u32>>,
) -> Result<Covered, RosterError> {
    let started = Instant::now();
    let cat = rules.cat;
    let relaxation = Model::build(cat, req, &rules.costs, &rules.weeks, &rules.max_starts);
    let (_, lp) = relaxation.solve_relaxation()?;
    let (lp_hours, lp_cost) = hours_and_cost(rules, &lp.shifts);
    let whole = match from {
        Some(earlier) => earlier.clone(),
        None => relaxation.dive(cat, &rules.max_starts)?,
    };
    let rounding = Rounding {
        cat,
        req,
        costs: &rules.costs,
        max_starts: &rules.max_starts,
        weeks: &rules.weeks,
    };
    let rounded = rounding.complete(whole)?;
    let (paid_hours, cost) = hours_and_cost(rules, &rounded.solution.shifts);
    Ok(Covered {
        solution: rounded.solution,
        patterns: rounded.patterns,
        lp_hours,
        lp_cost,
        paid_hours,
        cost,
        solve_secs: started.elapsed().as_secs_f64(),
    })
}

/// Paid hours and cost of shift counts.
fn hours_and_cost<T: Copy + Into<f64>>(rules: &Rules<'_>, counts: &[T]) -> (f64, f64) {
    let mut hours = 0.0;
    let mut cost = 0.0;
    for (shift, &n) in rules.cat.shifts.iter().zip(counts) {
        let n: f64 = n.into();
        hours += n * shift.paid_hours;
        cost += n * shift.paid_hours * rules.costs[shift.group];
    }
    (hours, cost)
}

/// The requirement `sol` leaves bare, per group and slot.
pub fn bare(cat: &Catalogue, req: &Requirement, sol: &Solution<u32>) -> Vec<Vec<u32>> {
    let net = net_cover(cat, req.len(), sol);
    req.iter()
        .zip(&net)
        .map(|(r, n)| {
            r.iter()
                .zip(n)
                .map(|(&r, &n)| (i64::from(r) - n).max(0) as u32)
                .collect()
        })
        .collect()
}
