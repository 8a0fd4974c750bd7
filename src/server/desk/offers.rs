//! Offers and the inbox: an offer or assignment record per pairing the routing core makes,
//! delivered to its agent by long-poll (the first delivery is the route latency), answered,
//! lapsed or withdrawn; and the events (a customer left) an agent learns on its next poll.

use super::{
    Credentials, Desk, DeskError, OfferRecord, OfferState, Poll, chat_name, offer_key, offer_name,
};
use crate::api::{self, Inbox, InboxEvent, InboxEventKind, OfferAnswer, OfferOutcome};
use crate::routing::{AgentId, ChatId, ChatState, OfferSeq, SECOND, Time};
use crate::server::limits::MAX_EVENTS_PER_AGENT;

impl Desk {
    pub(crate) fn take_timers(&mut self) -> Vec<(Time, ChatId, OfferSeq)> {
        std::mem::take(&mut self.timers)
    }

    pub(super) fn new_offer(&mut self, record: OfferRecord) -> u64 {
        let key = self.next_offer;
        self.next_offer += 1;
        let agent = record.agent;
        self.offers.insert(key, record);
        if let Some(rec) = self.agents.get_mut(agent.0 as usize) {
            rec.inbox.push(key);
        }
        self.bump_agent(agent);
        key
    }

    /// Ends an offer or assignment record: takes it out of its agent's inbox and keeps it a
    /// while for clear errors on late answers.
    pub(super) fn end_offer(&mut self, key: u64, state: OfferState) {
        let Some(offer) = self.offers.get_mut(&key) else {
            return;
        };
        offer.state = state;
        let agent = offer.agent;
        if let Some(rec) = self.agents.get_mut(agent.0 as usize) {
            rec.inbox.retain(|&k| k != key);
        }
        self.ended_offers.push_back(key);
        while self.ended_offers.len() > self.limits.ended_kept {
            if let Some(old) = self.ended_offers.pop_front() {
                self.offers.remove(&old);
            }
        }
    }

    /// Ends the chat's current offer or undelivered assignment, if one is still pending.
    pub(super) fn withdraw_offer(&mut self, chat_key: u64) {
        let Some(key) = self.chats.get(&chat_key).and_then(|c| c.offer) else {
            return;
        };
        let pending = self.offers.get(&key).is_some_and(|o| {
            o.state == OfferState::Open
                || (o.state == OfferState::Assigned && o.delivered_at.is_none())
        });
        if pending {
            self.end_offer(key, OfferState::Withdrawn);
        }
    }

    /// Puts an event on an agent's inbox (delivered once by the next offers poll).
    pub(super) fn push_event(
        &mut self,
        agent: AgentId,
        kind: InboxEventKind,
        chat_key: u64,
        now: Time,
    ) {
        let at = self.epoch(now);
        let Some(rec) = self.agents.get_mut(agent.0 as usize) else {
            return;
        };
        if rec.events.len() >= MAX_EVENTS_PER_AGENT {
            rec.events.pop_front();
        }
        rec.events.push_back(InboxEvent {
            kind,
            chat_id: chat_name(chat_key),
            at,
        });
        self.bump_agent(agent);
    }

    /// `GET /v1/agents/{id}/offers` (the agent's own token): ready when something in the inbox
    /// was never delivered, or `force`. Delivering records the route latency of each first
    /// delivery; a delivered assignment or event leaves the inbox, an offer stays until
    /// answered or lapsed.
    pub(crate) fn poll_offers(
        &mut self,
        name: &str,
        creds: &Credentials,
        force: bool,
    ) -> Result<Poll<Inbox>, DeskError> {
        self.sessions.require(name, creds.bearer.as_deref())?;
        let agent = self.agent_by_name(name)?;
        let Some(rec) = self.agents.get(agent.0 as usize) else {
            return Err(DeskError::unknown_agent(name));
        };
        let fresh = !rec.events.is_empty()
            || rec
                .inbox
                .iter()
                .any(|k| self.offers.get(k).is_some_and(|o| o.delivered_at.is_none()));
        if !fresh && !force {
            return Ok(Poll::Wait(rec.changes.subscribe()));
        }
        let inbox = rec.inbox.clone();
        let now = self.now();
        let mut offers = Vec::with_capacity(inbox.len());
        let mut delivered_assignments = Vec::new();
        for key in inbox {
            let Some(offer) = self.offers.get_mut(&key) else {
                continue;
            };
            if offer.delivered_at.is_none() {
                offer.delivered_at = Some(now);
                let latency = now.saturating_sub(offer.offered_at);
                let _ = self.route_latency.record(latency);
                self.telemetry
                    .observe_route_latency(latency as f64 / SECOND as f64);
                if offer.seq.is_none() {
                    delivered_assignments.push(key);
                }
            }
            if let Some(offer) = self.offers.get(&key)
                && let Some(out) = self.offer_out(key, offer)
            {
                offers.push(out);
            }
        }
        // A delivered assignment needs no answer: it leaves the inbox and is kept a while.
        for key in delivered_assignments {
            self.end_offer(key, OfferState::Assigned);
        }
        let events = self
            .agents
            .get_mut(agent.0 as usize)
            .map(|r| r.events.drain(..).collect())
            .unwrap_or_default();
        let status = self
            .router
            .agent(agent)
            .map_or(api::AgentStatus::Offline, |v| v.status);
        Ok(Poll::Ready(Inbox {
            agent: name.to_string(),
            status,
            server_time: self.epoch(now),
            offers,
            events,
        }))
    }

