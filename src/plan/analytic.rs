//! Closed-form staffing per agent group and interval, used where a profile gives no staffing and
//! as the starting point of the simulated search.
//!
//! Each queue's load after the bot (plus the load transferred into it) is split evenly among
//! the agent groups holding its skill. Each group is then sized with the balanced-pool model
//! ([`super::pool`]): the fewest agents whose predicted service level, abandon rate and
//! occupancy meet the strictest targets of the queues it serves.

use crate::erlang::ErlangError;
use crate::metrics::{Figure, Targets};

use super::pool::PoolLoad;
use crate::profile::Profile;
use crate::scenario::{AgentGroup, Scenario, Staffing};

/// The closed-form staffing of every agent group in every interval, within each group's
/// `min_on_duty` and `max_on_duty`.
pub fn analytic_staffing(profile: &Profile) -> Result<Staffing, ErlangError> {
    // The groups' caps and slowdown tables, as every driver reads them.
    let compiled = Scenario::new(
        profile,
        &Staffing::constant(profile.agents.len(), profile.intervals, 0),
    )
    .map_err(|e| ErlangError::Invalid {
        field: "profile",
        message: e.to_string(),
    })?;
    // Groups that can serve each queue.
    let servers = profile.serving_groups();
    let mut groups = vec![Vec::with_capacity(profile.intervals); profile.agents.len()];
    for i in 0..profile.intervals {
        let rate = entering_rates(profile, i);
        for (g, group) in compiled.groups.iter().enumerate() {
            let agents = match group_load(profile, i, g, group, &servers, &rate) {
                Some((load, targets)) => {
                    check_group_load(profile, i, g, &load)?;
                    required_pool_agents(&load, &targets)?
                }
                None => 0,
            };
            let (least, most) = profile.agents[g].on_duty_bounds(profile.is_open(i));
            groups[g].push(agents.clamp(least, most));
        }
    }
    Ok(Staffing { groups })
}

/// Arrivals per second entering each queue in interval `i`: after the bot, transfers in
/// included.
fn entering_rates(profile: &Profile, i: usize) -> Vec<f64> {
    let mut rate = vec![0.0; profile.queues.len()];
    for (q, queue) in profile.queues.iter().enumerate() {
        let bot = queue.bot.as_ref().map_or(0.0, |b| b.resolve_share);
        let entering =
            queue.volume.get(i).copied().unwrap_or(0.0) * (1.0 - bot) / profile.interval_secs;
        rate[q] += entering;
        if let Some(t) = &queue.transfer {
            rate[t.to] += entering * t.share;
        }
    }
    rate
}

/// Group `g`'s even share of the load of the queues it serves in interval `i`, and the
/// strictest of their targets; `None` when it serves no queue with arrivals.
fn group_load(
    profile: &Profile,
    i: usize,
    g: usize,
    group: &AgentGroup,
    servers: &[Vec<usize>],
    rate: &[f64],
) -> Option<(PoolLoad, Targets)> {
    let (mut lambda, mut work, mut patience_rate) = (0.0, 0.0, 0.0);
    let mut targets: Option<Targets> = None;
    for (q, queue) in profile.queues.iter().enumerate() {
        if !servers[q].contains(&g) {
            continue;
        }
        let share = rate[q] / servers[q].len() as f64;
        let aht = queue
            .aht_by_interval
            .get(i)
            .copied()
            .unwrap_or(queue.handle_time.mean_secs);
        lambda += share;
        work += share * aht;
        patience_rate += queue.patience.as_ref().map_or(0.0, |p| share / p.mean_secs);
        targets = Some(targets.map_or(queue.targets, |prev| prev.strictest(queue.targets)));
    }
    let targets = targets.filter(|_| lambda > 0.0)?;
    // Rate-weighted mean patience of the queues served, if they all have one.
    let all_patient = profile
        .queues
        .iter()
        .enumerate()
        .all(|(q, queue)| !servers[q].contains(&g) || queue.patience.is_some());
    let load = PoolLoad {
        arrival_rate: lambda,
        aht_secs: work / lambda,
        patience_secs: (all_patient && patience_rate > 0.0).then(|| lambda / patience_rate),
        cap: group.cap.max(1),
        slowdown: group.slowdown.clone(),
    };
    Some((load, targets))
}

/// Refuses a load that even fully busy agents at their cap could only carry with more agents
/// than a group may have: that is a volume (or handle time) problem, not a target one.
fn check_group_load(
    profile: &Profile,
    interval: usize,
    group: usize,
    load: &PoolLoad,
) -> Result<(), ErlangError> {
    let cap = load.cap.max(1);
    let stretch = load.slowdown.get(cap as usize).copied().unwrap_or(1.0);
    let busy_agents = load.arrival_rate * load.aht_secs * stretch / f64::from(cap);
    if busy_agents < f64::from(AGENT_LIMIT) {
        return Ok(());
    }
    let servers = profile.serving_groups();
    let queues: Vec<&str> = profile
        .queues
        .iter()
        .enumerate()
        .filter(|(q, _)| servers[*q].contains(&group))
        .map(|(_, queue)| queue.name.as_str())
        .collect();
    Err(ErlangError::Invalid {
        field: "volume",
        message: format!(
            "at {} the queues agent group {:?} serves ({}) bring {:.0} chats per hour, which keep \
             {busy_agents:.0} agents busy at concurrency {cap}, more than the {AGENT_LIMIT} agents \
             a group may have; volume is chats per interval: check its unit (and the handle \
             time), or split the load over more groups",
            profile.interval_label(interval),
            profile.agents[group].name,
            queues.join(", "),
            load.arrival_rate * 3600.0
        ),
    })
}

/// Agents beyond which a target is called unreachable.
const AGENT_LIMIT: u32 = 100_000;

/// True when `n` agents meet every target under the pool model.
pub(crate) fn pool_meets(load: &PoolLoad, n: u32, targets: &Targets) -> bool {
    let m = load.evaluate(n, targets.threshold_secs);
    m.stable
        && targets.meets(|figure| match figure {
            Figure::ServiceLevel => m.service_level,
            Figure::AbandonRate => m.prob_abandon,
            Figure::Asa => m.mean_wait_secs,
            Figure::Occupancy => m.occupancy,
        })
}

/// The fewest agents meeting every target under the pool model (figures improve with every
/// agent added, so an exponential search then bisection finds the boundary).
pub(crate) fn required_pool_agents(load: &PoolLoad, targets: &Targets) -> Result<u32, ErlangError> {
    let cap = f64::from(load.cap.max(1));
    let stretch = load.slowdown.get(load.cap as usize).copied().unwrap_or(1.0);
    // No fewer than the agents the work needs at full concurrency (when nobody abandons).
    let floor = if load.patience_secs.is_none() {
        (load.arrival_rate * load.aht_secs * stretch / cap).floor() as u32
    } else {
        0
    };
    let mut low = floor.max(1);
    if pool_meets(load, low, targets) {
        return Ok(low);
    }
    let mut high = low * 2;
    while !pool_meets(load, high, targets) {
        low = high;
        high *= 2;
        if high > AGENT_LIMIT {
            return Err(ErlangError::Invalid {
                field: "targets",
                message: format!(
                    "no staffing up to {AGENT_LIMIT} agents meets the targets for a load of \
                     {:.1} chats per hour; relax the targets",
                    load.arrival_rate * 3600.0
                ),
            });
        }
    }
    // low fails, high meets.
    while high - low > 1 {
        let mid = low + (high - low) / 2;
        if pool_meets(load, mid, targets) {
            high = mid;
        } else {
            low = mid;
        }
    }
    Ok(high)
}
