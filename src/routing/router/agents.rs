//! Agents: their keys in the skills' ready heaps, the choice of the best ready agent for a
//! chat, filling an agent's free slots from its queues, and the status and cap inputs.

use super::{
    AgentId, AgentKey, AgentSelection, AgentSkill, AgentStatus, BUSY_BITS, ChatKey, ChatPositions,
    ChatState, Decision, Decisions, MAX_CAP, MAX_PROFICIENCY, NONE, NOT_IN_HEAP, RouteError,
    Router, SkillPositions, Time,
};

impl Router {
    #[inline(always)]
    pub(super) fn agent_key(&self, a: usize, proficiency: u8) -> AgentKey {
        let agent = &self.agents[a];
        let busy = (u64::from(agent.load()) << 32) / u64::from(agent.cap.max(1));
        match self.config.selection {
            AgentSelection::LeastBusy => AgentKey {
                a: busy,
                b: agent.idle_since,
            },
            AgentSelection::LongestIdle => AgentKey {
                a: agent.idle_since,
                b: 0,
            },
            AgentSelection::RoundRobin => AgentKey {
                a: agent.turn,
                b: 0,
            },
            AgentSelection::MostSkilled => AgentKey {
                a: (u64::from(MAX_PROFICIENCY.saturating_sub(proficiency)) << BUSY_BITS) | busy,
                b: agent.idle_since,
            },
        }
    }

    /// Puts the agent into, moves it within, or takes it out of its skills' ready heaps.
    #[inline(always)]
    pub(super) fn refresh_agent(&mut self, a: usize) {
        let ready = self.agents[a].is_ready();
        for slot in self.skill_slots(a) {
            let AgentSkill {
                skill,
                proficiency,
                pos,
                ..
            } = self.agent_skills[slot];
            if !ready && pos == NOT_IN_HEAP {
                continue;
            }
            let key = ready.then(|| self.agent_key(a, proficiency));
            let Some(heap) = self.skills.get_mut(skill as usize).map(|s| &mut s.ready) else {
                continue;
            };
            let mut positions = SkillPositions(&mut self.agent_skills);
            let Some(key) = key else {
                heap.remove_at(pos, &mut positions);
                continue;
            };
            if pos == NOT_IN_HEAP {
                heap.push(key, slot as u32, &mut positions);
            } else {
                heap.update_at(pos, key, &mut positions);
            }
        }
    }

    /// Indices of the agent's (agent, skill) pairs in `agent_skills`.
    #[inline(always)]
    pub(super) fn skill_slots(&self, a: usize) -> std::ops::Range<usize> {
        let agent = &self.agents[a];
        agent.first_skill as usize..(agent.first_skill + agent.skill_count) as usize
    }

    /// Adds (`add`) or removes the agent's cap from its skills' available slots.
    #[inline]
    pub(super) fn count_slots(&mut self, a: usize, add: bool) {
        let agent = &self.agents[a];
        if agent.status != AgentStatus::Available {
            return;
        }
        let cap = u64::from(agent.cap);
        for slot in self.skill_slots(a) {
            let skill = self.agent_skills[slot].skill as usize;
            if let Some(skill) = self.skills.get_mut(skill) {
                if add {
                    skill.available_slots += cap;
                } else {
                    skill.available_slots -= cap;
                }
            }
        }
    }

    /// The best ready agent for a chat of queue `q`, other than `exclude`.
    #[inline(always)]
    pub(super) fn best_agent(&self, q: usize, exclude: u32) -> Option<usize> {
        let skill = self.queues[q].skill as usize;
        let pairs = &self.agent_skills;
        let agent_of = |slot: u32| pairs.get(slot as usize).map_or(NONE, |pair| pair.agent);
        self.skills[skill]
            .ready
            .peek_skipping(|_, slot| agent_of(slot) == exclude)
            .map(|(_, slot)| agent_of(slot) as usize)
    }

