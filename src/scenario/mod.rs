//! A profile and a staffing compiled once into what every driver runs: samplers instead of
//! specs, integer times, router settings, slowdown factors per concurrency level. The
//! simulator, the planner, the server and the load test all take a [`Scenario`], so none of
//! them reads profile spellings or rebuilds these tables itself.
//!
//! - [`QueueModel`] (`queue.rs`): one queue's samplers, routing setup and targets;
//! - [`AgentGroup`] (`group.rs`): one group's skills, cap, slowdown table and staffing;
//! - [`Staffing`] (`staffing.rs`): agents on duty per group and interval;
//! - [`to_time`], [`to_secs`] (`time.rs`): profile seconds to integer microseconds and back.

mod group;
mod queue;
mod staffing;
mod time;

pub use group::AgentGroup;
pub use queue::QueueModel;
pub use staffing::Staffing;
pub use time::{to_secs, to_time};

use crate::model::ModelError;
use crate::profile::Profile;
use crate::routing::{QueueConfig, RouterConfig, SECOND, Time};

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
    pub groups: Vec<AgentGroup>,
    /// Routing policies.
    pub router: RouterConfig,
    /// How long an agent stays away after missing offers.
    pub away_return: Time,
    /// Base seed.
    pub seed: u64,
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
        let queues = profile
            .queues
            .iter()
            .map(|q| QueueModel::compile(q, profile.interval_secs))
            .collect::<Result<Vec<_>, _>>()?;
        let groups = profile
            .agents
            .iter()
            .zip(&staffing.groups)
            .map(|(g, staff)| AgentGroup::compile(g, staff, profile.intervals))
            .collect::<Result<Vec<_>, _>>()?;
        if let Some(q) = queues
            .iter()
            .find(|q| !groups.iter().any(|g| g.serves(&q.skill)))
        {
            return Err(ScenarioError::Staffing(format!(
                "queue {:?}: no agent group has skill {:?}; add it to an [[agents]] skills list",
                q.name, q.skill
            )));
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

    /// The routing core's setup of every queue, in profile order.
    pub fn queue_configs(&self) -> Vec<QueueConfig> {
        self.queues.iter().map(QueueModel::config).collect()
    }

    /// Per queue, the indices of the agent groups holding its skill.
    pub fn serving_groups(&self) -> Vec<Vec<usize>> {
        self.queues
            .iter()
            .map(|q| {
                (0..self.groups.len())
                    .filter(|&g| self.groups[g].serves(&q.skill))
                    .collect()
            })
            .collect()
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
