//! The router's decisions applied to the day: the day is the router's [`Decisions`] sink, so
//! each decision takes effect where the router makes it, with no buffer. One method per family
//! (offers, answers, ends, transfers, queueing), each inlined into the one `match`, and each
//! writing the customer's KPIs through the queue tally's `record_*` methods.

use crate::routing::{AgentId, ChatId, Decision, Decisions, OfferSeq, Time};
use crate::scenario::{to_secs, to_time};

use super::super::Observer;
use super::super::events::Event;
use super::DayState;

impl<O: Observer> Decisions for DayState<'_, O> {
    const RELEASE_ENDED: bool = true;

    #[inline(always)]
    fn push(&mut self, decision: Decision) {
        self.observer.decision(self.now, &decision);
        self.apply(decision);
    }
}

impl<O: Observer> DayState<'_, O> {
    /// Applies one decision of the router (which never calls back: the router is busy).
    #[inline(always)]
    fn apply(&mut self, decision: Decision) {
        match decision {
            Decision::Offered {
                chat,
                agent,
                offer,
                deadline,
            } => self.offered(chat, agent, offer, deadline),
            Decision::Assigned { chat, agent } => self.assigned(chat, agent),
            Decision::Rejected { chat, .. } => self.rejected(chat),
            Decision::Abandoned { chat } => self.abandoned(chat),
            Decision::Closed { chat, .. } => self.closed(chat),
            Decision::Transferred { chat, .. } => self.transferred(chat),
            Decision::AgentAway { agent } => {
                let back = Event::AgentBack { agent };
                self.events.push_after(self.now, self.sc.away_return, back);
            }
            Decision::Queued {
                chat,
                estimated_wait,
                ..
            } => self.queued(chat, estimated_wait),
            Decision::LoadChanged { .. } | Decision::AgentOffline { .. } => {}
        }
    }

    /// An offer holds a slot of `agent` until `deadline`: the agent accepts after a sampled
    /// delay, unless the offer times out first. Only the earlier of the two is scheduled: an
    /// accept due before the deadline always ends the offer (if it is still open, the accept
    /// succeeds), so its timeout could only ever be skipped.
    #[inline(always)]
    fn offered(&mut self, chat: ChatId, agent: AgentId, offer: OfferSeq, deadline: Time) {
        let now = self.now;
        let Some(r) = self.record_of(chat) else {
            return;
        };
        self.records[r as usize].offer = offer;
        self.records[r as usize].offered_to = agent.0;
        let q = self.records[r as usize].queue as usize;
        let delay = match &self.sc.queues[q].accept_delay {
            Some(d) => to_time(d.sample(&mut self.agent_rng)),
            None => 0,
        };
        let accepted = delay < deadline.saturating_sub(now);
        // The customer may give up before the accept, or the offer may lapse.
        let rec = &self.records[r as usize];
        if !accepted || rec.queued_at.saturating_add(rec.patience) <= now.saturating_add(delay) {
            self.arm_patience(r, chat);
        }
        if accepted {
            self.events
                .push_after(now, delay, Event::AcceptDue { chat, offer });
        } else {
            self.events
                .push(deadline, Event::OfferTimeout { chat, offer });
        }
    }

    /// `agent` answers the chat: its wait is tallied (once, on its first leg) and its work
    /// starts.
    #[inline(always)]
    fn assigned(&mut self, chat: ChatId, agent: AgentId) {
        let now = self.now;
        let Some(r) = self.record_of(chat) else {
            return;
        };
        let rec = &mut self.records[r as usize];
        rec.answered_at = now;
        rec.last_update = now;
        rec.agent = agent.0;
        if !rec.transferred {
            let first_response = rec.has_first_response.then_some(rec.first_response);
            if rec.counted {
                let shown = rec.has_shown_ewt.then_some(rec.shown_ewt);
                let (tally, queue, queued_at) = (rec.tally, rec.queue, rec.queued_at);
                if now == queued_at && shown.is_none() {
                    // Answered on arrival, the common case of a staffed queue.
                    self.tally(tally).record_immediate_answer();
                } else {
                    let wait = to_secs(now - queued_at);
                    let threshold = self.sc.queues[queue as usize].threshold_secs;
                    let t = self.tally(tally);
                    t.record_answer(wait, threshold);
                    if let Some(shown) = shown {
                        t.record_shown_wait(to_secs(shown), wait);
                    }
                }
            }
            // Without a first-response model (no delay drawn) the answer is the first
            // message: its FRT is the wait, copied from the waits at the end.
            if let Some(delay) = first_response {
                self.events
                    .push_after(now, delay, Event::FirstResponse { chat });
            }
        }
        self.add_chat(agent.0, r);
    }

    /// A full queue refused the chat.
    #[inline(always)]
    fn rejected(&mut self, chat: ChatId) {
        let Some(r) = self.record_of(chat) else {
            return;
        };
        let rec = &self.records[r as usize];
        if rec.counted {
            let tally = rec.tally;
            self.tally(tally).record_rejection();
        }
        self.free_record(r);
    }

    /// The customer left before an answer (or during an offer).
    #[inline(always)]
    fn abandoned(&mut self, chat: ChatId) {
        let Some(r) = self.record_of(chat) else {
            return;
        };
        let rec = &self.records[r as usize];
        let (tally, queue, agent) = (rec.tally, rec.queue, rec.agent);
        if rec.counted && !rec.transferred {
            let wait = to_secs(self.now - rec.queued_at);
            let short = self.sc.queues[queue as usize].short_abandon_secs;
            self.tally(tally).record_abandon(wait, short);
        }
        if agent != u32::MAX {
            self.remove_chat(agent, r);
        }
        self.free_record(r);
    }

    /// The agent closed the chat: its last handling leg, its resolution time and its survey.
    #[inline(always)]
    fn closed(&mut self, chat: ChatId) {
        let now = self.now;
        let Some(r) = self.record_of(chat) else {
            return;
        };
        // A chat closed before its first-response time had its first message at close.
        self.record_first_response(r);
        let agent = self.records[r as usize].agent;
        self.remove_chat(agent, r);
        let rec = &self.records[r as usize];
        let (tally, queue, transferred) = (rec.tally, rec.queue, rec.transferred);
        let (arrived_at, queued_at, answered_at) = (rec.arrived_at, rec.queued_at, rec.answered_at);
        let model = &self.sc.queues[queue as usize];
        let csat = model.csat.as_ref().and_then(|c| {
            (rec.csat_draw < c.response_share)
                .then(|| c.score_after(to_secs(answered_at.max(queued_at) - queued_at)))
        });
        self.observer.closed(now, chat, csat);
        if self.records[r as usize].counted {
            let t = self.tally(tally);
            t.record_handling(to_secs(now - answered_at));
            t.record_close(to_secs(now - arrived_at), transferred, csat);
        }
        self.free_record(r);
    }

    /// The chat moved to another queue: its leg with this agent ends, and the work of the
    /// next leg replaces what was left.
    #[inline(always)]
    fn transferred(&mut self, chat: ChatId) {
        let now = self.now;
        let Some(r) = self.record_of(chat) else {
            return;
        };
        let agent = self.records[r as usize].agent;
        self.remove_chat(agent, r);
        let rec = &self.records[r as usize];
        if rec.counted {
            let (tally, answered_at) = (rec.tally, rec.answered_at);
            let t = self.tally(tally);
            t.record_transfer();
            t.record_handling(to_secs(now - answered_at));
        }
        let rec = &mut self.records[r as usize];
        rec.transferred = true;
        rec.agent = u32::MAX;
        rec.work = rec.work_after_transfer;
        rec.generation = rec.generation.wrapping_add(1);
    }

    /// The chat waits: the estimated wait shown first is kept, to compare with the actual wait.
    #[inline(always)]
    fn queued(&mut self, chat: ChatId, estimated_wait: Time) {
        if let Some(r) = self.record_of(chat) {
            self.arm_patience(r, chat);
            let rec = &mut self.records[r as usize];
            if !rec.transferred && !rec.has_shown_ewt {
                rec.shown_ewt = estimated_wait;
                rec.has_shown_ewt = true;
            }
        }
    }

    /// Schedules the end of record `r`'s customer's patience, once, when their chat may still
    /// be waiting then: as it queues, or as it is offered when the customer may give up before
    /// the accept or the offer may lapse. A chat answered at once (the common case of a staffed
    /// queue) never schedules it: the event would only ever be skipped. Events keep the order
    /// an event scheduled at queue entry would have had, since nothing else is scheduled
    /// between the entry and these decisions. A transferred chat does not abandon.
    #[inline(always)]
    pub(super) fn arm_patience(&mut self, r: u32, chat: ChatId) {
        let rec = &mut self.records[r as usize];
        if rec.has_patience && !rec.patience_armed && !rec.transferred {
            rec.patience_armed = true;
            let at = rec.queued_at.saturating_add(rec.patience);
            self.events.push(at, Event::Patience { chat });
        }
    }

    /// Records the first agent message of a chat, once. Queues without a first-response model
    /// answer with a message (FRT = wait): their FRT figures are copied from the waits at the end.
    #[inline(always)]
    pub(super) fn record_first_response(&mut self, r: u32) {
        // A delay is drawn at arrival exactly when the customer's queue models one.
        if self.records[r as usize].has_first_response {
            self.record_modelled_first_response(r);
        }
    }

    #[inline]
    fn record_modelled_first_response(&mut self, r: u32) {
        let rec = &mut self.records[r as usize];
        if std::mem::replace(&mut rec.responded, true) {
            return;
        }
        let chat = rec.chat;
        self.observer.first_response(self.now, chat);
        let rec = &self.records[r as usize];
        if rec.counted && !rec.transferred {
            let tally = rec.tally;
            let frt = to_secs(self.now - rec.queued_at);
            self.tally(tally).record_first_response(frt);
        }
    }
}
