//! What a load test plays, worked out before any request is sent: the slice of the profile's
//! day it covers (the window), the staffing per interval of that window, the Poisson arrival
//! schedule on an absolute clock, the number of customer users that can keep it, and the
//! simulator's forecast for exactly the same window, staffing and arrival rates.
//!
//! The window starts at an interval start and lasts `duration x time_scale` profile seconds.
//! Its last interval may be cut short, so the arrival rate is laid on a grid fine enough to end
//! exactly at the window's end (the greatest common divisor of the interval and the window, in
//! milliseconds); the load test and the forecast use the very same rate function.

use crate::model::{ArrivalProcess, stream};
use crate::profile::duration::format_duration;
use crate::profile::{Profile, StartAt};
use crate::scenario::{Scenario, Staffing};
use crate::sim::{self, SimError, SimulationReport};

use super::LoadTestError;
use super::shard::Shard;
use super::staffing::{AgentSlot, AgentsChoice, agent_slots, window_staffing};

/// Random stream keys of the load test (the simulator uses replications from 0 upward).
pub(crate) const SCHEDULE_STREAM: u32 = 0x5C4E_D01E;
/// Per-customer attributes (bot outcome, bot time, patience): stream id = arrival index.
pub(crate) const CUSTOMER_STREAM: u32 = 0xC057_0E55;
/// Per-agent randomness (accept delays, handle times): stream id = agent number.
pub(crate) const AGENT_STREAM: u32 = 0xA6E7_0000;

/// Longest window grid, cells per queue (8 bytes each).
const MAX_GRID_CELLS: u64 = 5_000_000;

/// Most goose users (agents plus customers) one process runs.
pub(super) const MAX_USERS: usize = 50_000;

/// The load test's slice of the profile's day.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Window {
    /// Start of the window: its clock time `"08:00"`, or RFC 3339 on a dated horizon.
    pub start: String,
    /// Index of the profile interval it starts in.
    pub start_interval: usize,
    /// Profile intervals it touches.
    pub intervals: usize,
    /// Length in profile seconds.
    pub profile_secs: f64,
    /// Length in wall seconds (the arrival phase of the test).
    pub wall_secs: f64,
    /// Profile seconds per wall second.
    pub time_scale: f64,
    /// Grid of the arrival rate function, profile seconds.
    pub grid_secs: f64,
}

/// One scheduled customer arrival.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Arrival {
    /// Profile seconds after the window start.
    pub at: f64,
    /// Queue index in the profile.
    pub queue: u16,
}

/// Everything a load test needs before it starts.
#[derive(Debug, Clone)]
pub struct LoadPlan {
    /// The profile as given.
    pub profile: Profile,
    /// The window of the day played.
    pub window: Window,
    /// The profile cut to the window (its intervals, staffing, no forecast noise or warm-up)
    /// and compiled, with the window's arrival rates: what the users and the forecast play.
    pub scenario: Scenario,
    /// Arrival rate per queue over the window (profile seconds from the window start).
    pub arrivals: Vec<ArrivalProcess>,
    /// Agents on duty per group and window interval.
    pub staffing: Staffing,
    /// Where the staffing came from, for the report.
    pub staffing_source: &'static str,
    /// The arrival schedule, all queues merged, in time order.
    pub schedule: Vec<Arrival>,
    /// Every agent of the run (all shards).
    pub agents: Vec<AgentSlot>,
    /// The part of the load this process plays.
    pub shard: Shard,
    /// Indices into `schedule` this process plays, in time order.
    pub shard_arrivals: Vec<usize>,
    /// Indices into `agents` this process plays.
    pub shard_agents: Vec<usize>,
    /// This process's customer users: enough to keep its share of the schedule (Little's law
    /// with a margin).
    pub customers: usize,
    /// Seed of the schedule and the forecast.
    pub seed: u64,
}

fn gcd(a: u64, b: u64) -> u64 {
    if b == 0 { a } else { gcd(b, a % b) }
}

