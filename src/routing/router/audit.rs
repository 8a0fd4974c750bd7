//! The full O(n) audit of the router's invariants, for property tests and debug drivers: each
//! check recounts from the chats and agents and compares with what the router keeps.

use super::{AgentStatus, Chat, ChatState, NONE, NOT_IN_HEAP, Router, StateCounts};

/// What the live chats hold, recounted from them.
struct Recount {
    /// Chats per state (released ones added from the router's tally).
    counts: StateCounts,
    /// Active chats per agent.
    active: Vec<u32>,
    /// Open offers per agent.
    pending: Vec<u32>,
    /// Queued chats per queue.
    waiting: Vec<usize>,
}

/// Ready agents and available slots per skill, recounted from the agents.
struct SkillRecount {
    ready: Vec<usize>,
    slots: Vec<u64>,
}

impl Router {
    /// Full O(n) audit of every invariant; `Err` names the first one broken.
    pub fn check_invariants(&self) -> Result<(), String> {
        let recount = self.audit_chats()?;
        self.audit_counts(recount.counts)?;
        let mut skills = SkillRecount {
            ready: vec![0; self.skills.len()],
            slots: vec![0; self.skills.len()],
        };
        for a in 0..self.agents.len() {
            self.audit_agent(a, &recount)?;
            self.audit_agent_skills(a, &mut skills)?;
        }
        self.audit_heaps(&recount.waiting, &skills)
    }

    /// Each live chat's state agrees with its agent, queue heap and skip mark; the recount.
    fn audit_chats(&self) -> Result<Recount, String> {
        let mut recount = Recount {
            counts: StateCounts::default(),
            active: vec![0; self.agents.len()],
            pending: vec![0; self.agents.len()],
            waiting: vec![0; self.queues.len()],
        };
        for (c, chat) in self.chats.iter().enumerate().filter(|(_, chat)| chat.live) {
            self.audit_chat(c, chat, &mut recount)?;
        }
        Ok(recount)
    }

    fn audit_chat(&self, c: usize, chat: &Chat, recount: &mut Recount) -> Result<(), String> {
        let id = self.chat_id(c as u32);
        let queue = self
            .queues
            .get(chat.queue as usize)
            .ok_or(format!("{id}: bad queue"))?;
        let in_heap = chat.heap_pos != NOT_IN_HEAP;
        let has_agent = chat.agent != NONE;
        let counts = &mut recount.counts;
        match chat.state {
            ChatState::Queued => {
                counts.queued += 1;
                recount.waiting[chat.queue as usize] += 1;
                if has_agent {
                    return Err(format!("{id} is queued but has an agent"));
                }
                let entry = queue.waiting.get(chat.heap_pos);
                if entry != Some((self.chat_key(chat), c as u32)) {
                    return Err(format!(
                        "{id} is queued but not in its queue heap with its key"
                    ));
                }
            }
            ChatState::Offered | ChatState::Active => {
                let slot = if chat.state == ChatState::Active {
                    counts.active += 1;
                    &mut recount.active
                } else {
                    counts.offered += 1;
                    &mut recount.pending
                };
                *slot
                    .get_mut(chat.agent as usize)
                    .ok_or(format!("{id} has no agent"))? += 1;
            }
            ChatState::Closed => counts.closed += 1,
            ChatState::Abandoned => counts.abandoned += 1,
            ChatState::Rejected => counts.rejected += 1,
        }
        if chat.state != ChatState::Queued && (in_heap || chat.skipped != NONE) {
            return Err(format!(
                "{id} is {} but sits in a queue heap or skips",
                chat.state
            ));
        }
        if matches!(chat.state, ChatState::Abandoned | ChatState::Rejected) && has_agent {
            return Err(format!("{id} is {} but has an agent", chat.state));
        }
        Ok(())
    }

