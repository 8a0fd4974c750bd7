//! Offers: handing a chat to an agent (assigned at once or offered), and what an offer's
//! accept, decline or timeout does, including the miss that may send an agent away.

use super::{
    AcceptMode, AgentId, AgentStatus, ChatId, ChatState, Decision, Decisions, NONE, OfferSeq,
    RouteError, Router, Time,
};

impl Router {
    /// Hands chat `c` (not in any heap) to agent `a`: assigned or offered per the accept mode.
    /// The caller refreshes the agent's ready-heap entries afterwards.
    #[inline(always)]
    pub(super) fn give(&mut self, now: Time, c: usize, a: usize, out: &mut impl Decisions) {
        self.next_turn += 1;
        let accept = self.config.accept;
        let chat = &mut self.chats[c];
        let chat_id = ChatId {
            index: c as u32,
            generation: chat.generation,
        };
        let old = chat.state;
        chat.agent = a as u32;
        chat.offered_at = now;
        chat.skipped = NONE;
        let agent_id = AgentId(a as u32);
        match accept {
            AcceptMode::Auto => {
                chat.state = ChatState::Active;
                chat.answered_at = now;
                *self.count_of(old) -= 1;
                self.counts.active += 1;
                let agent = &mut self.agents[a];
                agent.turn = self.next_turn;
                agent.active += 1;
                let active = agent.active;
                out.push(Decision::Assigned {
                    chat: chat_id,
                    agent: agent_id,
                });
                self.notify_load(agent_id, active, out);
            }
            AcceptMode::Offer { timeout, .. } => {
                chat.state = ChatState::Offered;
                chat.offer = chat.offer.wrapping_add(1);
                chat.deadline = now.saturating_add(timeout);
                let (offer, deadline) = (OfferSeq(chat.offer), chat.deadline);
                *self.count_of(old) -= 1;
                self.counts.offered += 1;
                let agent = &mut self.agents[a];
                agent.turn = self.next_turn;
                agent.pending += 1;
                out.push(Decision::Offered {
                    chat: chat_id,
                    agent: agent_id,
                    offer,
                    deadline,
                });
            }
        }
    }

    /// The agent accepts its open offer of the chat; the chat becomes active. Fails with
    /// [`RouteError::OfferExpired`] at or after the deadline (the pending timeout will re-route
    /// it) or when this agent's offer has already lapsed.
    pub fn accept(
        &mut self,
        now: Time,
        chat: ChatId,
        agent: AgentId,
        out: &mut impl Decisions,
    ) -> Result<(), RouteError> {
        let c = self.chat_index(chat)?;
        let a = self.agent_index(agent)?;
        self.check_offer(c, chat, a, agent, "accept", Some(now))?;
        self.set_state(c, ChatState::Active);
        self.chats[c].answered_at = now;
        let entry = &mut self.agents[a];
        entry.pending -= 1;
        entry.active += 1;
        entry.misses = 0;
        let active = entry.active;
        out.push(Decision::Assigned { chat, agent });
        self.notify_load(agent, active, out);
        // Load (active + pending) is unchanged, so the agent's heap keys are too.
        Ok(())
    }

    /// Checks that chat `c` is offered to agent `a`; with `expires_at`, also that the offer is
    /// still open at that time.
    fn check_offer(
        &self,
        c: usize,
        chat: ChatId,
        a: usize,
        agent: AgentId,
        action: &'static str,
        expires_at: Option<Time>,
    ) -> Result<(), RouteError> {
        let entry = &self.chats[c];
        if entry.state == ChatState::Offered && entry.agent == a as u32 {
            if expires_at.is_some_and(|now| now >= entry.deadline) {
                return Err(RouteError::OfferExpired { chat, agent });
            }
            return Ok(());
        }
        if entry.missed_by == a as u32 {
            return Err(RouteError::OfferExpired { chat, agent });
        }
        if entry.state == ChatState::Offered {
            return Err(RouteError::NotOfferedToAgent { chat, agent });
        }
        Err(RouteError::InvalidState {
            chat,
            state: entry.state,
            action,
        })
    }

    /// The agent declines its open offer: a miss. The chat is re-offered at once to another
    /// agent (never this one), or waits; see the module docs for the skip rule.
    pub fn decline(
        &mut self,
        now: Time,
        chat: ChatId,
        agent: AgentId,
        out: &mut impl Decisions,
    ) -> Result<(), RouteError> {
        let c = self.chat_index(chat)?;
        let a = self.agent_index(agent)?;
        self.check_offer(c, chat, a, agent, "decline", None)?;
        self.miss(now, c, out);
        Ok(())
    }

    /// The offer's timer fired. A stale timer (the chat was answered, re-offered, ended or
    /// released since) is ignored with `Ok`. Otherwise it is a miss, like a decline.
    pub fn offer_timeout(
        &mut self,
        now: Time,
        chat: ChatId,
        offer: OfferSeq,
        out: &mut impl Decisions,
    ) -> Result<(), RouteError> {
        let Some(entry) = self.chats.get(chat.index as usize) else {
            return Err(RouteError::UnknownChat(chat));
        };
        if !entry.live && entry.generation == chat.generation {
            // A slot never used with this generation: no such chat.
            return Err(RouteError::UnknownChat(chat));
        }
        if chat.generation > entry.generation {
            return Err(RouteError::UnknownChat(chat));
        }
        if !entry.live
            || entry.generation != chat.generation
            || entry.state != ChatState::Offered
            || entry.offer != offer.0
        {
            return Ok(());
        }
        self.miss(now, chat.index as usize, out);
        Ok(())
    }

    fn miss(&mut self, now: Time, c: usize, out: &mut impl Decisions) {
        let a = self.detach(c, out);
        self.chats[c].missed_by = a as u32;
        let agent = &mut self.agents[a];
        agent.misses += 1;
        if let AcceptMode::Offer {
            misses_before_away, ..
        } = self.config.accept
            && misses_before_away > 0
            && agent.misses >= misses_before_away
            && agent.status == AgentStatus::Available
        {
            self.count_slots(a, false);
            self.agents[a].status = AgentStatus::Away;
            out.push(Decision::AgentAway {
                agent: AgentId(a as u32),
            });
        }
        let agent = &mut self.agents[a];
        agent.idle_since = now;
        if agent.status == AgentStatus::Draining && agent.load() == 0 {
            agent.status = AgentStatus::Offline;
            out.push(Decision::AgentOffline {
                agent: AgentId(a as u32),
            });
        }
        self.refresh_agent(a);
        self.place(now, c, a as u32, false, out);
        self.pull(now, a, c as u32, out);
    }
}
