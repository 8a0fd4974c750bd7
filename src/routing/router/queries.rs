//! Read-only queries: snapshots of chats and agents, positions, counts and name lookups, for
//! drivers and tests; none of them changes the router.

use super::{
    AgentId, AgentView, ChatId, ChatState, ChatView, NONE, OfferSeq, QueueId, Router, StateCounts,
    Time, when,
};

impl Router {
    /// A snapshot of a chat, or `None` if unknown or released.
    pub fn chat(&self, chat: ChatId) -> Option<ChatView> {
        let c = self.chat_index(chat).ok()?;
        let entry = &self.chats[c];
        let agent_of = |a: u32| (a != NONE).then_some(AgentId(a));
        let offered = entry.state == ChatState::Offered;
        Some(ChatView {
            state: entry.state,
            queue: QueueId(entry.queue),
            agent: agent_of(entry.agent),
            priority: entry.priority,
            created_at: entry.created_at,
            queued_at: entry.queued_at,
            offered_at: when(entry.offered_at),
            answered_at: when(entry.answered_at),
            first_response_at: when(entry.first_response_at),
            closed_at: when(entry.closed_at),
            transfers: entry.transfers,
            shown_ewt: when(entry.shown_ewt),
            resolution: entry.resolution,
            csat: entry.csat,
            offer: offered.then_some(OfferSeq(entry.offer)),
            offer_deadline: offered.then_some(entry.deadline),
            skipped_agent: agent_of(entry.skipped),
        })
    }

    /// A snapshot of an agent, or `None` if unknown.
    pub fn agent(&self, agent: AgentId) -> Option<AgentView> {
        let entry = self.agents.get(agent.0 as usize)?;
        Some(AgentView {
            name: self.names.agent[agent.0 as usize].clone(),
            status: entry.status,
            cap: entry.cap,
            active: entry.active,
            pending_offers: entry.pending,
            idle_since: entry.idle_since,
            misses: entry.misses,
        })
    }

    /// 1-based place of a queued chat in its queue, by routing order (O(log n) while the queue is
    /// in order, O(queue length) otherwise).
    pub fn position(&self, chat: ChatId) -> Option<u32> {
        let c = self.chat_index(chat).ok()?;
        (self.chats[c].state == ChatState::Queued).then(|| self.position_of(c))
    }

    /// The estimated remaining wait of a queued chat (see the module docs for the estimator).
    pub fn estimated_wait(&self, now: Time, chat: ChatId) -> Option<Time> {
        let c = self.chat_index(chat).ok()?;
        let entry = &self.chats[c];
        (entry.state == ChatState::Queued)
            .then(|| self.estimate(now, entry.queue as usize, self.position_of(c)))
    }

    /// How many chats are in each state.
    pub fn counts(&self) -> StateCounts {
        self.counts
    }

    /// Chats waiting in the queue (0 for an unknown queue).
    pub fn queue_len(&self, q: QueueId) -> usize {
        self.queues
            .get(q.0 as usize)
            .map_or(0, |queue| queue.waiting.len())
    }

    /// The queue with this name.
    pub fn queue_id(&self, name: &str) -> Option<QueueId> {
        self.names.queues.get(name).map(|&q| QueueId(q))
    }

    /// The agent with this name.
    pub fn agent_id(&self, name: &str) -> Option<AgentId> {
        self.names.agents.get(name).map(|&a| AgentId(a))
    }

    /// The queue's name.
    pub fn queue_name(&self, q: QueueId) -> Option<&str> {
        self.queues
            .get(q.0 as usize)
            .map(|queue| queue.name.as_str())
    }

    /// Number of queues added.
    pub fn num_queues(&self) -> usize {
        self.queues.len()
    }

    /// Number of agents added.
    pub fn num_agents(&self) -> usize {
        self.agents.len()
    }

    /// One past the highest chat slot index in use so far (size for driver-side slabs).
    pub fn chat_capacity(&self) -> usize {
        self.chats.len()
    }
}
