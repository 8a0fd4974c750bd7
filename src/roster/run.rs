//! `chatcap roster` from a requirement: cover, simulate, raise what the simulation misses and
//! add cover to the same roster (bounded rounds), then lay the last roster out as shifts, lines
//! and coverage.

use std::time::Instant;

use super::agents::Agent;
use super::catalogue::{self, Catalogue};
use super::report::{
    CoverageRow, RosterPerf, RosterReport, RosterTotals, UnderCovered, Verification,
    VerifiedInterval,
};
use super::{Covered, Requirement, RosterError, Rules, cover, lines, on_shift_and_break, verify};
use crate::plan::PlanError;
use crate::profile::Profile;
use crate::sim::{self, SimulationReport};

/// What `chatcap roster` is asked for.
#[derive(Debug, Clone, Copy)]
pub struct RosterOptions {
    /// Most repair rounds after the first roster.
    pub rounds: usize,
    /// Worker threads of the simulation (all cores when `None`); results do not depend on it.
    pub threads: Option<usize>,
}

impl Default for RosterOptions {
    fn default() -> Self {
        RosterOptions {
            rounds: 3,
            threads: None,
        }
    }
}

/// Rosters `profile` for `required[group][interval]` agents on duty (the plan's
/// `required_agents`); `plan_secs` is the time the requirement took, for the perf figures.
/// With `agents`, the lines are assigned to them.
pub fn roster(
    profile: &Profile,
    mut required: Vec<Vec<u32>>,
    plan_secs: f64,
    options: RosterOptions,
    agents: Option<&[Agent]>,
    progress: &dyn Fn(usize, usize),
) -> Result<RosterReport, RosterError> {
    let started = Instant::now();
    let cat = catalogue::catalogue(profile)?;
    let rules = Rules::of(profile, &cat);
    let pool = sim::thread_pool(options.threads).map_err(PlanError::from)?;
    let (mut solve_secs, mut verify_secs) = (0.0, 0.0);
    let mut round = 0;
    let mut earlier: Option<Covered> = None;
    let (covered, req, sim) = loop {
        progress(round, options.rounds + 1);
        let req = by_slot(&cat, &required);
        // Repairs add to the roster simulated: a new solve would move breaks and shifts
        // elsewhere, where the simulation has not looked at them.
        let covered = cover(&rules, &req, earlier.as_ref().map(|c| &c.solution))?;
        solve_secs += covered.solve_secs;
        let net = super::net_cover(&cat, required.len(), &covered.solution);
        let checked = Instant::now();
        let sc = verify::scenario(profile, &cat.grid, &net)?;
        let sim = verify::run(&sc, profile.simulation.replications, &pool)?;
        verify_secs += checked.elapsed().as_secs_f64();
        if round == options.rounds
            || !verify::raise_misses(profile, &sim, &net, &cat.grid, &mut required)
        {
            break (covered, req, sim);
        }
        earlier = Some(covered);
        round += 1;
    };
    let units = lines::units(&covered);
    let coverage = coverage_rows(profile, &cat, &req, &covered);
    let under_covered = under_covered(profile, &cat, &coverage);
    let mut lines = lines::lines(profile, &cat, &rules.weeks, &covered);
    let assignment = agents.map(|list| super::agents::assign(profile, list, &mut lines));
    let slot_hours = cat.grid.slot_secs as f64 / 3600.0;
    let required_hours = req.iter().flatten().map(|&r| f64::from(r)).sum::<f64>() * slot_hours;
    let totals = RosterTotals {
        paid_hours: covered.paid_hours,
        required_hours,
        efficiency: ratio(required_hours, covered.paid_hours),
        lp_bound_hours: covered.lp_hours,
        gap: ratio(covered.cost, covered.lp_cost) - 1.0,
        cost: covered.cost,
        under_covered_intervals: under_covered.len(),
        lines: lines.len(),
    };
    Ok(RosterReport {
        profile: profile.name.clone(),
        slot_mins: cat.grid.slot_secs as f64 / 60.0,
        shifts: lines::shift_rows(profile, &cat, &units),
        lines,
        coverage,
        under_covered,
        assignment,
        totals,
        verification: verification(profile, &sim, round),
        perf: RosterPerf {
            shift_kinds: cat.shifts.len(),
            plan_secs,
            solve_secs,
            verify_secs,
            elapsed_secs: plan_secs + started.elapsed().as_secs_f64(),
            threads: pool.current_num_threads(),
        },
    })
}

fn ratio(a: f64, b: f64) -> f64 {
    if b > 0.0 { a / b } else { 1.0 }
}

