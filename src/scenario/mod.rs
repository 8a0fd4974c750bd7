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

use std::sync::Arc;

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
    /// Each interval's `start` in JSON and CSV, from [`Profile::interval_start_text`].
    pub interval_starts: Arc<[String]>,
    /// Each interval's table label, from [`Profile::interval_label`].
    pub interval_labels: Arc<[String]>,
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
    /// Whether any customer can arrive in interval `i` (some queue's rate is above zero).
    pub fn has_arrivals(&self, i: usize) -> bool {
        self.queues.iter().any(|q| q.arrivals.rate(i) > 0.0)
    }

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
            interval_starts: (0..profile.intervals)
                .map(|i| profile.interval_start_text(i))
                .collect(),
            interval_labels: (0..profile.intervals)
                .map(|i| profile.interval_label(i))
                .collect(),
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

    /// Table label of interval `i`: `"08:30"`, or `"Mon 07 08:30"` on a dated horizon.
    pub fn interval_label(&self, i: usize) -> String {
        self.interval_labels.get(i).cloned().unwrap_or_default()
    }

    /// The `start` of interval `i` in JSON and CSV: `"08:30"`, or RFC 3339 with the offset on
    /// a dated horizon (`"2026-12-07T08:30:00+01:00"`).
    pub fn interval_start_text(&self, i: usize) -> String {
        self.interval_starts.get(i).cloned().unwrap_or_default()
    }

    /// End of the last interval.
    pub fn horizon(&self) -> Time {
        self.interval * self.intervals as Time
    }
}
