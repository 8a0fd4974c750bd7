//! Agent calls: login, registration and status changes, the agent's own view.

use std::collections::VecDeque;

use tokio::sync::watch;

use super::{AgentRecord, Credentials, Desk, DeskError};
use crate::api::{self, Login, SkillRequest, StatusRequest};
use crate::routing::{AgentConfig, AgentId, AgentStatus, MAX_CAP, MAX_PROFICIENCY, Time};
use crate::server::limits::MAX_AGENT_ID_CHARS;

/// Proficiency of a skill given by name only.
const DEFAULT_PROFICIENCY: u8 = 5;

fn parse_status(text: &str) -> Result<AgentStatus, DeskError> {
    match text {
        "available" => Ok(AgentStatus::Available),
        "away" => Ok(AgentStatus::Away),
        "offline" => Ok(AgentStatus::Offline),
        "draining" => Ok(AgentStatus::Draining),
        other => Err(DeskError::BadField(format!(
            "status {other:?} is not a status; use available, away, offline or draining"
        ))),
    }
}

fn valid_agent_name(name: &str) -> Result<(), DeskError> {
    let ok = !name.is_empty()
        && name.chars().count() <= MAX_AGENT_ID_CHARS
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '@' | ':'));
    if ok {
        Ok(())
    } else {
        Err(DeskError::BadField(format!(
            "agent id {name:?} is not valid; use 1..={MAX_AGENT_ID_CHARS} characters from A-Z a-z 0-9 - _ . @ :"
        )))
    }
}

impl Desk {
    /// `POST /v1/agents/{id}/login`: a new token for the agent (see `sessions`).
    pub(crate) fn login(&mut self, name: &str, creds: &Credentials) -> Result<Login, DeskError> {
        valid_agent_name(name)?;
        let online = self
            .router
            .agent_id(name)
            .and_then(|a| self.router.agent(a))
            .is_some_and(|v| v.status != AgentStatus::Offline);
        let token = self.sessions.login(name, creds.bearer.as_deref(), online)?;
        Ok(Login {
            agent: name.to_string(),
            token,
        })
    }

    /// `GET /v1/agents/{id}` (the agent's own token).
    pub(crate) fn agent_info(
        &self,
        name: &str,
        creds: &Credentials,
    ) -> Result<api::Agent, DeskError> {
        self.sessions.require(name, creds.bearer.as_deref())?;
        let agent = self.agent_by_name(name)?;
        self.agent_out(agent, false)
    }

    fn parse_skills(&self, skills: Vec<SkillRequest>) -> Result<Vec<(String, u8)>, DeskError> {
        let mut parsed: Vec<(String, u8)> = Vec::with_capacity(skills.len());
        for skill in skills {
            let (name, proficiency) = match skill {
                SkillRequest::Name(name) => (name, DEFAULT_PROFICIENCY),
                SkillRequest::Full { name, proficiency } => {
                    (name, proficiency.unwrap_or(DEFAULT_PROFICIENCY))
                }
            };
            if !self.queue_skills.contains(&name) {
                return Err(DeskError::BadField(format!(
                    "skills: {name:?} is no queue's skill; use some of {}",
                    self.queue_skills.join(", ")
                )));
            }
            if !(1..=MAX_PROFICIENCY).contains(&proficiency) {
                return Err(DeskError::BadField(format!(
                    "skills: {name:?} proficiency {proficiency} is out of range; use 1..={MAX_PROFICIENCY}"
                )));
            }
            if parsed.iter().any(|(n, _)| *n == name) {
                return Err(DeskError::BadField(format!(
                    "skills: {name:?} is listed twice; list each skill once"
                )));
            }
            parsed.push((name, proficiency));
        }
        if parsed.is_empty() {
            return Err(DeskError::BadField(
                "skills is empty; list at least one queue skill".to_string(),
            ));
        }
        Ok(parsed)
    }