/// Inputs of [`LoadPlan::new`].
#[derive(Debug, Clone)]
pub struct PlanInputs {
    /// Wall seconds of arrivals.
    pub duration_secs: f64,
    /// Profile seconds per wall second.
    pub time_scale: f64,
    /// Where in the profile to start (an interval start); the first interval when `None`.
    pub start: Option<StartAt>,
    /// Agents on duty.
    pub agents: AgentsChoice,
    /// Customer users; computed when `None`.
    pub customers: Option<usize>,
    /// Seed; the profile's when `None`.
    pub seed: Option<u64>,
    /// The part of the load this process plays.
    pub shard: Shard,
}

/// The window's extent on the profile's clock and its rate grid, in whole milliseconds.
struct Grid {
    interval_ms: u64,
    grid_ms: u64,
    cells: u64,
}

impl LoadPlan {
    /// Works out the window, staffing, schedule and user counts. Errors name the flag at fault.
    pub fn new(profile: Profile, inputs: &PlanInputs) -> Result<LoadPlan, LoadTestError> {
        let (window, grid) = window_of(&profile, inputs)?;
        let arrivals = window_arrivals(&profile, &window, &grid);
        let staffing = window_staffing(
            &profile,
            &inputs.agents,
            window.start_interval,
            window.intervals,
        )?;
        let staffing_source = match (&inputs.agents, profile.has_staffing()) {
            (AgentsChoice::Profile, true) => "profile",
            (AgentsChoice::Profile, false) => "closed-form estimate",
            _ => "--agents",
        };
        let agents = agent_slots(&profile, &staffing)?;
        let seed = inputs.seed.unwrap_or(profile.simulation.seed);
        let scenario = window_scenario(&profile, &window, &staffing, &arrivals, seed)?;
        let schedule = arrival_schedule(&arrivals, seed);
        let shard = inputs.shard;
        let customers = match inputs.customers {
            Some(0) => {
                return Err(LoadTestError::invalid(
                    "--customers",
                    "0; give at least 1, or omit it to size the customers from the load",
                ));
            }
            Some(n) => shard.share(n),
            None => shard.share(customer_users(
                &profile,
                &scenario,
                window.start_interval..window.start_interval + window.intervals,
                window.time_scale,
            )),
        };
        let shard_arrivals = shard.members(schedule.len());
        let shard_agents = shard.members(agents.len());
        if shard_agents.len() + customers > MAX_USERS {
            let flag = if inputs.customers.is_some() {
                "--agents/--customers"
            } else {
                "--agents"
            };
            return Err(LoadTestError::invalid(
                flag,
                format!(
                    "{} agents and {customers} customers make more than {MAX_USERS} users for \
                     one process; lower the time scale, the staffing or --customers, or split \
                     the load with --shard",
                    shard_agents.len()
                ),
            ));
        }
        Ok(LoadPlan {
            profile,
            window,
            scenario,
            arrivals,
            staffing,
            staffing_source,
            schedule,
            agents,
            shard,
            shard_arrivals,
            shard_agents,
            customers,
            seed,
        })
    }

    /// The window interval (0-based) that profile time `t` (seconds from the start) falls in.
    pub fn interval_at(&self, t: f64) -> usize {
        ((t.max(0.0) / self.profile.interval_secs) as usize).min(self.window.intervals - 1)
    }

    /// Whether agent `slot` is on duty at profile time `t`.
    pub fn on_duty(&self, slot: &AgentSlot, t: f64) -> bool {
        let i = self.interval_at(t);
        slot.k < self.staffing.groups[slot.group][i]
    }

    /// Runs the simulator on the window: same profile slice, staffing and arrival rates.
    pub fn forecast(&self, replications: u32) -> Result<SimulationReport, SimError> {
        sim::simulate(&self.scenario, replications, None, &|| {})
    }
}

