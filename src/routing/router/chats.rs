//! Chats: arrival, waiting in a queue, first response, close, leave, transfer and release; the
//! life of a chat from its first input to the slot it frees.

use super::{
    AgentId, AgentStatus, Chat, ChatId, ChatKey, ChatOrder, ChatPositions, ChatState, Decision,
    Decisions, NEVER, NONE, QueueId, RESOLUTION_CUSTOMER_LEFT, RouteError, Router, Time,
    TransferPlace, TransferTarget, ewma, time_to_i64, when,
};

impl Router {
    #[inline(always)]
    pub(super) fn chat_key(&self, c: &Chat) -> ChatKey {
        match self.config.order {
            ChatOrder::Weighted { priority_weight } => {
                let weight = time_to_i64(priority_weight);
                let boost = i64::from(c.priority).saturating_mul(weight);
                ChatKey {
                    primary: time_to_i64(c.queued_at).saturating_sub(boost),
                    secondary: 0,
                    seq: c.seq,
                }
            }
            ChatOrder::Strict => ChatKey {
                primary: -i64::from(c.priority),
                secondary: c.queued_at,
                seq: c.seq,
            },
        }
    }

    /// The id [`Router::arrive`] will give the next chat, so that a caller can file what it
    /// knows of the customer under that id before the decisions about the chat come.
    #[inline(always)]
    pub fn next_chat(&self) -> ChatId {
        match self.free_chats.last() {
            Some(&index) => self.chat_id(index),
            None => ChatId {
                index: u32::try_from(self.chats.len()).unwrap_or(NONE),
                generation: Chat::vacant().generation,
            },
        }
    }

    /// A chat arrives in `queue` with its own `priority` (added to the queue's). It goes to the
    /// best ready agent at once, or waits; if it would have to wait in a full queue it is
    /// created `Rejected` (and [`Decision::Rejected`] is emitted).
    pub fn arrive(
        &mut self,
        now: Time,
        queue: QueueId,
        priority: i32,
        out: &mut impl Decisions,
    ) -> Result<ChatId, RouteError> {
        let q = queue.0 as usize;
        let Some(queue_entry) = self.queues.get(q) else {
            return Err(RouteError::UnknownQueue(queue));
        };
        let total_priority = queue_entry.priority.saturating_add(priority);
        let chat = self.next_chat();
        if chat.index == NONE {
            return Err(RouteError::Capacity { kind: "chats" });
        }
        if self.free_chats.pop().is_none() {
            self.chats.push(Chat::vacant());
        }
        self.next_seq += 1;
        let (c, generation) = (chat.index as usize, chat.generation);
        self.chats[c] = Chat {
            generation,
            live: true,
            state: ChatState::Queued,
            queue: q as u32,
            own_priority: priority,
            priority: total_priority,
            created_at: now,
            queued_at: now,
            seq: self.next_seq,
            ..Chat::vacant()
        };
        self.counts.created += 1;
        self.counts.queued += 1;
        match self.best_agent(q, NONE) {
            Some(a) => {
                self.give(now, c, a, out);
                self.refresh_agent(a);
            }
            None => {
                let full = self.queues[q]
                    .max_len
                    .is_some_and(|max| self.queues[q].waiting.len() >= max as usize);
                if full {
                    self.set_state(c, ChatState::Rejected);
                    self.chats[c].closed_at = now;
                    self.report_end(c, Decision::Rejected { chat, queue }, out);
                } else {
                    self.enqueue(now, c, NONE, true, out);
                }
            }
        }
        Ok(chat)
    }

    /// Puts chat `c` into its queue's waiting heap and reports its place.
    #[inline(always)]
    fn enqueue(&mut self, now: Time, c: usize, skipped: u32, show: bool, out: &mut impl Decisions) {
        let q = self.chats[c].queue as usize;
        let key = self.chat_key(&self.chats[c]);
        if self.queues[q].waiting.len() == 0 {
            let queue = &mut self.queues[q];
            queue.gap_anchor = queue.gap_anchor.max(now);
        }
        self.set_state(c, ChatState::Queued);
        let chat = &mut self.chats[c];
        chat.agent = NONE;
        chat.skipped = skipped;
        let chat_id = ChatId {
            index: c as u32,
            generation: chat.generation,
        };
        let queue = &mut self.queues[q];
        let bound = if queue.waiting.len() == 0 {
            None
        } else {
            queue.max_key
        };
        let sorts_last = bound.is_none_or(|max| key > max);
        queue.max_key = Some(bound.map_or(key, |max| max.max(key)));
        queue
            .waiting
            .push(key, c as u32, &mut ChatPositions(&mut self.chats));
        // Arrivals in FIFO order sort last: O(1). Out-of-order keys (a higher priority, a
        // transfer keeping its place) are counted, O(log n) in a ring, O(queue length) in a heap.
        let position = if sorts_last {
            u32::try_from(self.queues[q].waiting.len()).unwrap_or(u32::MAX)
        } else {
            self.position_of(c)
        };
        let estimated_wait = self.estimate(now, q, position);
        if show {
            self.chats[c].shown_ewt = estimated_wait;
        }
        out.push(Decision::Queued {
            chat: chat_id,
            queue: QueueId(q as u32),
            position,
            estimated_wait,
        });
    }

