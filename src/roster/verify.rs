//! The roster's real staffing simulated: per group, the agents on duty in each slot (shifts
//! minus breaks) become the interval staffing plus within-interval steps, so breaks are taken
//! when placed (an agent going on break finishes the chats in hand and takes no new one). An
//! interval that misses a target asks for one more agent (a large group: the plan's
//! resolution) than the roster had on duty at the interval's thinnest slot, in the group carrying most of the failing queue (and in any group
//! over its occupancy limit), within `max_on_duty`.

use crate::plan::{PlanError, resolution};
use crate::profile::Profile;
use crate::routing::SECOND;
use crate::scenario::{Scenario, Staffing};
use crate::sim::{self, SimulationReport};

use super::RosterError;
use super::catalogue::Grid;

/// Seed offset of the roster's runs (a stream independent of the plan's search and check).
pub const ROSTER_SEED_OFFSET: u64 = 2_000_003;

/// The scenario of `profile` staffed with `net[group][slot]` agents on duty.
pub fn scenario(profile: &Profile, grid: &Grid, net: &[Vec<i64>]) -> Result<Scenario, RosterError> {
    let k = grid.per_interval;
    let at = |g: usize, s: usize| net[g][s].max(0) as u32;
    let staffing = Staffing {
        groups: (0..net.len())
            .map(|g| (0..profile.intervals).map(|i| at(g, i * k)).collect())
            .collect(),
    };
    let mut sc = Scenario::new(profile, &staffing).map_err(PlanError::from)?;
    let slot = grid.slot_secs as i64 * SECOND as i64;
    for (g, group) in sc.groups.iter_mut().enumerate() {
        let steps = (0..grid.slots)
            .filter(|s| s % k != 0 && at(g, *s) != at(g, s - 1))
            .map(|s| ((s as i64 * slot) as crate::routing::Time, at(g, s)))
            .collect();
        group.set_steps(steps);
    }
    sc.seed = profile.simulation.seed.wrapping_add(ROSTER_SEED_OFFSET);
    Ok(sc)
}

/// Simulates `sc` with the profile's replications.
pub fn run(
    sc: &Scenario,
    replications: u32,
    pool: &rayon::ThreadPool,
) -> Result<SimulationReport, RosterError> {
    let (runs, perf) =
        sim::simulate_runs(sc, replications, pool, &|| {}).map_err(PlanError::from)?;
    Ok(sim::aggregate(sc, &runs, perf))
}

/// Whether interval `i` is judged: some customer can arrive in it. A group on duty where none
/// can (before opening) only sees what waited overnight, such as chats transferred to it after
/// it went home; the plan does not judge such intervals either.
pub fn judged(profile: &Profile, i: usize) -> bool {
    profile
        .queues
        .iter()
        .any(|q| q.volume.get(i).is_some_and(|&v| v > 0.0))
}

/// Raises `required[group][interval]` where `report` misses a target; whether any was.
pub fn raise_misses(
    profile: &Profile,
    report: &SimulationReport,
    net: &[Vec<i64>],
    grid: &Grid,
    required: &mut [Vec<u32>],
) -> bool {
    let serving = profile.serving_groups();
    let on_duty = |g: usize, i: usize| net[g][i * grid.per_interval];
    let mut raise = vec![vec![false; profile.intervals]; required.len()];
    for row in report.intervals.iter().filter(|r| !r.targets_met) {
        let (i, q) = (row.interval, profile.queue_index(&row.queue).unwrap_or(0));
        let room = |g: usize| {
            let (_, most) = profile.agents[g].on_duty_bounds(profile.is_open(i));
            required[g][i] < most
        };
        if let Some(&g) = serving[q]
            .iter()
            .filter(|&&g| room(g))
            .max_by_key(|&&g| (on_duty(g, i), std::cmp::Reverse(g)))
        {
            raise[g][i] = true;
        }
    }
    let missed = report.agent_intervals.iter().filter(|r| !r.targets_met);
    for row in missed.filter(|r| judged(profile, r.interval)) {
        if let Some(g) = profile.agents.iter().position(|a| a.name == row.group) {
            let (_, most) = profile.agents[g].on_duty_bounds(profile.is_open(row.interval));
            raise[g][row.interval] |= required[g][row.interval] < most;
        }
    }
    let mut changed = false;
    for (g, intervals) in raise.iter().enumerate() {
        for (i, &up) in intervals.iter().enumerate() {
            if up {
                // One more (a large group: its resolution) than the roster had on duty at the
                // interval's thinnest slot: a requirement already below the cover would change
                // nothing.
                let slots = i * grid.per_interval..(i + 1) * grid.per_interval;
                let thinnest = slots.map(|s| net[g][s]).min().unwrap_or(0).max(0) as u32;
                let (_, most) = profile.agents[g].on_duty_bounds(profile.is_open(i));
                let up = resolution(thinnest);
                required[g][i] = (required[g][i].max(thinnest) + up).min(most);
                changed = true;
            }
        }
    }
    changed
}