    /// The skills and cap of a newly registered agent: those of the profile's agent group
    /// whose name is the longest prefix of the id, else every queue skill and cap 1.
    fn default_agent(&self, name: &str) -> (Vec<(String, u8)>, u32) {
        self.groups
            .iter()
            .filter(|g| name.starts_with(&g.name))
            .max_by_key(|g| g.name.len())
            .map(|g| (g.skills.clone(), g.cap))
            .unwrap_or_else(|| {
                let skills = self
                    .queue_skills
                    .iter()
                    .map(|s| (s.clone(), DEFAULT_PROFICIENCY))
                    .collect();
                (skills, 1)
            })
    }

    /// `POST /v1/agents/{id}/status` (the agent's own token): registers the agent on its first
    /// call.
    pub(crate) fn agent_status(
        &mut self,
        name: &str,
        creds: &Credentials,
        req: StatusRequest,
    ) -> Result<api::Agent, DeskError> {
        valid_agent_name(name)?;
        self.sessions.require(name, creds.bearer.as_deref())?;
        let status = parse_status(&req.status)?;
        let skills = req.skills.map(|s| self.parse_skills(s)).transpose()?;
        if let Some(cap) = req.concurrency
            && !(1..=MAX_CAP).contains(&cap)
        {
            return Err(DeskError::BadField(format!(
                "concurrency {cap} is out of range; use 1..={MAX_CAP}"
            )));
        }
        let now = self.now();
        let (agent, registered) = match self.router.agent_id(name) {
            Some(agent) => {
                self.update_agent(now, name, agent, skills, req.concurrency)?;
                (agent, false)
            }
            None => (self.register_agent(name, skills, req.concurrency)?, true),
        };
        self.router
            .set_status(now, agent, status, &mut self.out)
            .map_err(|e| self.route_error(&e, &format!("agent {name:?}")))?;
        self.settle(now);
        self.bump_agent(agent);
        self.agent_out(agent, registered)
    }

    /// A registered agent's call: the skills, if given, must be the registered ones; a cap
    /// given is set.
    fn update_agent(
        &mut self,
        now: Time,
        name: &str,
        agent: AgentId,
        skills: Option<Vec<(String, u8)>>,
        cap: Option<u32>,
    ) -> Result<(), DeskError> {
        if let Some(mut given) = skills {
            let mut registered = self
                .agents
                .get(agent.0 as usize)
                .map(|r| r.skills.clone())
                .unwrap_or_default();
            given.sort();
            registered.sort();
            if given != registered {
                return Err(DeskError::SkillsFixed(format!(
                    "agent {name:?} is registered with other skills; skills are set on the first call only, omit them"
                )));
            }
        }
        if let Some(cap) = cap {
            self.router
                .set_cap(now, agent, cap, &mut self.out)
                .map_err(|e| self.route_error(&e, &format!("agent {name:?}")))?;
        }
        Ok(())
    }

    /// Registers a new agent with the skills and cap given, or its group's defaults.
    fn register_agent(
        &mut self,
        name: &str,
        skills: Option<Vec<(String, u8)>>,
        cap: Option<u32>,
    ) -> Result<AgentId, DeskError> {
        if self.agents.len() >= self.limits.max_agents {
            return Err(DeskError::Capacity(format!(
                "{} agents are registered, the most this server takes; reuse agent ids",
                self.agents.len()
            )));
        }
        let (default_skills, default_cap) = self.default_agent(name);
        let skills = skills.unwrap_or(default_skills);
        let agent = self
            .router
            .add_agent(AgentConfig {
                name: name.to_string(),
                skills: skills.clone(),
                cap: cap.unwrap_or(default_cap),
            })
            .map_err(|e| self.route_error(&e, &format!("agent {name:?}")))?;
        let (changes, _) = watch::channel(0);
        self.agents.push(AgentRecord {
            skills,
            inbox: Vec::new(),
            events: VecDeque::new(),
            changes,
        });
        Ok(agent)
    }
}