/// The window `inputs` ask for: it must start at an interval start, cover at least a profile
/// second, end within the profile's day and fit a rate grid of at most [`MAX_GRID_CELLS`].
fn window_of(profile: &Profile, inputs: &PlanInputs) -> Result<(Window, Grid), LoadTestError> {
    let k = inputs.time_scale;
    let interval = profile.interval_secs;
    let start_interval = match inputs.start {
        None => 0,
        Some(at) => profile
            .interval_at(at)
            .map_err(|m| LoadTestError::invalid("--start", m))?,
    };
    let profile_ms = (inputs.duration_secs * k * 1000.0).round() as u64;
    if profile_ms < 1000 {
        return Err(LoadTestError::invalid(
            "--duration",
            "covers less than one profile second; give a longer --duration or a larger \
             --time-scale",
        ));
    }
    let profile_secs = profile_ms as f64 / 1000.0;
    let intervals = ((profile_secs / interval) - 1e-9).ceil().max(1.0) as usize;
    if start_interval + intervals > profile.intervals {
        return Err(LoadTestError::invalid(
            "--duration",
            format!(
                "{} wall seconds at time scale {k} cover {} of profile time from {}, past the \
                 end of profile {:?} at {}; shorten --duration, lower --time-scale or start \
                 earlier with --start",
                inputs.duration_secs,
                format_duration(profile_secs),
                profile.interval_label(start_interval),
                profile.name,
                profile.interval_label(profile.intervals),
            ),
        ));
    }
    let interval_ms = (interval * 1000.0).round() as u64;
    let grid_ms = gcd(interval_ms, profile_ms).max(1);
    let cells = profile_ms / grid_ms;
    if cells > MAX_GRID_CELLS {
        return Err(LoadTestError::invalid(
            "--duration",
            format!(
                "a window of {profile_ms} ms cut into {grid_ms} ms pieces needs {cells} rate \
                 cells; round --duration x --time-scale to whole seconds"
            ),
        ));
    }
    let window = Window {
        start: profile.interval_start_text(start_interval),
        start_interval,
        intervals,
        profile_secs,
        wall_secs: profile_secs / k,
        time_scale: k,
        grid_secs: grid_ms as f64 / 1000.0,
    };
    let grid = Grid {
        interval_ms,
        grid_ms,
        cells,
    };
    Ok((window, grid))
}

/// Each queue's arrival rate over the window, on the grid (profile seconds from its start).
fn window_arrivals(profile: &Profile, window: &Window, grid: &Grid) -> Vec<ArrivalProcess> {
    let interval = profile.interval_secs;
    profile
        .queues
        .iter()
        .map(|q| {
            let per_cell: Vec<f64> = (0..grid.cells)
                .map(|c| {
                    let i =
                        window.start_interval + ((c * grid.grid_ms) / grid.interval_ms) as usize;
                    q.volume.get(i).copied().unwrap_or(0.0) * window.grid_secs / interval
                })
                .collect();
            ArrivalProcess::new(&per_cell, window.grid_secs)
        })
        .collect()
}

/// The profile cut to the window (its intervals and staffing, no forecast noise or warm-up)
/// and compiled, with the window's arrival rates and the run's seed.
fn window_scenario(
    profile: &Profile,
    window: &Window,
    staffing: &Staffing,
    arrivals: &[ArrivalProcess],
    seed: u64,
) -> Result<Scenario, LoadTestError> {
    let mut derived = profile.clone();
    let range = window.start_interval..window.start_interval + window.intervals;
    derived.start_secs = profile.interval_clock_secs(window.start_interval);
    derived.calendar.start = profile
        .calendar
        .instant(window.start_interval as f64 * profile.interval_secs);
    derived.open = profile.open[range.clone()].to_vec();
    derived.intervals = window.intervals;
    derived.simulation.warmup_secs = 0.0;
    derived.simulation.seed = seed;
    for q in &mut derived.queues {
        q.volume = q.volume[range.clone()].to_vec();
        q.aht_by_interval = q.aht_by_interval[range.clone()].to_vec();
        q.volume_cv = 0.0;
    }
    for (g, group) in derived.agents.iter_mut().enumerate() {
        group.staffing = Some(staffing.groups[g].clone());
    }
    let mut scenario =
        Scenario::new(&derived, staffing).map_err(|e| LoadTestError::Profile(e.to_string()))?;
    for (model, process) in scenario.queues.iter_mut().zip(arrivals) {
        model.arrivals = process.clone();
        model.volume_cv = 0.0;
    }
    Ok(scenario)
}

