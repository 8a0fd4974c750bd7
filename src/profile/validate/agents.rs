//! `[[agents]]`: agent groups with their skills (each some queue's skill, every queue's skill
//! held by some group), concurrency, slowdown, shrinkage and staffing.

use toml::Value;

use super::super::locate::{FieldPath, Issue};
use super::super::raw::RawAgent;
use super::super::{AgentGroupSpec, QueueSpec, SkillSpec, Slowdown};
use super::Failure;
use super::horizon::{Horizon, per_interval};
use super::values::{number, number_text, shown, unique_names};
use crate::erlang::{AGENT_CAP, MAX_SHRINKAGE};

/// Most chats one agent may hold at once: the routing core's limit.
pub(crate) const MAX_CONCURRENCY: i64 = crate::routing::MAX_CAP as i64;

/// Largest linear slowdown per extra chat, and largest factor of a slowdown list.
const MAX_SLOWDOWN: f64 = 10.0;
const MAX_SLOWDOWN_FACTOR: f64 = 1000.0;

/// Proficiency of a skill given without one.
const DEFAULT_PROFICIENCY: u8 = 5;

/// Every agent group, then the check that each queue can be answered by one of them.
pub(super) fn agents(
    raw: &[RawAgent],
    horizon: &Horizon,
    queues: &[QueueSpec],
) -> Result<Vec<AgentGroupSpec>, Failure> {
    let agents_path = FieldPath::root().key("agents");
    if raw.is_empty() {
        return Err(Issue::new(
            &agents_path,
            "is missing; add at least one [[agents]] table with a name, skills and concurrency",
        )
        .into());
    }
    unique_names(
        raw.iter().map(|a| a.name.as_deref()),
        &agents_path,
        "name = \"tier1\"",
    )?;
    let agents = raw
        .iter()
        .enumerate()
        .map(|(i, a)| agent(a, &agents_path.index(i), horizon, queues))
        .collect::<Result<Vec<_>, Issue>>()?;
    check_skill_coverage(queues, &agents, &FieldPath::root().key("queues"))?;
    Ok(agents)
}

fn agent(
    raw: &RawAgent,
    path: &FieldPath,
    horizon: &Horizon,
    queues: &[QueueSpec],
) -> Result<AgentGroupSpec, Issue> {
    let name = raw.name.clone().unwrap_or_default();
    let skills = skills(raw.skills.as_deref(), &path.key("skills"), queues)?;
    let concurrency = match raw.concurrency {
        None => 1,
        Some(c) if (1..=MAX_CONCURRENCY).contains(&c) => c as u32,
        Some(c) => {
            return Err(Issue::new(
                &path.key("concurrency"),
                format!("= {c} is out of range; use 1 to {MAX_CONCURRENCY} chats at once"),
            ));
        }
    };
    let slowdown = match &raw.slowdown {
        None => Slowdown::Linear(0.0),
        Some(value) => slowdown(value, &path.key("slowdown"), concurrency)?,
    };
    let shrinkage = match raw.shrinkage {
        None => 0.0,
        Some(s) if (0.0..=MAX_SHRINKAGE).contains(&s) => s,
        Some(s) => {
            return Err(Issue::new(
                &path.key("shrinkage"),
                format!(
                    "= {} is outside [0, {MAX_SHRINKAGE}]; use the share of paid time not available, e.g. 0.3",
                    number_text(s)
                ),
            ));
        }
    };
    let staffing = match &raw.staffing {
        None => None,
        Some(value) => Some(staffing(value, &path.key("staffing"), horizon)?),
    };
    let (min_on_duty, max_on_duty) = on_duty_bounds(raw, path)?;
    Ok(AgentGroupSpec {
        name,
        skills,
        concurrency,
        slowdown,
        shrinkage,
        staffing,
        min_on_duty,
        max_on_duty,
        cost_per_hour: cost_per_hour(raw.cost_per_hour.as_ref(), &path.key("cost_per_hour"))?,
    })
}

