//! Named agents for the roster's lines (`--agents agents.csv`): each line goes to an agent of
//! its group who is available on every one of its days, at the hours it works, and whose
//! contracted weekly hours hold its paid hours; the tightest such agent first, lines with the
//! most hours first. Lines no agent fits stay unnamed and are listed, as are agents left idle.
//!
//! The file has a header and one row per agent: `agent_id,group,contracted_hours,available`;
//! `available` is weekday windows separated by `;` (`"Mon-Fri 08:00-18:00; Sat 09:00-13:00"`,
//! a window may run past midnight: `"Fri 22:00-06:00"`), empty for any time.

use std::path::Path;

use jiff::civil::{Date, Weekday};
use serde::{Deserialize, Serialize};

use super::RosterError;
use super::report::{Line, hours_after_midnight};
use crate::profile::{Profile, parse_clock};

/// One agent of the list.
#[derive(Debug, Clone, PartialEq)]
pub struct Agent {
    /// Unique id.
    pub id: String,
    /// Agent group index.
    pub group: usize,
    /// Contracted paid hours per week.
    pub contracted_hours: f64,
    /// Windows of availability: (weekday, from, to) in hours after midnight (`to` may pass
    /// 24); empty: any time.
    pub windows: Vec<(Weekday, f64, f64)>,
}

#[derive(Deserialize)]
struct Row {
    agent_id: String,
    group: String,
    contracted_hours: String,
    #[serde(default)]
    available: String,
}

