//! A profile and a staffing compiled once into what every driver runs: samplers instead of
//! specs, integer times, router settings, slowdown factors per concurrency level. The
//! simulator, the planner, the server and the load test all take a [`Scenario`], so none of
//! them reads profile spellings or rebuilds these tables itself.

use crate::model::{ArrivalProcess, DurationModel, ModelError, saturating_u64};
use crate::profile::{CsatSpec, Profile, Targets};
use crate::routing::{RouterConfig, SECOND, Time};

/// A profile and staffing that cannot be compiled into a scenario.
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    /// A distribution cannot be sampled.
    #[error(transparent)]
    Model(#[from] ModelError),
    /// Staffing does not fit the profile.
    #[error("staffing: {0}")]
    Staffing(String),
}

/// Agents on duty per agent group and interval: `groups[g][i]`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Staffing {
    /// One list per agent group of the profile, one number per interval.
    pub groups: Vec<Vec<u32>>,
}

impl Staffing {
    /// The staffing written in the profile, if every agent group has one.
    pub fn from_profile(profile: &Profile) -> Option<Staffing> {
        let groups: Option<Vec<Vec<u32>>> =
            profile.agents.iter().map(|g| g.staffing.clone()).collect();
        groups.map(|groups| Staffing { groups })
    }

    /// The same number of agents in every interval.
    pub fn constant(groups: usize, intervals: usize, agents: u32) -> Staffing {
        Staffing {
            groups: vec![vec![agents; intervals]; groups],
        }
    }
}

/// One queue's stochastic model.
#[derive(Debug, Clone)]
pub struct QueueModel {
    /// Queue name.
    pub name: String,
    /// Skill an agent needs.
    pub skill: String,
    /// Routing priority.
    pub priority: i32,
    /// Longest queue before chats are rejected.
    pub max_queue: u32,
    /// Expected arrivals per interval.
    pub arrivals: ArrivalProcess,
    /// Forecast uncertainty (gamma mixing of the rate), 0 = Poisson.
    pub volume_cv: f64,
    /// Work content of a chat at concurrency 1, seconds.
    pub handle: DurationModel,
    /// Mean handle time per interval (scales `handle`).
    pub aht_by_interval: Vec<f64>,
    /// Time a customer waits before leaving.
    pub patience: Option<DurationModel>,
    /// Time an agent takes to accept an offer.
    pub accept_delay: Option<DurationModel>,
    /// Time from answer to the agent's first message.
    pub first_response: Option<DurationModel>,
    /// Bot stage: resolve share and bot time.
    pub bot: Option<(f64, DurationModel)>,
    /// Transfer: share of answered chats and target queue index.
    pub transfer: Option<(f64, usize)>,
    /// Service-level threshold, seconds.
    pub threshold_secs: f64,
    /// Abandons at or below this wait are short, seconds.
    pub short_abandon_secs: f64,
    /// Survey model.
    pub csat: Option<CsatSpec>,
    /// The profile's targets for this queue, which reports judge.
    pub targets: Targets,
}

/// One agent group's model.
#[derive(Debug, Clone)]
pub struct GroupModel {
    /// Group name.
    pub name: String,
    /// Skills with proficiency.
    pub skills: Vec<(String, u8)>,
    /// Concurrency cap per agent.
    pub cap: u32,
    /// `slowdown[n]`: time stretch of each chat while the agent holds n chats (index 0 is
    /// never applied: no chat runs then).
    pub slowdown: Vec<f64>,
    /// True when every factor is 1: completions never need rescheduling.
    pub flat_slowdown: bool,
    /// Agents on duty per interval.
    pub staffing: Vec<u32>,
    /// Agents created for the group: at least the peak of `staffing`; more lets a planner raise
    /// the staffing of a running engine.
    pub pool: u32,
}

/// Everything one replication needs.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// Profile name.
    pub name: String,
    /// Interval length in microseconds.
    pub interval: Time,
    /// Interval length in seconds.
    pub interval_secs: f64,
    /// Clock time of the first interval, seconds after midnight.
    pub start_secs: f64,
    /// Number of planning intervals.
    pub intervals: usize,
    /// Statistics start here.
    pub warmup: Time,
    /// Queue models, in profile order.
    pub queues: Vec<QueueModel>,
    /// Agent groups, in profile order.
    pub groups: Vec<GroupModel>,
    /// Routing policies.
    pub router: RouterConfig,
    /// How long an agent stays away after missing offers.
    pub away_return: Time,
    /// Base seed.
    pub seed: u64,
}

/// Seconds to simulator time, rounded to the microsecond.
#[inline(always)]
pub fn to_time(secs: f64) -> Time {
    // Durations are never negative; the conversion saturates NaN and negatives to 0.
    saturating_u64(secs * SECOND as f64 + 0.5)
}

/// Simulator time to seconds.
#[inline]
pub fn to_secs(t: Time) -> f64 {
    // Below 2^63 the cheaper signed conversion is exact alike. A quotient, not a product by
    // 1e-6: the product is not correctly rounded, and a wait of exactly the threshold (20 s)
    // would come out a hair above it.
    let t = if t < 1 << 63 {
        t as i64 as f64
    } else {
        t as f64
    };
    t / SECOND as f64
}