    /// Routes chat `c` of its queue: to the best ready agent other than `exclude`, or to wait.
    #[inline(always)]
    pub(super) fn place(
        &mut self,
        now: Time,
        c: usize,
        exclude: u32,
        show: bool,
        out: &mut impl Decisions,
    ) {
        let q = self.chats[c].queue as usize;
        match self.best_agent(q, exclude) {
            Some(a) => {
                self.give(now, c, a, out);
                self.refresh_agent(a);
            }
            None => self.enqueue(now, c, exclude, show, out),
        }
    }

    /// Records the agent's first message in an active chat (later calls keep the first time).
    pub fn first_response(
        &mut self,
        now: Time,
        chat: ChatId,
        _out: &mut impl Decisions,
    ) -> Result<(), RouteError> {
        let c = self.chat_index(chat)?;
        let entry = &mut self.chats[c];
        if entry.state != ChatState::Active {
            return Err(RouteError::InvalidState {
                chat,
                state: entry.state,
                action: "respond to",
            });
        }
        if entry.first_response_at == NEVER {
            entry.first_response_at = now;
        }
        Ok(())
    }

    /// The agent closes an active chat with a resolution code and optional CSAT; its slot is
    /// refilled at once.
    pub fn close(
        &mut self,
        now: Time,
        chat: ChatId,
        resolution: u8,
        csat: Option<u8>,
        out: &mut impl Decisions,
    ) -> Result<(), RouteError> {
        let c = self.chat_index(chat)?;
        let state = self.chats[c].state;
        if state != ChatState::Active {
            return Err(RouteError::InvalidState {
                chat,
                state,
                action: "close",
            });
        }
        self.finish(now, c, resolution, csat, out);
        Ok(())
    }

    #[inline(always)]
    /// Closes active chat `c` and refills its agent's slot.
    fn finish(
        &mut self,
        now: Time,
        c: usize,
        resolution: u8,
        csat: Option<u8>,
        out: &mut impl Decisions,
    ) {
        // Written out rather than through `detach` and `set_state`: the chat is known to be
        // active, and one pass over it keeps this hot path short.
        let entry = &mut self.chats[c];
        debug_assert_eq!(entry.state, ChatState::Active);
        let a = entry.agent as usize;
        let chat = ChatId {
            index: c as u32,
            generation: entry.generation,
        };
        let (q, answered_at) = (entry.queue as usize, entry.answered_at);
        entry.state = ChatState::Closed;
        entry.closed_at = now;
        entry.resolution = Some(resolution);
        entry.csat = csat;
        self.counts.active -= 1;
        self.counts.closed += 1;
        let agent = &mut self.agents[a];
        agent.active -= 1;
        let active = agent.active;
        let agent = AgentId(a as u32);
        self.report_end(c, Decision::Closed { chat, agent }, out);
        self.notify_load(agent, active, out);
        if let Some(answered) = when(answered_at) {
            let queue = &mut self.queues[q];
            queue.handle_time = Some(ewma(queue.handle_time, now.saturating_sub(answered)));
        }
        self.slot_freed(now, a, NONE, out);
    }

    /// The customer leaves: a queued or offered chat is abandoned (an offer's slot is freed, and
    /// it is no miss); an active chat is closed with [`RESOLUTION_CUSTOMER_LEFT`].
    pub fn leave(
        &mut self,
        now: Time,
        chat: ChatId,
        out: &mut impl Decisions,
    ) -> Result<(), RouteError> {
        let c = self.chat_index(chat)?;
        match self.chats[c].state {
            ChatState::Queued => {
                let q = self.chats[c].queue as usize;
                let pos = self.chats[c].heap_pos;
                self.queues[q]
                    .waiting
                    .remove_at(pos, &mut ChatPositions(&mut self.chats));
                self.abandon(now, c, out);
            }
            ChatState::Offered => {
                let a = self.detach(c, out);
                self.abandon(now, c, out);
                self.slot_freed(now, a, NONE, out);
            }
            ChatState::Active => self.finish(now, c, RESOLUTION_CUSTOMER_LEFT, None, out),
            state => {
                return Err(RouteError::InvalidState {
                    chat,
                    state,
                    action: "leave",
                });
            }
        }
        Ok(())
    }