    /// The kept counts equal the recount of live chats plus those released, and every chat
    /// created is in exactly one state.
    fn audit_counts(&self, mut recount: StateCounts) -> Result<(), String> {
        recount.closed += self.released.closed;
        recount.abandoned += self.released.abandoned;
        recount.rejected += self.released.rejected;
        recount.created = self.counts.created;
        if recount != self.counts {
            return Err(format!(
                "counts {:?} but recounted {:?}",
                self.counts, recount
            ));
        }
        if self.counts.total_in_states() != self.counts.created {
            return Err(format!("conservation broken: {:?}", self.counts));
        }
        Ok(())
    }

    /// Agent `a`'s load matches the chats it holds, within its cap, and fits its status.
    fn audit_agent(&self, a: usize, recount: &Recount) -> Result<(), String> {
        let agent = &self.agents[a];
        let name = &self.names.agent[a];
        let (active, pending) = (recount.active[a], recount.pending[a]);
        if agent.active != active || agent.pending != pending {
            return Err(format!(
                "agent {name} records {}+{} chats but holds {active}+{pending}",
                agent.active, agent.pending
            ));
        }
        if agent.load() > agent.cap {
            return Err(format!(
                "agent {name} holds {} above cap {}",
                agent.load(),
                agent.cap
            ));
        }
        if agent.status == AgentStatus::Offline && agent.load() > 0 {
            return Err(format!("agent {name} is offline with chats"));
        }
        if agent.status == AgentStatus::Draining && agent.load() == 0 {
            return Err(format!("agent {name} is draining with nothing left"));
        }
        Ok(())
    }

    /// Agent `a` is in its skills' ready heaps with its key exactly when ready, and a ready
    /// agent sits beside no waiting chat it could take (unless it is that chat's skipped agent).
    fn audit_agent_skills(&self, a: usize, skills: &mut SkillRecount) -> Result<(), String> {
        let agent = &self.agents[a];
        let name = &self.names.agent[a];
        let ready = agent.is_ready();
        for slot in self.skill_slots(a) {
            let s = &self.agent_skills[slot];
            if s.agent != a as u32 {
                return Err(format!("agent {name} owns another agent's skill entry"));
            }
            let skill = self.skills.get(s.skill as usize).ok_or("bad skill")?;
            if agent.status == AgentStatus::Available {
                skills.slots[s.skill as usize] += u64::from(agent.cap);
            }
            if !ready {
                if s.pos != NOT_IN_HEAP {
                    return Err(format!(
                        "agent {name} is not ready but in skill {}",
                        skill.name
                    ));
                }
                continue;
            }
            skills.ready[s.skill as usize] += 1;
            let expected = (self.agent_key(a, s.proficiency), slot as u32);
            if skill.ready.get(s.pos) != Some(expected) {
                return Err(format!(
                    "ready agent {name} missing from skill {}",
                    skill.name
                ));
            }
            for &q in &skill.queues {
                for &(_, c) in self.queues[q as usize].waiting.iter() {
                    if self.chats[c as usize].skipped != a as u32 {
                        return Err(format!(
                            "agent {name} has a free slot beside waiting {} in queue {}",
                            self.chat_id(c),
                            self.queues[q as usize].name
                        ));
                    }
                }
            }
        }
        Ok(())
    }

    /// The heaps hold nothing beyond the recounts, and record their items' positions right.
    fn audit_heaps(&self, waiting: &[usize], skills: &SkillRecount) -> Result<(), String> {
        for (s, skill) in self.skills.iter().enumerate() {
            if skill.ready.len() != skills.ready[s] {
                return Err(format!("skill {} heap holds extra agents", skill.name));
            }
            if skill.available_slots != skills.slots[s] {
                return Err(format!("skill {} counts wrong available slots", skill.name));
            }
            skill
                .ready
                .audit(|slot| self.agent_skills[slot as usize].pos)?;
        }
        for (q, queue) in self.queues.iter().enumerate() {
            if queue.waiting.len() != waiting[q] {
                return Err(format!("queue {} heap holds extra chats", queue.name));
            }
            queue.waiting.audit(|c| self.chats[c as usize].heap_pos)?;
        }
        Ok(())
    }
}