/// The seeded Poisson arrivals of every queue, merged in time order.
fn arrival_schedule(arrivals: &[ArrivalProcess], seed: u64) -> Vec<Arrival> {
    let mut schedule = Vec::new();
    for (q, process) in arrivals.iter().enumerate() {
        let mut rng = stream(seed, SCHEDULE_STREAM, q as u64);
        let mut t = 0.0;
        while let Some(next) = process.next_after(t, &mut rng) {
            schedule.push(Arrival {
                at: next,
                queue: q as u16,
            });
            t = next;
        }
    }
    schedule.sort_by(|a, b| a.at.total_cmp(&b.at).then(a.queue.cmp(&b.queue)));
    schedule
}

/// customer spends on one arrival (bot time, wait up to patience, handle time at full
/// concurrency, in wall seconds), doubled, plus a few standard deviations and a floor.
fn customer_users(
    profile: &Profile,
    scenario: &Scenario,
    range: std::ops::Range<usize>,
    k: f64,
) -> usize {
    let mut busy_secs: f64 = 0.0;
    let mut peak_rate = 0.0;
    for queue in &profile.queues {
        let rate = queue.volume[range.clone()]
            .iter()
            .fold(0.0, |m: f64, v| m.max(*v))
            / profile.interval_secs;
        peak_rate += rate;
        let slowest = scenario
            .groups
            .iter()
            .filter(|g| g.serves(&queue.skill))
            .map(|g| g.factor_at_cap())
            .fold(1.0, f64::max);
        let bot = queue.bot.as_ref().map_or(0.0, |b| b.time.mean_secs);
        let wait = queue
            .patience
            .as_ref()
            .map_or(4.0 * queue.targets.threshold_secs, |p| p.mean_secs)
            .min(10.0 * queue.targets.threshold_secs.max(1.0));
        let handle = queue
            .aht_by_interval
            .iter()
            .copied()
            .fold(queue.handle_time.mean_secs, f64::max);
        busy_secs = busy_secs.max(bot + wait + handle * slowest);
    }
    let in_system = peak_rate * k * (busy_secs / k + 0.2);
    (2.0 * in_system + 4.0 * in_system.sqrt()).ceil() as usize + 10
}

#[cfg(test)]
mod tests {
    use super::*;

    fn profile() -> Profile {
        crate::profile::parse(
            r#"
name = "plan test"
interval = "30m"
start = "08:00"
intervals = 4

[[queues]]
name = "a"
volume = [60, 120, 180, 240]
handle_time = { dist = "exponential", mean = "3m" }

[[queues]]
name = "b"
volume = [30, 30, 30, 30]
handle_time = { dist = "exponential", mean = "3m" }

[[agents]]
name = "team"
skills = ["a", "b"]
concurrency = 2
staffing = [5, 6, 7, 8]
"#,
            "plan-test.toml",
            None,
        )
        .expect("valid profile")
    }

    fn inputs(duration: f64, scale: f64) -> PlanInputs {
        PlanInputs {
            duration_secs: duration,
            time_scale: scale,
            start: None,
            agents: AgentsChoice::Profile,
            customers: None,
            seed: Some(3),
            shard: Shard::WHOLE,
        }
    }