    #[inline(always)]
    fn abandon(&mut self, now: Time, c: usize, out: &mut impl Decisions) {
        self.set_state(c, ChatState::Abandoned);
        let entry = &mut self.chats[c];
        entry.agent = NONE;
        entry.skipped = NONE;
        entry.closed_at = now;
        let chat = self.chat_id(c as u32);
        self.report_end(c, Decision::Abandoned { chat }, out);
    }

    /// Moves an active chat. To a queue: it waits there (keeping its original place with
    /// [`TransferPlace::Keep`], re-stamped with `Reset`), routed at once to another agent if one
    /// is ready; the transferring agent is skipped like after a miss. A full target queue with
    /// no agent ready fails with [`RouteError::QueueFull`]. To an agent: offered or assigned to
    /// that agent, who must be available with a free slot ([`RouteError::AgentUnavailable`]);
    /// its skills are not checked, since the sender named it. The chat keeps its queue.
    pub fn transfer(
        &mut self,
        now: Time,
        chat: ChatId,
        to: TransferTarget,
        out: &mut impl Decisions,
    ) -> Result<(), RouteError> {
        let c = self.chat_index(chat)?;
        let state = self.chats[c].state;
        if state != ChatState::Active {
            return Err(RouteError::InvalidState {
                chat,
                state,
                action: "transfer",
            });
        }
        let from = self.chats[c].agent;
        match to {
            TransferTarget::Queue(queue) => {
                let q = queue.0 as usize;
                let Some(target) = self.queues.get(q) else {
                    return Err(RouteError::UnknownQueue(queue));
                };
                if let Some(max_len) = target.max_len
                    && target.waiting.len() >= max_len as usize
                    && self.best_agent(q, from).is_none()
                {
                    return Err(RouteError::QueueFull { queue, max_len });
                }
                let priority = target.priority;
                out.push(Decision::Transferred { chat, to });
                let a = self.detach(c, out);
                self.next_seq += 1;
                let seq = self.next_seq;
                let entry = &mut self.chats[c];
                entry.transfers += 1;
                entry.queue = q as u32;
                entry.priority = priority.saturating_add(entry.own_priority);
                if self.config.transfer_place == TransferPlace::Reset {
                    entry.queued_at = now;
                    entry.seq = seq;
                }
                self.refresh_agent(a);
                self.place(now, c, a as u32, true, out);
                self.slot_freed(now, a, c as u32, out);
            }
            TransferTarget::Agent(agent) => {
                let b = self.agent_index(agent)?;
                if b as u32 == from {
                    return Err(RouteError::TransferToSelf { chat, agent });
                }
                let target = &self.agents[b];
                let reason = match target.status {
                    AgentStatus::Available if target.load() < target.cap => None,
                    AgentStatus::Available => Some("its cap is full"),
                    AgentStatus::Away => Some("it is away"),
                    AgentStatus::Offline => Some("it is offline"),
                    AgentStatus::Draining => Some("it is draining"),
                };
                if let Some(reason) = reason {
                    return Err(RouteError::AgentUnavailable { agent, reason });
                }
                out.push(Decision::Transferred { chat, to });
                let a = self.detach(c, out);
                self.chats[c].transfers += 1;
                self.give(now, c, b, out);
                self.refresh_agent(b);
                self.slot_freed(now, a, NONE, out);
            }
        }
        Ok(())
    }

    /// Forgets a terminal chat and frees its slot for reuse; its id becomes unknown. Counts
    /// keep it.
    pub fn release(&mut self, chat: ChatId) -> Result<(), RouteError> {
        let c = self.chat_index(chat)?;
        let state = self.chats[c].state;
        if !self.forget(c) {
            return Err(RouteError::InvalidState {
                chat,
                state,
                action: "release",
            });
        }
        Ok(())
    }

    /// Frees chat `c`'s slot for reuse, counting it released, if it has ended (else false and
    /// nothing changes); its id becomes unknown.
    #[inline(always)]
    fn forget(&mut self, c: usize) -> bool {
        let entry = &mut self.chats[c];
        match entry.state {
            ChatState::Closed => self.released.closed += 1,
            ChatState::Abandoned => self.released.abandoned += 1,
            ChatState::Rejected => self.released.rejected += 1,
            _ => return false,
        }
        // A dead slot is never read until `arrive` rewrites it whole: only the liveness and the
        // generation (which invalidates old ids) change here.
        entry.generation = entry.generation.wrapping_add(1);
        entry.live = false;
        self.free_chats.push(c as u32);
        true
    }

    /// Reports the end of chat `c` (closed, abandoned or rejected) and, for a sink that keeps
    /// nothing of ended chats, releases it at once.
    #[inline(always)]
    fn report_end<D: Decisions>(&mut self, c: usize, decision: Decision, out: &mut D) {
        out.push(decision);
        if D::RELEASE_ENDED {
            let ended = self.forget(c);
            debug_assert!(ended, "chat {c} reported ended while still open");
        }
    }
}
