//! The routing core's decisions applied to the desk: offer and assignment records, handling
//! legs, chat records released at their end, and every KPI tallied as the simulator tallies
//! it (a chat counts in the queue it arrived in; only its first answer is a wait sample).

use super::{Desk, OfferRecord, OfferState};
use crate::api::Resolution;
use crate::routing::{ChatId, Decision, OfferSeq, RESOLUTION_CUSTOMER_LEFT, Time};

impl Desk {
    /// Applies the decisions of the last routing call.
    pub(super) fn settle(&mut self, now: Time) {
        let mut out = std::mem::take(&mut self.out);
        for decision in out.drain(..) {
            self.apply(now, decision);
        }
        self.out = out;
    }

    fn apply(&mut self, now: Time, decision: Decision) {
        match decision {
            Decision::Queued {
                chat,
                estimated_wait,
                ..
            } => self.on_queued(chat, estimated_wait),
            Decision::Offered {
                chat,
                agent,
                offer,
                deadline,
            } => self.on_offered(now, chat, agent, offer, deadline),
            Decision::Assigned { chat, agent } => self.on_assigned(now, chat, agent),
            Decision::Rejected { chat, .. } => self.on_rejected(chat),
            Decision::Abandoned { chat } => self.on_abandoned(now, chat),
            Decision::Closed { chat, .. } => self.on_closed(now, chat),
            Decision::Transferred { chat, .. } => self.on_transferred(now, chat),
            Decision::AgentAway { agent } | Decision::AgentOffline { agent } => {
                self.bump_agent(agent);
            }
            Decision::LoadChanged { .. } => {}
        }
    }

    /// The estimated wait first shown to a chat that was never transferred is kept to score
    /// EWT accuracy at its answer.
    fn on_queued(&mut self, chat: ChatId, estimated_wait: Time) {
        let Some(&key) = self.by_router.get(&chat) else {
            return;
        };
        if let Some(rec) = self.chats.get_mut(&key)
            && !rec.transferred
            && rec.shown_ewt.is_none()
        {
            rec.shown_ewt = Some(estimated_wait);
        }
        self.bump_chat(key);
    }

    fn on_offered(
        &mut self,
        now: Time,
        chat: ChatId,
        agent: crate::routing::AgentId,
        offer: OfferSeq,
        deadline: Time,
    ) {
        let Some(&key) = self.by_router.get(&chat) else {
            return;
        };
        let offer_key = self.new_offer(OfferRecord {
            chat: key,
            router_chat: chat,
            agent,
            seq: Some(offer),
            offered_at: now,
            deadline: Some(deadline),
            delivered_at: None,
            state: OfferState::Open,
        });
        if let Some(rec) = self.chats.get_mut(&key) {
            rec.offer = Some(offer_key);
        }
        self.timers.push((deadline, chat, offer));
        self.bump_chat(key);
    }

    /// An accepted offer ends as accepted; a chat assigned without one (auto mode) gets an
    /// assignment record for the agent's inbox.
    fn on_assigned(&mut self, now: Time, chat: ChatId, agent: crate::routing::AgentId) {
        let Some(&key) = self.by_router.get(&chat) else {
            return;
        };
        self.record_answer(now, key);
        let accepted = self.chats.get(&key).and_then(|r| r.offer).filter(|o| {
            self.offers
                .get(o)
                .is_some_and(|o| o.state == OfferState::Open && o.agent == agent && o.seq.is_some())
        });
        match accepted {
            Some(offer_key) => self.end_offer(offer_key, OfferState::Accepted),
            None => {
                let offer_key = self.new_offer(OfferRecord {
                    chat: key,
                    router_chat: chat,
                    agent,
                    seq: None,
                    offered_at: now,
                    deadline: None,
                    delivered_at: None,
                    state: OfferState::Assigned,
                });
                if let Some(rec) = self.chats.get_mut(&key) {
                    rec.offer = Some(offer_key);
                }
            }
        }
        self.bump_chat(key);
    }

    fn on_rejected(&mut self, chat: ChatId) {
        let Some(key) = self.by_router.remove(&chat) else {
            return;
        };
        if let Some(rec) = self.chats.remove(&key)
            && let Some(q) = self.queues.get_mut(rec.arrival_queue)
        {
            q.tally.record_rejection();
        }
        // A rejected chat is never shown to the client; only the counts keep it.
        let _ = self.router.release(chat);
    }