    #[test]
    fn shards_split_the_one_process_schedule_and_agents_exactly() {
        let whole = LoadPlan::new(profile(), &inputs(45.0, 60.0)).expect("plan");
        let mut arrivals = Vec::new();
        let mut agents = Vec::new();
        for index in 1..=3 {
            let mut i = inputs(45.0, 60.0);
            i.shard = Shard { index, count: 3 };
            let part = LoadPlan::new(profile(), &i).expect("plan");
            // Every shard holds the whole schedule and plays its own share of it.
            assert_eq!(part.schedule, whole.schedule);
            assert!(part.customers >= whole.customers / 3);
            arrivals.extend(part.shard_arrivals);
            agents.extend(part.shard_agents);
        }
        arrivals.sort_unstable();
        agents.sort_unstable();
        assert_eq!(arrivals, (0..whole.schedule.len()).collect::<Vec<_>>());
        assert_eq!(agents, (0..whole.agents.len()).collect::<Vec<_>>());
        assert_eq!(whole.shard_arrivals.len(), whole.schedule.len());
    }

    #[test]
    fn window_cuts_the_last_interval_exactly() {
        // 45 s at scale 60 = 45 profile minutes: one full interval and half of the next.
        let plan = LoadPlan::new(profile(), &inputs(45.0, 60.0)).expect("plan");
        assert_eq!(plan.window.intervals, 2);
        assert_eq!(plan.window.profile_secs, 2700.0);
        assert_eq!(plan.window.grid_secs, 900.0);
        assert_eq!(plan.staffing.groups, vec![vec![5, 6]]);
        assert_eq!(plan.agents.len(), 6);
        assert_eq!(plan.agents[5].id, "team-6");
        // Expected arrivals: a = 60 + 60, b = 30 + 15.
        assert!((plan.arrivals[0].horizon() - 2700.0).abs() < 1e-9);
        let expected = 165.0;
        let n = plan.schedule.len() as f64;
        assert!((n - expected).abs() < 5.0 * expected.sqrt(), "{n}");
        assert!(plan.schedule.windows(2).all(|w| w[0].at <= w[1].at));
        assert!(plan.schedule.iter().all(|a| a.at < 2700.0));
        // The same seed gives the same schedule.
        let again = LoadPlan::new(profile(), &inputs(45.0, 60.0)).expect("plan");
        assert_eq!(plan.schedule, again.schedule);
        assert!(plan.customers >= 10);
        assert!(!plan.on_duty(&plan.agents[5], 100.0));
        assert!(plan.on_duty(&plan.agents[5], 1900.0));
    }

    #[test]
    fn bad_windows_name_the_flag() {
        let err = LoadPlan::new(profile(), &inputs(300.0, 60.0)).unwrap_err();
        assert!(err.to_string().contains("--duration"), "{err}");
        assert!(err.to_string().contains("10:00"), "{err}");
        let mut i = inputs(10.0, 60.0);
        i.start = Some(StartAt::Clock(8.0 * 3600.0 + 600.0));
        let err = LoadPlan::new(profile(), &i).unwrap_err();
        assert!(err.to_string().contains("--start"), "{err}");
        assert!(err.to_string().contains("08:10"), "{err}");
        let mut i = inputs(10.0, 60.0);
        i.agents = AgentsChoice::ByGroup(vec![("nobody".into(), 3)]);
        let err = LoadPlan::new(profile(), &i).unwrap_err();
        assert!(err.to_string().contains("team"), "{err}");
        i.agents = AgentsChoice::Each(0);
        assert!(LoadPlan::new(profile(), &i).is_err());
    }

    #[test]
    fn forecast_covers_the_window() {
        let mut i = inputs(30.0, 60.0);
        i.start = Some(StartAt::Clock(8.5 * 3600.0));
        let plan = LoadPlan::new(profile(), &i).expect("plan");
        assert_eq!(plan.window.start, "08:30");
        let report = plan.forecast(8).expect("forecast");
        // 30 profile minutes of interval 1: 120 + 30 expected arrivals.
        let arrivals = report.summary.overall.arrivals.mean;
        assert!(
            (arrivals - 150.0).abs() < 4.0 * (150.0f64 / 8.0).sqrt(),
            "{arrivals}"
        );
    }
}