    /// Fills agent `a`'s free slots with the best-scored waiting chats of its queues, passing
    /// over chat `exclude`, then brings the agent's ready-heap entries up to date (once, however
    /// many chats it took: nothing reads the ready heaps in between).
    #[inline(always)]
    pub(super) fn pull(&mut self, now: Time, a: usize, exclude: u32, out: &mut impl Decisions) {
        while self.agents[a].is_ready() {
            let mut best: Option<(ChatKey, u32, u32)> = None;
            for slot in self.skill_slots(a) {
                let Some(skill) = self.skills.get(self.agent_skills[slot].skill as usize) else {
                    continue;
                };
                for &q in &skill.queues {
                    if let Some((key, c)) = self.queues[q as usize]
                        .waiting
                        .peek_skipping(|_, c| c == exclude)
                        && best.is_none_or(|(k, _, _)| key < k)
                    {
                        best = Some((key, c, q));
                    }
                }
            }
            let Some((_, c, q)) = best else { break };
            let pos = self.chats[c as usize].heap_pos;
            self.queues[q as usize]
                .waiting
                .remove_at(pos, &mut ChatPositions(&mut self.chats));
            self.note_answer(now, q as usize);
            self.give(now, c as usize, a, out);
        }
        self.refresh_agent(a);
    }

    /// After agent `a` lost a chat or an offer: idle clock, drain completion, heaps, refill.
    #[inline(always)]
    pub(super) fn slot_freed(
        &mut self,
        now: Time,
        a: usize,
        exclude: u32,
        out: &mut impl Decisions,
    ) {
        let agent = &mut self.agents[a];
        agent.idle_since = now;
        if agent.status == AgentStatus::Draining && agent.load() == 0 {
            agent.status = AgentStatus::Offline;
            out.push(Decision::AgentOffline {
                agent: AgentId(a as u32),
            });
        }
        self.pull(now, a, exclude, out);
    }

    /// Takes chat `c` off its agent (active or pending), returning the agent.
    #[inline(always)]
    pub(super) fn detach(&mut self, c: usize, out: &mut impl Decisions) -> usize {
        let a = self.chats[c].agent as usize;
        let was_active = self.chats[c].state == ChatState::Active;
        let agent = &mut self.agents[a];
        if was_active {
            agent.active -= 1;
            let active = agent.active;
            self.notify_load(AgentId(a as u32), active, out);
        } else {
            agent.pending -= 1;
        }
        a
    }

    /// Reports an agent's new number of active chats, if notices are on.
    #[inline(always)]
    pub(super) fn notify_load(&self, agent: AgentId, active: u32, out: &mut impl Decisions) {
        if self.load_notices {
            out.push(Decision::LoadChanged { agent, active });
        }
    }

    /// Changes an agent's status. `Available` (even when already available) is a routing pass:
    /// the agent takes waiting chats at once. `Offline` or `Draining` with chats or offers open
    /// makes the agent `Draining`; it becomes `Offline` (with [`Decision::AgentOffline`]) when
    /// the last one ends. `Draining` with nothing open goes offline at once.
    pub fn set_status(
        &mut self,
        now: Time,
        agent: AgentId,
        status: AgentStatus,
        out: &mut impl Decisions,
    ) -> Result<(), RouteError> {
        let a = self.agent_index(agent)?;
        self.count_slots(a, false);
        let old = self.agents[a].status;
        let load = self.agents[a].load();
        let new = match status {
            AgentStatus::Available | AgentStatus::Away => status,
            AgentStatus::Offline | AgentStatus::Draining if load > 0 => AgentStatus::Draining,
            AgentStatus::Offline | AgentStatus::Draining => AgentStatus::Offline,
        };
        let entry = &mut self.agents[a];
        entry.status = new;
        if new == AgentStatus::Available && old != AgentStatus::Available {
            entry.idle_since = now;
            entry.misses = 0;
        }
        self.count_slots(a, true);
        if status == AgentStatus::Draining && new == AgentStatus::Offline && old != new {
            out.push(Decision::AgentOffline { agent });
        }
        self.pull(now, a, NONE, out);
        Ok(())
    }

    /// Changes an agent's concurrency cap. It may not go below the chats and offers the agent
    /// holds now ([`RouteError::CapBelowLoad`]); a higher cap takes waiting chats at once.
    pub fn set_cap(
        &mut self,
        now: Time,
        agent: AgentId,
        cap: u32,
        out: &mut impl Decisions,
    ) -> Result<(), RouteError> {
        let a = self.agent_index(agent)?;
        if cap > MAX_CAP {
            return Err(RouteError::InvalidCap {
                agent: self.names.agent[a].clone(),
                cap,
            });
        }
        let load = self.agents[a].load();
        if cap < load {
            return Err(RouteError::CapBelowLoad { agent, cap, load });
        }
        self.count_slots(a, false);
        self.agents[a].cap = cap;
        self.count_slots(a, true);
        self.pull(now, a, NONE, out);
        Ok(())
    }
}
