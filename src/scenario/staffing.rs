//! Agents on duty per group and interval: what the planner searches for and every driver runs.

use crate::profile::Profile;

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
