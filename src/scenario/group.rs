//! One agent group compiled from its profile spec: skills as the routing core takes them, the
//! concurrency cap, and the slowdown table every driver and the closed-form pool model read,
//! so that none of them turns the profile's slowdown spelling into factors itself.

use crate::profile::AgentGroupSpec;
use crate::routing::Time;

use super::ScenarioError;

/// One agent group: who its agents are and how fast they work.
#[derive(Debug, Clone)]
pub struct AgentGroup {
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
    /// Changes of the agents on duty within intervals, as (time, agents) in time order, none at
    /// an interval start: a roster's breaks. Empty unless set with [`AgentGroup::set_steps`].
    pub steps: Vec<(Time, u32)>,
}

impl AgentGroup {
    /// Compiles group `g` of a profile with its staffing of one value per interval.
    pub(crate) fn compile(
        g: &AgentGroupSpec,
        staffing: &[u32],
        intervals: usize,
    ) -> Result<AgentGroup, ScenarioError> {
        if staffing.len() != intervals {
            return Err(ScenarioError::Staffing(format!(
                "agent group {:?}: staffing has {} values for {intervals} intervals",
                g.name,
                staffing.len(),
            )));
        }
        let slowdown = g.slowdown.table(g.concurrency);
        if let Some(bad) = slowdown.iter().find(|f| !(f.is_finite() && **f > 0.0)) {
            return Err(ScenarioError::Staffing(format!(
                "agent group {:?}: slowdown factor {bad} must be positive",
                g.name
            )));
        }
        Ok(AgentGroup {
            name: g.name.clone(),
            skills: g
                .skills
                .iter()
                .map(|s| (s.skill.clone(), s.proficiency))
                .collect(),
            cap: g.concurrency,
            flat_slowdown: slowdown.iter().all(|f| *f == 1.0),
            slowdown,
            pool: staffing.iter().copied().max().unwrap_or(0),
            staffing: staffing.to_vec(),
            steps: Vec::new(),
        })
    }

    /// Sets the changes of agents on duty within intervals (see [`AgentGroup::steps`]); the
    /// pool grows to their peak.
    pub fn set_steps(&mut self, mut steps: Vec<(Time, u32)>) {
        steps.sort_by_key(|s| s.0);
        self.pool = steps.iter().map(|s| s.1).fold(self.pool, u32::max);
        self.steps = steps;
    }

    /// The time stretch of each chat while an agent holds `held` chats (none counts as one; more
    /// than the cap as the cap).
    pub fn slowdown_at(&self, held: u32) -> f64 {
        let n = (held.max(1) as usize).min(self.slowdown.len().saturating_sub(1));
        self.slowdown.get(n).copied().unwrap_or(1.0)
    }

    /// The time stretch of each chat while an agent holds as many as the cap allows.
    pub fn factor_at_cap(&self) -> f64 {
        self.slowdown_at(self.cap)
    }

    /// Whether the group's agents hold `skill`.
    pub fn serves(&self, skill: &str) -> bool {
        self.skills.iter().any(|(s, _)| s == skill)
    }
}