    pub(super) fn offer_for_answer(
        &self,
        id: &str,
        creds: &Credentials,
    ) -> Result<(u64, AgentId, ChatId, u64), DeskError> {
        let key = offer_key(id).ok_or_else(|| DeskError::unknown_offer(id))?;
        let offer = self
            .offers
            .get(&key)
            .ok_or_else(|| DeskError::unknown_offer(id))?;
        let holder = self.agent_name(offer.agent).unwrap_or_default();
        let acting = self.sessions.acting(creds.bearer.as_deref())?;
        if acting != holder {
            return Err(DeskError::NotYourOffer(format!(
                "offer {id} was made to agent {holder:?}, not to {acting:?}"
            )));
        }
        match offer.state {
            OfferState::Open => Ok((key, offer.agent, offer.router_chat, offer.chat)),
            OfferState::Expired => Err(DeskError::OfferExpired(format!(
                "offer {id} has expired; the chat went to another agent or back to its queue"
            ))),
            state => Err(DeskError::InvalidState(format!(
                "offer {id} is {}; only an open offer can be answered",
                state.as_str()
            ))),
        }
    }

    /// `POST /v1/offers/{id}/accept`.
    pub(crate) fn accept(
        &mut self,
        id: &str,
        creds: &Credentials,
    ) -> Result<OfferAnswer, DeskError> {
        let (key, agent, chat, chat_key) = self.offer_for_answer(id, creds)?;
        let now = self.now();
        self.router
            .accept(now, chat, agent, &mut self.out)
            .map_err(|e| self.route_error(&e, &format!("offer {id}")))?;
        self.settle(now);
        Ok(self.answer_out(key, chat_key, OfferOutcome::Accepted))
    }

    /// `POST /v1/offers/{id}/decline`.
    pub(crate) fn decline(
        &mut self,
        id: &str,
        creds: &Credentials,
    ) -> Result<OfferAnswer, DeskError> {
        let (key, agent, chat, chat_key) = self.offer_for_answer(id, creds)?;
        let now = self.now();
        self.router
            .decline(now, chat, agent, &mut self.out)
            .map_err(|e| self.route_error(&e, &format!("offer {id}")))?;
        self.end_offer(key, OfferState::Declined);
        self.settle(now);
        Ok(self.answer_out(key, chat_key, OfferOutcome::Declined))
    }

    fn answer_out(&self, key: u64, chat_key: u64, offer_state: OfferOutcome) -> OfferAnswer {
        let chat_state = self
            .chats
            .get(&chat_key)
            .and_then(|r| self.view(r))
            .map_or(api::ChatState::Closed, |v| v.state);
        OfferAnswer {
            offer_id: offer_name(key),
            chat_id: chat_name(chat_key),
            offer_state,
            chat_state,
        }
    }

    /// An offer deadline passed. Stale timers (the offer was answered or the chat ended) change
    /// nothing.
    pub(crate) fn offer_timeout(&mut self, chat: ChatId, seq: OfferSeq) {
        let Some(view) = self.router.chat(chat) else {
            return;
        };
        if view.state != ChatState::Offered || view.offer != Some(seq) {
            return;
        }
        let now = self.now();
        if self
            .router
            .offer_timeout(now, chat, seq, &mut self.out)
            .is_err()
        {
            return;
        }
        if let Some(&key) = self.by_router.get(&chat)
            && let Some(offer_key) = self.chats.get(&key).and_then(|r| r.offer)
            && self
                .offers
                .get(&offer_key)
                .is_some_and(|o| o.seq == Some(seq) && o.state == OfferState::Open)
        {
            self.end_offer(offer_key, OfferState::Expired);
        }
        self.settle(now);
    }
}
