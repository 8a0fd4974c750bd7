//! Setup: queues, skills and agents are added before (or between) inputs. Names are interned
//! here once, so the hot path only ever sees dense integer ids.

use std::sync::Arc;

use super::{
    Agent, AgentConfig, AgentId, AgentSkill, AgentStatus, IndexedHeap, MAX_CAP, MAX_PROFICIENCY,
    NONE, NOT_IN_HEAP, Queue, QueueConfig, QueueId, RouteError, Router, Skill, Time,
};

impl Router {
    fn intern_skill(&mut self, name: &str) -> Result<u32, RouteError> {
        if let Some(&s) = self.names.skills.get(name) {
            return Ok(s);
        }
        let id = u32::try_from(self.skills.len())
            .ok()
            .filter(|&i| i != NONE)
            .ok_or(RouteError::Capacity { kind: "skills" })?;
        self.skills.push(Skill {
            name: name.to_string(),
            ..Skill::default()
        });
        Arc::make_mut(&mut self.names)
            .skills
            .insert(name.to_string(), id);
        Ok(id)
    }

    /// Adds a queue (setup time). Its skill need not be held by any agent yet.
    pub fn add_queue(&mut self, q: QueueConfig) -> Result<QueueId, RouteError> {
        if q.name.is_empty() {
            return Err(RouteError::EmptyName { kind: "queue" });
        }
        if q.skill.is_empty() {
            return Err(RouteError::EmptyName { kind: "skill" });
        }
        if self.names.queues.contains_key(&q.name) {
            return Err(RouteError::DuplicateName {
                kind: "queue",
                name: q.name,
            });
        }
        let id = u32::try_from(self.queues.len())
            .ok()
            .filter(|&i| i != NONE)
            .ok_or(RouteError::Capacity { kind: "queues" })?;
        let skill = self.intern_skill(&q.skill)?;
        Arc::make_mut(&mut self.names)
            .queues
            .insert(q.name.clone(), id);
        self.queues.push(Queue {
            name: q.name,
            skill,
            priority: q.priority,
            max_len: q.max_len,
            waiting: IndexedHeap::default(),
            max_key: None,
            answer_gap: None,
            gap_anchor: 0,
            handle_time: None,
            handle_time_hint: None,
        });
        if let Some(s) = self.skills.get_mut(skill as usize) {
            s.queues.push(id);
        }
        Ok(QueueId(id))
    }

    /// Checks a new agent's name, cap and skills (the errors of [`Router::add_agent`] that do
    /// not depend on capacity).
    fn check_agent(&self, a: &AgentConfig) -> Result<(), RouteError> {
        if a.name.is_empty() {
            return Err(RouteError::EmptyName { kind: "agent" });
        }
        if self.names.agents.contains_key(&a.name) {
            return Err(RouteError::DuplicateName {
                kind: "agent",
                name: a.name.clone(),
            });
        }
        if a.cap > MAX_CAP {
            return Err(RouteError::InvalidCap {
                agent: a.name.clone(),
                cap: a.cap,
            });
        }
        for (i, (skill, proficiency)) in a.skills.iter().enumerate() {
            if skill.is_empty() {
                return Err(RouteError::EmptyName { kind: "skill" });
            }
            if !(1..=MAX_PROFICIENCY).contains(proficiency) {
                return Err(RouteError::InvalidProficiency {
                    agent: a.name.clone(),
                    skill: skill.clone(),
                    value: *proficiency,
                });
            }
            if a.skills[..i].iter().any(|(s, _)| s == skill) {
                return Err(RouteError::DuplicateSkill {
                    agent: a.name.clone(),
                    skill: skill.clone(),
                });
            }
        }
        Ok(())
    }

    /// Adds an agent (setup time), `Offline`. Skills no queue uses are fine.
    pub fn add_agent(&mut self, a: AgentConfig) -> Result<AgentId, RouteError> {
        self.check_agent(&a)?;
        let id = u32::try_from(self.agents.len())
            .ok()
            .filter(|&i| i != NONE)
            .ok_or(RouteError::Capacity { kind: "agents" })?;
        let new_skills = a
            .skills
            .iter()
            .filter(|(s, _)| !self.names.skills.contains_key(s))
            .count();
        if self.skills.len().saturating_add(new_skills) >= NONE as usize {
            return Err(RouteError::Capacity { kind: "skills" });
        }
        let first_skill = u32::try_from(self.agent_skills.len())
            .ok()
            .filter(|first| {
                first
                    .checked_add(a.skills.len() as u32)
                    .is_some_and(|end| end < NONE)
            })
            .ok_or(RouteError::Capacity { kind: "skills" })?;
        for (skill, proficiency) in &a.skills {
            let skill = self.intern_skill(skill)?;
            self.agent_skills.push(AgentSkill {
                agent: id,
                skill,
                proficiency: *proficiency,
                pos: NOT_IN_HEAP,
            });
        }
        let names = Arc::make_mut(&mut self.names);
        names.agents.insert(a.name.clone(), id);
        names.agent.push(a.name);
        self.agents.push(Agent {
            first_skill,
            skill_count: a.skills.len() as u32,
            cap: a.cap,
            status: AgentStatus::Offline,
            active: 0,
            pending: 0,
            idle_since: 0,
            misses: 0,
            turn: u64::from(id),
        });
        self.next_turn = self.next_turn.max(u64::from(id) + 1);
        Ok(AgentId(id))
    }

    /// Sets the handle time the EWT fallback assumes for `queue` until its first chat closes.
    pub fn set_handle_time_hint(
        &mut self,
        queue: QueueId,
        handle_time: Time,
    ) -> Result<(), RouteError> {
        let q = self
            .queues
            .get_mut(queue.0 as usize)
            .ok_or(RouteError::UnknownQueue(queue))?;
        q.handle_time_hint = Some(handle_time);
        Ok(())
    }
}