/// `min_on_duty` (default 0) and `max_on_duty` (default none): head counts, the least not
/// above the most.
fn on_duty_bounds(raw: &RawAgent, path: &FieldPath) -> Result<(u32, Option<u32>), Issue> {
    let head_count = |value: Option<i64>, key: &str, least: i64| match value {
        None => Ok(None),
        Some(n) if (least..=i64::from(AGENT_CAP)).contains(&n) => Ok(Some(n as u32)),
        Some(n) => Err(Issue::new(
            &path.key(key),
            format!(
                "= {n} is not a whole number of agents from {least} to {AGENT_CAP}; write e.g. 2"
            ),
        )),
    };
    let least = head_count(raw.min_on_duty, "min_on_duty", 0)?.unwrap_or(0);
    let most = head_count(raw.max_on_duty, "max_on_duty", 1)?;
    if let Some(most) = most.filter(|m| *m < least) {
        return Err(Issue::new(
            &path.key("max_on_duty"),
            format!(
                "= {most} is below min_on_duty = {least}; raise max_on_duty or lower min_on_duty"
            ),
        ));
    }
    Ok((least, most))
}

/// Largest `cost_per_hour`: far beyond any wage in any currency unit, so a slip is caught.
const MAX_COST_PER_HOUR: f64 = 1e6;

/// `cost_per_hour` (default 1): positive and finite.
fn cost_per_hour(value: Option<&Value>, path: &FieldPath) -> Result<f64, Issue> {
    let Some(value) = value else {
        return Ok(1.0);
    };
    match number(value) {
        Some(c) if c > 0.0 && c <= MAX_COST_PER_HOUR => Ok(c),
        _ => Err(Issue::new(
            path,
            format!(
                "= {} is not a cost above 0 and at most {}; give the cost of one paid agent \
                 hour, e.g. 25 (only the ratios between groups matter)",
                shown(value),
                number_text(MAX_COST_PER_HOUR)
            ),
        )),
    }
}

/// The group's skills: at least one, each a queue's skill, none twice.
fn skills(
    raw: Option<&[Value]>,
    skills_path: &FieldPath,
    queues: &[QueueSpec],
) -> Result<Vec<SkillSpec>, Issue> {
    let queue_skills: Vec<&str> = unique(queues.iter().map(|q| q.skill.as_str()));
    let raw_skills = raw.ok_or_else(|| {
        Issue::new(
            skills_path,
            format!(
                "is missing; add skills = [\"{}\"] (queue skills: {})",
                queue_skills.first().copied().unwrap_or("orders"),
                queue_skills.join(", ")
            ),
        )
    })?;
    if raw_skills.is_empty() {
        return Err(Issue::new(
            skills_path,
            format!(
                "= [] is empty; list at least one of {}",
                queue_skills.join(", ")
            ),
        ));
    }
    let mut skills: Vec<SkillSpec> = Vec::with_capacity(raw_skills.len());
    for (j, entry) in raw_skills.iter().enumerate() {
        let entry_path = skills_path.index(j);
        let skill = skill_entry(entry, &entry_path)?;
        if !queue_skills.contains(&skill.skill.as_str()) {
            return Err(Issue::new(
                &entry_path,
                format!(
                    "= {:?} is no queue's skill; use one of {}",
                    skill.skill,
                    queue_skills.join(", ")
                ),
            ));
        }
        if skills.iter().any(|s| s.skill == skill.skill) {
            return Err(Issue::new(
                &entry_path,
                format!("= {:?} is listed twice; list each skill once", skill.skill),
            ));
        }
        skills.push(skill);
    }
    Ok(skills)
}

/// The items in first-seen order, each once.
fn unique<'a>(items: impl Iterator<Item = &'a str>) -> Vec<&'a str> {
    let mut out: Vec<&str> = Vec::new();
    for item in items {
        if !out.contains(&item) {
            out.push(item);
        }
    }
    out
}

fn check_skill_coverage(
    queues: &[QueueSpec],
    agents: &[AgentGroupSpec],
    queues_path: &FieldPath,
) -> Result<(), Issue> {
    for (i, q) in queues.iter().enumerate() {
        if !agents.iter().any(|a| a.proficiency(&q.skill).is_some()) {
            let groups: Vec<&str> = agents.iter().map(|a| a.name.as_str()).collect();
            return Err(Issue::new(
                &queues_path.index(i).key("skill"),
                format!(
                    "= {:?} is held by no agent group, so its chats would never be answered; add {:?} to the skills of one of the agent groups ({})",
                    q.skill,
                    q.skill,
                    groups.join(", ")
                ),
            ));
        }
    }
    Ok(())
}

