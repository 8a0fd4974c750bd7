//! Closed-form staffing per agent group and interval, used where a profile gives no staffing and
//! as the starting point of the simulated search.
//!
//! Each queue's load after the bot (plus the load transferred into it) is split evenly among
//! the agent groups holding its skill. A group with concurrency cap K is treated as n·K servers
//! whose service time is the handle time stretched by the slowdown at full concurrency, f(K):
//! Erlang A (Erlang C without patience) on those slots gives the slots needed, and
//! agents = ceil(slots / K). Full concurrency is the pessimistic case, so the estimate errs
//! on the side of enough agents.

use crate::erlang::{self, ErlangError, Load, Targets};
use crate::profile::Profile;
use crate::sim::Staffing;

/// The closed-form staffing of every agent group in every interval.
pub fn analytic_staffing(profile: &Profile) -> Result<Staffing, ErlangError> {
    let nq = profile.queues.len();
    // Groups that can serve each queue.
    let servers: Vec<Vec<usize>> = profile
        .queues
        .iter()
        .map(|q| {
            profile
                .agents
                .iter()
                .enumerate()
                .filter(|(_, g)| g.skills.iter().any(|s| s.skill == q.skill))
                .map(|(i, _)| i)
                .collect()
        })
        .collect();
    let mut groups = vec![Vec::with_capacity(profile.intervals); profile.agents.len()];
    for i in 0..profile.intervals {
        // Arrivals per second entering each queue, transfers included.
        let mut rate = vec![0.0; nq];
        for (q, queue) in profile.queues.iter().enumerate() {
            let bot = queue.bot.as_ref().map_or(0.0, |b| b.resolve_share);
            let entering =
                queue.volume.get(i).copied().unwrap_or(0.0) * (1.0 - bot) / profile.interval_secs;
            rate[q] += entering;
            if let Some(t) = &queue.transfer {
                rate[t.to] += entering * t.share;
            }
        }
        for (g, group) in profile.agents.iter().enumerate() {
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
                let t = &queue.targets;
                targets = Some(match targets {
                    None => Targets {
                        service_level: t.service_level,
                        threshold_secs: t.threshold_secs,
                        max_abandon: t.max_abandon,
                        max_occupancy: t.max_occupancy,
                        max_asa_secs: t.max_asa_secs,
                    },
                    Some(prev) => Targets {
                        service_level: prev.service_level.max(t.service_level),
                        threshold_secs: prev.threshold_secs.min(t.threshold_secs),
                        max_abandon: min_option(prev.max_abandon, t.max_abandon),
                        max_occupancy: min_option(prev.max_occupancy, t.max_occupancy),
                        max_asa_secs: min_option(prev.max_asa_secs, t.max_asa_secs),
                    },
                });
            }
            let agents = match targets {
                Some(mut targets) if lambda > 0.0 => {
                    let cap = group.concurrency.max(1);
                    let stretch = group.slowdown.factor(cap);
                    // Rate-weighted mean patience of the queues served, if they all have one.
                    let all_patient = profile
                        .queues
                        .iter()
                        .enumerate()
                        .all(|(q, queue)| !servers[q].contains(&g) || queue.patience.is_some());
                    let patience =
                        (all_patient && patience_rate > 0.0).then(|| lambda / patience_rate);
                    if patience.is_none() {
                        targets.max_abandon = None;
                    }
                    let load = Load {
                        arrival_rate_per_sec: lambda,
                        aht_secs: work / lambda * stretch,
                        patience_secs: patience,
                    };
                    let slots = erlang::required_agents(&load, &targets)?;
                    slots.div_ceil(cap)
                }
                _ => 0,
            };
            groups[g].push(agents);
        }
    }
    Ok(Staffing { groups })
}

fn min_option(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}