/// Reads the agent list at `path` against the profile's groups.
pub fn read(profile: &Profile, path: &Path) -> Result<Vec<Agent>, RosterError> {
    let bad = |line: u64, what: String| {
        RosterError::Input(format!("agent list {}:{line}: {what}", path.display()))
    };
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_path(path)
        .map_err(|e| {
            RosterError::Input(format!("cannot read agent list {}: {e}", path.display()))
        })?;
    let mut agents: Vec<Agent> = Vec::new();
    for row in reader.deserialize::<Row>() {
        let row = row.map_err(|e| {
            let line = e.position().map_or(0, |p| p.line());
            bad(
                line,
                format!("{e}; the header is agent_id,group,contracted_hours,available"),
            )
        })?;
        let line = agents.len() as u64 + 2;
        let group = profile
            .agents
            .iter()
            .position(|g| g.name == row.group)
            .ok_or_else(|| {
                bad(
                    line,
                    format!(
                        "group {:?} is not an [[agents]] group of the profile; use one of {}",
                        row.group,
                        profile
                            .agents
                            .iter()
                            .map(|g| g.name.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                )
            })?;
        if row.agent_id.is_empty() || agents.iter().any(|a| a.id == row.agent_id) {
            return Err(bad(
                line,
                format!(
                    "agent_id {:?} is empty or given twice; give each agent its own id",
                    row.agent_id
                ),
            ));
        }
        let contracted_hours = row
            .contracted_hours
            .parse::<f64>()
            .ok()
            .filter(|h| h.is_finite() && *h > 0.0 && *h <= 168.0)
            .ok_or_else(|| bad(line, format!("contracted_hours {:?} is not hours per week above 0 and at most 168; write e.g. 40", row.contracted_hours)))?;
        let windows = windows(&row.available).map_err(|e| bad(line, e))?;
        agents.push(Agent {
            id: row.agent_id,
            group,
            contracted_hours,
            windows,
        });
    }
    Ok(agents)
}

/// `"Mon-Fri 08:00-18:00; Sat 09:00-13:00"` as windows.
fn windows(text: &str) -> Result<Vec<(Weekday, f64, f64)>, String> {
    let mut out = Vec::new();
    for part in text.split(';').map(str::trim).filter(|p| !p.is_empty()) {
        let fix = || {
            format!(
                "available {part:?} is not weekday windows; write e.g. \"Mon-Fri 08:00-18:00; Sat 09:00-13:00\""
            )
        };
        let (days, hours) = part.split_once(' ').ok_or_else(fix)?;
        let (from, to) = hours.trim().split_once('-').ok_or_else(fix)?;
        let from = parse_clock(from.trim()).map_err(|_| fix())? / 3600.0;
        let mut to = parse_clock(to.trim()).map_err(|_| fix())? / 3600.0;
        if to <= from {
            to += 24.0;
        }
        for day in weekdays(days).ok_or_else(fix)? {
            out.push((day, from, to));
        }
    }
    Ok(out)
}

/// `"Mon"`, `"Mon-Fri"` or `"Mon,Wed,Fri"`.
fn weekdays(spec: &str) -> Option<Vec<Weekday>> {
    const NAMES: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
    let day = |s: &str| NAMES.iter().position(|n| s.trim().eq_ignore_ascii_case(n));
    let from_index = |i: usize| Weekday::from_monday_zero_offset(i as i8).ok();
    let mut out = Vec::new();
    for item in spec.split(',') {
        match item.split_once('-') {
            Some((a, b)) => {
                let (a, b) = (day(a)?, day(b)?);
                let mut i = a;
                loop {
                    out.push(from_index(i)?);
                    if i == b {
                        break;
                    }
                    i = (i + 1) % 7;
                }
            }
            None => out.push(from_index(day(item)?)?),
        }
    }
    Some(out)
}

/// Whether `agent` can work `line`: availability on each day and contracted hours.
fn fits(agent: &Agent, line: &Line) -> bool {
    if line.paid_hours > agent.contracted_hours + 1e-9 {
        return false;
    }
    agent.windows.is_empty()
        || line.days.iter().all(|d| {
            let Some(date) = d.date.as_deref().and_then(|t| t.parse::<Date>().ok()) else {
                return true;
            };
            let from = hours_after_midnight(&d.start);
            let mut to = hours_after_midnight(&d.end);
            if to <= from {
                to += 24.0;
            }
            agent
                .windows
                .iter()
                .any(|&(day, a, b)| day == date.weekday() && a <= from + 1e-9 && to <= b + 1e-9)
        })
}

/// Who got which line.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Assignment {
    /// Agents in the list.
    pub agents: usize,
    /// Lines given an agent.
    pub assigned_lines: usize,
    /// Lines no agent fits (group, availability or contracted hours), by number.
    pub unassigned_lines: Vec<usize>,
    /// Agents given no line.
    pub idle_agents: Vec<String>,
}

/// Names the lines' agents from `agents`, in place.
pub fn assign(profile: &Profile, agents: &[Agent], lines: &mut [Line]) -> Assignment {
    let mut order: Vec<usize> = (0..lines.len()).collect();
    order.sort_by(|&a, &b| {
        lines[b]
            .paid_hours
            .total_cmp(&lines[a].paid_hours)
            .then(a.cmp(&b))
    });
    let mut taken = vec![false; agents.len()];
    let mut unassigned = Vec::new();
    for l in order {
        let group = profile.agents.iter().position(|g| g.name == lines[l].group);
        let best = (0..agents.len())
            .filter(|&a| !taken[a] && Some(agents[a].group) == group && fits(&agents[a], &lines[l]))
            .min_by(|&a, &b| {
                agents[a]
                    .contracted_hours
                    .total_cmp(&agents[b].contracted_hours)
                    .then(a.cmp(&b))
            });
        match best {
            Some(a) => {
                taken[a] = true;
                lines[l].agent_id = Some(agents[a].id.clone());
            }
            None => unassigned.push(lines[l].line),
        }
    }
    unassigned.sort_unstable();
    Assignment {
        agents: agents.len(),
        assigned_lines: lines.len() - unassigned.len(),
        unassigned_lines: unassigned,
        idle_agents: agents
            .iter()
            .zip(&taken)
            .filter(|(_, t)| !**t)
            .map(|(a, _)| a.id.clone())
            .collect(),
    }
}