/// `"billing"` or `{ name = "billing", proficiency = 8 }`.
fn skill_entry(entry: &Value, path: &FieldPath) -> Result<SkillSpec, Issue> {
    let example = "write a skill name or { name = \"billing\", proficiency = 8 }";
    match entry {
        Value::String(s) if !s.trim().is_empty() => Ok(SkillSpec {
            skill: s.clone(),
            proficiency: DEFAULT_PROFICIENCY,
        }),
        Value::Table(table) => {
            if let Some(key) = table.keys().find(|k| *k != "name" && *k != "proficiency") {
                return Err(Issue::new(
                    &path.key(key),
                    "is not a skill key; use name and proficiency",
                ));
            }
            let skill = match table.get("name") {
                Some(Value::String(s)) if !s.trim().is_empty() => s.clone(),
                Some(other) => {
                    return Err(Issue::new(
                        &path.key("name"),
                        format!("= {other} is not a skill name; {example}"),
                    ));
                }
                None => {
                    return Err(Issue::new(
                        &path.key("name"),
                        format!("is missing; {example}"),
                    ));
                }
            };
            let proficiency = match table.get("proficiency") {
                None => DEFAULT_PROFICIENCY,
                Some(Value::Integer(p)) if (1..=10).contains(p) => *p as u8,
                Some(other) => {
                    return Err(Issue::new(
                        &path.key("proficiency"),
                        format!(
                            "= {other} is not a whole number 1 to 10; use e.g. proficiency = 8 (default 5)"
                        ),
                    ));
                }
            };
            Ok(SkillSpec { skill, proficiency })
        }
        other => Err(Issue::new(
            path,
            format!("= {other} is not a skill; {example}"),
        )),
    }
}

/// `slowdown = 0.25` (linear) or a list of factors per level starting at 1.0.
fn slowdown(value: &Value, path: &FieldPath, concurrency: u32) -> Result<Slowdown, Issue> {
    let hint = "write slowdown = 0.25 (f(n) = 1 + 0.25 (n - 1)) or a list of factors per level such as [1.0, 1.2, 1.5]";
    let Value::Array(items) = value else {
        return match number(value) {
            Some(s) if (0.0..=MAX_SLOWDOWN).contains(&s) => Ok(Slowdown::Linear(s)),
            _ => Err(Issue::new(
                path,
                format!(
                    "= {} is not a slowdown from 0 to {MAX_SLOWDOWN}; {hint}",
                    shown(value)
                ),
            )),
        };
    };
    if items.len() < concurrency as usize {
        return Err(Issue::new(
            path,
            format!(
                "has {} levels but concurrency is {concurrency}; give at least one factor per level",
                items.len()
            ),
        ));
    }
    let mut levels = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let f = number(item)
            .filter(|f| *f > 0.0 && *f <= MAX_SLOWDOWN_FACTOR)
            .ok_or_else(|| {
                Issue::new(
                    &path.index(i),
                    format!(
                        "= {} is not a factor above 0 and at most {MAX_SLOWDOWN_FACTOR}; {hint}",
                        shown(item)
                    ),
                )
            })?;
        levels.push(f);
    }
    if levels.first().is_some_and(|f| (f - 1.0).abs() > 1e-9) {
        return Err(Issue::new(
            &path.index(0),
            format!(
                "= {} must be 1.0: handle_time is the time at concurrency 1",
                levels.first().copied().unwrap_or(0.0)
            ),
        ));
    }
    Ok(Slowdown::Levels(levels))
}

/// One head count for every interval, or a list with one per interval.
fn staffing(value: &Value, path: &FieldPath, horizon: &Horizon) -> Result<Vec<u32>, Issue> {
    let head_count = |item: &Value, at: &FieldPath| -> Result<u32, Issue> {
        match item {
            Value::Integer(n) if (0..=i64::from(AGENT_CAP)).contains(n) => Ok(*n as u32),
            other => Err(Issue::new(
                at,
                format!(
                    "= {other} is not a whole number of agents from 0 to {AGENT_CAP}; write e.g. 12"
                ),
            )),
        }
    };
    per_interval(value, path, horizon, "head count", head_count)
}
