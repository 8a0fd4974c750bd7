//! The requirement a roster covers: `required_agents` per agent group and interval, from a plan
//! computed now or from a `chatcap plan --format json` file, checked against the profile.

use std::path::Path;

use serde::Deserialize;

use super::RosterError;
use crate::plan::PlanReport;
use crate::profile::Profile;

/// `required[group][interval]` of a plan made now.
pub fn from_report(profile: &Profile, plan: &PlanReport) -> Vec<Vec<u32>> {
    let mut required = vec![vec![0; profile.intervals]; profile.agents.len()];
    for row in &plan.intervals {
        if let Some(g) = profile.agents.iter().position(|a| a.name == row.group)
            && row.interval < profile.intervals
        {
            required[g][row.interval] = row.required_agents;
        }
    }
    required
}

#[derive(Deserialize)]
struct PlanFile {
    intervals: Vec<PlanFileRow>,
}

#[derive(Deserialize)]
struct PlanFileRow {
    interval: usize,
    group: String,
    required_agents: u32,
}

/// `required[group][interval]` from the JSON of `chatcap plan --format json` at `path`: one row
/// per interval of the profile and group, every group named in the profile.
pub fn from_plan_file(
    profile: &Profile,
    path: &Path,
    text: &str,
) -> Result<Vec<Vec<u32>>, RosterError> {
    let bad = |what: String| {
        RosterError::Input(format!(
            "plan {}: {what}; give the JSON of `chatcap plan --format json` for this profile",
            path.display()
        ))
    };
    let plan: PlanFile = serde_json::from_str(text).map_err(|e| bad(e.to_string()))?;
    let mut required = vec![vec![None; profile.intervals]; profile.agents.len()];
    for row in &plan.intervals {
        let g = profile
            .agents
            .iter()
            .position(|a| a.name == row.group)
            .ok_or_else(|| {
                bad(format!(
                    "group {:?} is not an [[agents]] group of the profile",
                    row.group
                ))
            })?;
        let cell = required[g].get_mut(row.interval).ok_or_else(|| {
            bad(format!(
                "interval {} is past the profile's {} intervals",
                row.interval, profile.intervals
            ))
        })?;
        if cell.replace(row.required_agents).is_some() {
            return Err(bad(format!(
                "interval {} of group {:?} is given twice",
                row.interval, row.group
            )));
        }
    }
    required
        .into_iter()
        .enumerate()
        .map(|(g, cells)| {
            cells
                .into_iter()
                .enumerate()
                .map(|(i, c)| {
                    c.ok_or_else(|| {
                        bad(format!(
                            "interval {i} of group {:?} is missing",
                            profile.agents[g].name
                        ))
                    })
                })
                .collect()
        })
        .collect()
}