    fn on_abandoned(&mut self, now: Time, chat: ChatId) {
        let Some(&key) = self.by_router.get(&chat) else {
            return;
        };
        if let Some(rec) = self.chats.get(&key)
            && !rec.transferred
        {
            let wait = self.profile_secs(now.saturating_sub(rec.created_at));
            if let Some(q) = self.queues.get_mut(rec.arrival_queue) {
                q.tally.record_abandon(wait, q.short_abandon_secs);
            }
        }
        self.withdraw_offer(key);
        self.finish(key, chat);
    }

    fn on_closed(&mut self, now: Time, chat: ChatId) {
        let Some(&key) = self.by_router.get(&chat) else {
            return;
        };
        let handle = self.end_leg(key, now);
        if let Some(rec) = self.chats.get(&key) {
            let art = self.profile_secs(now.saturating_sub(rec.created_at));
            let transferred = rec.transferred;
            let csat = self.router.chat(chat).and_then(|v| v.csat).map(f64::from);
            if let Some(q) = self.queues.get_mut(rec.arrival_queue) {
                let t = &mut q.tally;
                if let Some(handle) = handle {
                    t.record_handling(handle);
                }
                t.record_close(art, transferred, csat);
            }
        }
        self.withdraw_offer(key);
        self.finish(key, chat);
    }

    fn on_transferred(&mut self, now: Time, chat: ChatId) {
        let Some(&key) = self.by_router.get(&chat) else {
            return;
        };
        self.withdraw_offer(key);
        let handle = self.end_leg(key, now);
        if let Some(rec) = self.chats.get_mut(&key) {
            if !rec.transferred
                && let Some(q) = self.queues.get_mut(rec.arrival_queue)
            {
                q.tally.record_transfer();
            }
            if let Some(q) = self.queues.get_mut(rec.arrival_queue)
                && let Some(handle) = handle
            {
                q.tally.record_handling(handle);
            }
            rec.transferred = true;
        }
        self.bump_chat(key);
    }

    /// Ends the chat's open handling leg at `now`; its length in profile seconds.
    fn end_leg(&mut self, key: u64, now: Time) -> Option<f64> {
        let rec = self.chats.get_mut(&key)?;
        let (start, end) = rec.legs.last_mut().filter(|(_, end)| end.is_none())?;
        *end = Some(now);
        let span = now.saturating_sub(*start);
        Some(self.profile_secs(span))
    }

    /// Opens a handling leg, and tallies the first answer of a chat that was never
    /// transferred, like the simulator.
    fn record_answer(&mut self, now: Time, key: u64) {
        let Some(rec) = self.chats.get_mut(&key) else {
            return;
        };
        rec.legs.push((now, None));
        if rec.transferred || rec.answered_once {
            return;
        }
        rec.answered_once = true;
        let wait_span = now.saturating_sub(rec.created_at);
        let shown = rec.shown_ewt;
        let queue = rec.arrival_queue;
        let wait = self.profile_secs(wait_span);
        let shown = shown.map(|s| self.profile_secs(s));
        if let Some(q) = self.queues.get_mut(queue) {
            q.tally.record_answer(wait, q.threshold_secs);
            self.telemetry.observe_wait(queue, wait);
            if let Some(shown) = shown {
                q.tally.record_shown_wait(shown, wait);
            }
        }
    }

    /// A chat reached a terminal state: keep its last snapshot, release it from the routing
    /// core, and keep the record a while for GET.
    fn finish(&mut self, key: u64, chat: ChatId) {
        let view = self.router.chat(chat);
        // The chat is terminal, so releasing it cannot fail.
        let _ = self.router.release(chat);
        self.by_router.remove(&chat);
        if let Some(rec) = self.chats.get_mut(&key) {
            rec.final_view = view;
            rec.router_id = None;
            if rec.resolution.is_none()
                && view.and_then(|v| v.resolution) == Some(RESOLUTION_CUSTOMER_LEFT)
            {
                rec.resolution = Some(Resolution::CustomerLeft);
            }
            Desk::bump(&rec.changes);
        }
        self.ended_chats.push_back(key);
        while self.ended_chats.len() > self.limits.ended_kept {
            if let Some(old) = self.ended_chats.pop_front() {
                self.chats.remove(&old);
            }
        }
    }
}