/// The requirement per group and slot: each interval's value in each of its slots.
fn by_slot(cat: &Catalogue, required: &[Vec<u32>]) -> Requirement {
    required
        .iter()
        .map(|intervals| {
            (0..cat.grid.slots)
                .map(|s| intervals[cat.grid.interval_of(s)])
                .collect()
        })
        .collect()
}

fn coverage_rows(
    profile: &Profile,
    cat: &Catalogue,
    req: &Requirement,
    covered: &Covered,
) -> Vec<CoverageRow> {
    let (on_shift, on_break) = on_shift_and_break(cat, req.len(), &covered.solution);
    let slot = cat.grid.slot_secs as f64;
    let mut rows = Vec::with_capacity(cat.grid.slots * req.len());
    for s in 0..cat.grid.slots {
        for g in 0..req.len() {
            let (scheduled, breaks) = (on_shift[g][s].max(0) as u32, on_break[g][s].max(0) as u32);
            rows.push(CoverageRow {
                start: profile.instant_text(s as f64 * slot),
                interval: cat.grid.interval_of(s),
                group: cat.group_names[g].clone(),
                required: req[g][s],
                scheduled,
                on_break: breaks,
                net: scheduled.saturating_sub(breaks),
            });
        }
    }
    rows
}

/// The slots left short, each with the rule that binds.
fn under_covered(
    profile: &Profile,
    cat: &Catalogue,
    coverage: &[CoverageRow],
) -> Vec<UnderCovered> {
    coverage
        .iter()
        .enumerate()
        .filter(|(_, c)| c.net < c.required)
        .map(|(n, c)| {
            let (s, g) = (n / cat.group_names.len(), n % cat.group_names.len());
            UnderCovered {
                start: c.start.clone(),
                group: c.group.clone(),
                required: c.required,
                net: c.net,
                reason: binding_rule(profile, cat, g, s),
            }
        })
        .collect()
}

/// Why group `g`'s slot `s` cannot be covered: which rules reach it and what limits them.
fn binding_rule(profile: &Profile, cat: &Catalogue, g: usize, s: usize) -> String {
    let mut reaching: Vec<usize> = cat
        .shifts
        .iter()
        .filter(|sh| sh.group == g && sh.slots(&cat.grid).any(|x| x == s))
        .map(|sh| sh.rule)
        .collect();
    reaching.dedup();
    if reaching.is_empty() {
        return "no shift rule of the group reaches this slot; widen a start window or a length"
            .to_string();
    }
    let named = |f: &dyn Fn(usize) -> bool| -> Vec<String> {
        reaching
            .iter()
            .filter(|&&r| f(r))
            .map(|&r| format!("{:?}", cat.rule_names[r]))
            .collect()
    };
    let capped = named(&|r| profile.shifts[r].max_starts_per_interval.is_some());
    if !capped.is_empty() {
        return format!(
            "the rules reaching it ({}) are held by max_starts_per_interval; raise it",
            capped.join(", ")
        );
    }
    let weekly = named(&|r| profile.shifts[r].days_per_week.is_some());
    format!(
        "the rules reaching it ({}) cannot place more shifts within days_per_week and consecutive_days_off; relax them or add a rule",
        weekly.join(", ")
    )
}

fn verification(profile: &Profile, sim: &SimulationReport, rounds: usize) -> Verification {
    let mut shortfalls = Vec::new();
    for r in sim.intervals.iter().filter(|r| !r.targets_met) {
        for s in &r.shortfalls {
            shortfalls.push(format!("{} {}: {s}", r.start, r.queue));
        }
    }
    let missed = sim.agent_intervals.iter().filter(|r| !r.targets_met);
    for r in missed.filter(|r| verify::judged(profile, r.interval)) {
        for s in &r.shortfalls {
            shortfalls.push(format!("{} {}: {s}", r.start, r.group));
        }
    }
    Verification {
        targets_met: shortfalls.is_empty(),
        rounds,
        shortfalls,
        replications: sim.replications,
        seed: sim.seed,
        service_level_targets: profile
            .queues
            .iter()
            .map(|q| (q.name.clone(), q.targets.service_level))
            .collect(),
        intervals: sim
            .intervals
            .iter()
            .filter(|r| r.figures.offered.mean > 0.0)
            .map(|r| VerifiedInterval {
                start: r.start.clone(),
                interval: r.interval,
                queue: r.queue.clone(),
                service_level: r.figures.service_level,
                abandon_rate: r.figures.abandon_rate,
                targets_met: r.targets_met,
            })
            .collect(),
    }
}
