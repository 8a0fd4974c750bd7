//! Who is on duty during a load test: `--agents` parsed, the staffing of each group over the
//! window (the flag's, the profile's, or the closed-form estimate), and one agent user per
//! agent at the group's peak, each with an id the API accepts and no two alike.

use crate::erlang::ErlangError;
use crate::plan::analytic_staffing;
use crate::profile::Profile;
use crate::scenario::Staffing;

use super::LoadTestError;

/// How many agents are on duty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AgentsChoice {
    /// The profile's staffing, or the closed-form estimate when it has none.
    Profile,
    /// The same number in every agent group, all window long.
    Each(u32),
    /// Per group by name, all window long; groups not named get none.
    ByGroup(Vec<(String, u32)>),
}

impl AgentsChoice {
    /// Parses `--agents`: `N` (every group) or `group=N,group=N`.
    pub fn parse(text: &str) -> Result<AgentsChoice, String> {
        let text = text.trim();
        if let Ok(n) = text.parse::<u32>() {
            return Ok(AgentsChoice::Each(n));
        }
        let mut groups = Vec::new();
        for part in text.split(',') {
            let (name, n) = part.split_once('=').ok_or_else(|| {
                format!(
                    "{text:?} is neither a number nor a list of group=count; write e.g. 20 or \
                     tier1=20,billing-desk=5"
                )
            })?;
            let n = n.trim().parse::<u32>().map_err(|_| {
                format!("{:?} in {text:?} is not a whole number of agents", n.trim())
            })?;
            groups.push((name.trim().to_string(), n));
        }
        Ok(AgentsChoice::ByGroup(groups))
    }
}

/// One agent user: its group and its number within the group (from 0).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentSlot {
    /// Agent group index in the profile.
    pub group: usize,
    /// Number within the group; on duty in interval `i` when `k < staffing[group][i]`.
    pub k: u32,
    /// The id it logs in with.
    pub id: String,
}

/// The agent-id stem of each group: its name with characters the API does not allow made `-`,
/// cut to 48 characters. Stems that would coincide (`tier 1` and `tier-1`) get the group's
/// number appended, so that every agent id is unique.
fn agent_stems(groups: &[&str]) -> Vec<String> {
    let clean: Vec<String> = groups
        .iter()
        .map(|name| {
            name.chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() || "-_.@:".contains(c) {
                        c
                    } else {
                        '-'
                    }
                })
                .take(48)
                .collect()
        })
        .collect();
    clean
        .iter()
        .enumerate()
        .map(|(g, stem)| {
            if clean.iter().filter(|other| *other == stem).count() > 1 {
                format!("{stem}-g{}", g + 1)
            } else {
                stem.clone()
            }
        })
        .collect()
}

/// One agent user per agent at each group's peak staffing, with ids `stem-N`.
pub(crate) fn agent_slots(
    profile: &Profile,
    staffing: &Staffing,
) -> Result<Vec<AgentSlot>, LoadTestError> {
    let names: Vec<&str> = profile.agents.iter().map(|g| g.name.as_str()).collect();
    let stems = agent_stems(&names);
    // Ids are `stem-N`, so two agents share an id only if their groups share a stem (a
    // renamed stem can still meet another group's name).
    let mut sorted: Vec<&str> = stems.iter().map(String::as_str).collect();
    sorted.sort_unstable();
    if let Some(pair) = sorted.windows(2).find(|w| w[0] == w[1]) {
        return Err(LoadTestError::invalid(
            "agents",
            format!(
                "two agent groups would both log in as {:?}-N; give the agent groups names \
                 that differ in letters or digits",
                pair[0]
            ),
        ));
    }
    let mut agents = Vec::new();
    for (g, stem) in stems.iter().enumerate() {
        let peak = staffing.groups[g].iter().copied().max().unwrap_or(0);
        agents.extend((0..peak).map(|k| AgentSlot {
            group: g,
            k,
            id: format!("{stem}-{}", k + 1),
        }));
    }
    if agents.is_empty() {
        return Err(LoadTestError::invalid(
            "--agents",
            "no agent is on duty in the window; give --agents N (agents per group) or \
             group=N,...",
        ));
    }
    Ok(agents)
}

/// Staffing of the window, one value per group and window interval.
pub(crate) fn window_staffing(
    profile: &Profile,
    choice: &AgentsChoice,
    start: usize,
    intervals: usize,
) -> Result<Staffing, LoadTestError> {
    let range = start..start + intervals;
    let groups = match choice {
        AgentsChoice::Each(n) => vec![vec![*n; intervals]; profile.agents.len()],
        AgentsChoice::ByGroup(list) => {
            let mut groups = vec![vec![0; intervals]; profile.agents.len()];
            for (name, n) in list {
                let g = profile
                    .agents
                    .iter()
                    .position(|a| &a.name == name)
                    .ok_or_else(|| {
                        let names: Vec<&str> =
                            profile.agents.iter().map(|a| a.name.as_str()).collect();
                        LoadTestError::invalid(
                            "--agents",
                            format!(
                                "profile {:?} has no agent group {name:?}; its groups are {}",
                                profile.name,
                                names.join(", ")
                            ),
                        )
                    })?;
                groups[g] = vec![*n; intervals];
            }
            groups
        }
        AgentsChoice::Profile => {
            let full = match Staffing::from_profile(profile) {
                Some(s) => s,
                None => analytic_staffing(profile).map_err(|e: ErlangError| {
                    LoadTestError::invalid(
                        "--agents",
                        format!(
                            "the profile lists no staffing and the closed-form estimate failed \
                             ({e}); give --agents N"
                        ),
                    )
                })?,
            };
            full.groups
                .iter()
                .map(|g| g[range.clone()].to_vec())
                .collect()
        }
    };
    Ok(Staffing { groups })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agent_stems_are_clean_and_distinct() {
        assert_eq!(
            agent_stems(&["sales", "tier 1", "tier-1", "vip@x"]),
            ["sales", "tier-1-g2", "tier-1-g3", "vip@x"]
        );
        let long = "x".repeat(60);
        assert_eq!(agent_stems(&[&long]), ["x".repeat(48)]);
    }

    #[test]
    fn agents_flag_forms() {
        assert_eq!(AgentsChoice::parse("12"), Ok(AgentsChoice::Each(12)));
        assert_eq!(
            AgentsChoice::parse("tier1=3, billing-desk=2"),
            Ok(AgentsChoice::ByGroup(vec![
                ("tier1".into(), 3),
                ("billing-desk".into(), 2)
            ]))
        );
        assert!(AgentsChoice::parse("tier1").is_err());
        assert!(AgentsChoice::parse("tier1=x").is_err());
    }
}