impl Scenario {
    /// Compiles `profile` with `staffing`; errors name the agent group or queue at fault.
    pub fn new(profile: &Profile, staffing: &Staffing) -> Result<Scenario, ScenarioError> {
        if staffing.groups.len() != profile.agents.len() {
            return Err(ScenarioError::Staffing(format!(
                "staffing has {} groups but the profile has {} agent groups",
                staffing.groups.len(),
                profile.agents.len()
            )));
        }
        let mut queues = Vec::with_capacity(profile.queues.len());
        for q in &profile.queues {
            let what = |field: &str| format!("queues {:?} {field}", q.name);
            let handle = DurationModel::new(&q.handle_time, &what("handle_time"))?;
            let optional = |d: &Option<crate::profile::Dist>, field: &str| {
                d.as_ref()
                    .map(|d| DurationModel::new(d, &what(field)))
                    .transpose()
            };
            let bot = match &q.bot {
                Some(b) => Some((
                    b.resolve_share,
                    DurationModel::new(&b.time, &what("bot.time"))?,
                )),
                None => None,
            };
            queues.push(QueueModel {
                name: q.name.clone(),
                skill: q.skill.clone(),
                priority: q.priority,
                max_queue: q.max_queue,
                arrivals: ArrivalProcess::new(&q.volume, profile.interval_secs),
                volume_cv: q.volume_cv,
                handle,
                aht_by_interval: q.aht_by_interval.clone(),
                patience: optional(&q.patience, "patience")?,
                accept_delay: optional(&q.accept_delay, "accept_delay")?,
                first_response: optional(&q.first_response, "first_response")?,
                bot,
                transfer: q.transfer.as_ref().map(|t| (t.share, t.to)),
                threshold_secs: q.targets.threshold_secs,
                short_abandon_secs: q.targets.short_abandon_secs,
                csat: q.csat,
                targets: q.targets,
            });
        }
        let mut groups = Vec::with_capacity(profile.agents.len());
        for (g, staff) in profile.agents.iter().zip(&staffing.groups) {
            if staff.len() != profile.intervals {
                return Err(ScenarioError::Staffing(format!(
                    "agent group {:?}: staffing has {} values for {} intervals",
                    g.name,
                    staff.len(),
                    profile.intervals
                )));
            }
            let slowdown = g.slowdown.table(g.concurrency);
            if let Some(bad) = slowdown.iter().find(|f| !(f.is_finite() && **f > 0.0)) {
                return Err(ScenarioError::Staffing(format!(
                    "agent group {:?}: slowdown factor {bad} must be positive",
                    g.name
                )));
            }
            groups.push(GroupModel {
                name: g.name.clone(),
                skills: g
                    .skills
                    .iter()
                    .map(|s| (s.skill.clone(), s.proficiency))
                    .collect(),
                cap: g.concurrency,
                flat_slowdown: slowdown.iter().all(|f| *f == 1.0),
                slowdown,
                pool: staff.iter().copied().max().unwrap_or(0),
                staffing: staff.clone(),
            });
        }
        for q in &queues {
            if !groups
                .iter()
                .any(|g| g.skills.iter().any(|(s, _)| *s == q.skill))
            {
                return Err(ScenarioError::Staffing(format!(
                    "queue {:?}: no agent group has skill {:?}; add it to an [[agents]] skills list",
                    q.name, q.skill
                )));
            }
        }
        Ok(Scenario {
            name: profile.name.clone(),
            interval: to_time(profile.interval_secs),
            interval_secs: profile.interval_secs,
            start_secs: profile.start_secs,
            intervals: profile.intervals,
            warmup: to_time(profile.simulation.warmup_secs),
            queues,
            groups,
            router: RouterConfig {
                selection: profile.routing.agent_selection,
                order: profile.routing.order,
                accept: profile.routing.accept,
                transfer_place: profile.routing.transfer_place,
            },
            away_return: 60 * SECOND,
            seed: profile.simulation.seed,
        })
    }

    /// Clock label of interval `i`, e.g. `"08:30"` (wraps past midnight).
    pub fn interval_label(&self, i: usize) -> String {
        let secs = (self.start_secs + i as f64 * self.interval_secs).rem_euclid(86_400.0) as u64;
        format!("{:02}:{:02}", secs / 3600, (secs % 3600) / 60)
    }

    /// End of the last interval.
    pub fn horizon(&self) -> Time {
        self.interval * self.intervals as Time
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whole milliseconds convert to exactly the seconds written in a profile, so a wait of
    /// exactly the threshold counts as within it.
    #[test]
    fn times_convert_to_exact_seconds() {
        for ms in 0..200_000u64 {
            let secs = ms as f64 / 1000.0;
            assert_eq!(to_secs(ms * 1000), secs, "{ms} ms");
            assert_eq!(to_time(secs), ms * 1000, "{ms} ms");
        }
    }
}
