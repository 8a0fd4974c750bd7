//! The router: slabs of queues, skills, agents and chats with integer ids, plus two families of
//! indexed heaps that make every routing choice O(log n):
//!
//! - per skill, the *ready* agents (available with a free slot), keyed by the selection policy;
//! - per queue, the waiting chats, keyed by the chat order.
//!
//! A new chat looks at the top of its skill's heap; an agent with a free slot looks at the tops
//! of the few queues its skills serve. Nothing scans all agents or all chats, and nothing
//! allocates once the vectors have reached their high-water marks.
//!
//! The state and its small helpers live here; the `impl Router` blocks are split by concern:
//! setup, agents, offers, chats, estimated wait, queries and the invariant audit. Non-generic
//! helpers called from another of these files carry `#[inline]`, so that the split does not
//! change what the compiler may inline on the hot path.

mod agents;
mod audit;
mod chats;
mod ewt;
mod offers;
mod queries;
mod setup;

use std::collections::HashMap;
use std::sync::Arc;

use super::Time;
use super::heap::{IndexedHeap, NOT_IN_HEAP, Positions};
use super::limits::{MAX_CAP, MAX_PROFICIENCY};
use super::policy::{AcceptMode, AgentSelection, ChatOrder, TransferPlace};
use super::types::{
    AgentConfig, AgentId, AgentStatus, AgentView, ChatId, ChatState, ChatView, Decision, Decisions,
    OfferSeq, QueueConfig, QueueId, RESOLUTION_CUSTOMER_LEFT, RouteError, RouterConfig,
    StateCounts, TransferTarget,
};

/// "No agent" / "no chat" in the compact u32 fields.
const NONE: u32 = u32::MAX;

/// "Not yet" in the chat time fields.
const NEVER: Time = Time::MAX;

/// A chat time field as an option.
#[inline(always)]
fn when(t: Time) -> Option<Time> {
    (t != NEVER).then_some(t)
}

/// Weight of a new sample in the per-queue moving averages (1/8).
const EWMA_SHIFT: u32 = 3;

/// Order of waiting chats: lower first. Weighted: `(score, 0, seq)`; strict:
/// `(-priority, queued_at, seq)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct ChatKey {
    primary: i64,
    secondary: u64,
    seq: u64,
}

/// Order of ready agents: lower first. Ties go by the heap item, the index of the (agent,
/// skill) pair: one skill's heap holds each agent once, and pairs are numbered in agent order,
/// so that is the agent id. Two words cover every policy (most-skilled packs the proficiency
/// above the busy fraction), so a heap entry is 24 bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct AgentKey {
    a: u64,
    b: u64,
}

/// The busy fraction `(load << 32) / cap` is at most `1 << 32`: 33 bits.
const BUSY_BITS: u32 = 33;

/// One (agent, skill) pair; all agents' pairs live in one flat vector, and the ready heaps hold
/// indices into it, so recording a heap position is a single write.
#[derive(Debug, Clone, Copy)]
struct AgentSkill {
    agent: u32,
    skill: u32,
    proficiency: u8,
    /// Position in the skill's ready heap, or `NOT_IN_HEAP`.
    pos: u32,
}

#[derive(Debug, Clone)]
struct Agent {
    /// This agent's pairs: `agent_skills[first_skill..first_skill + skill_count]`.
    first_skill: u32,
    skill_count: u32,
    cap: u32,
    status: AgentStatus,
    active: u32,
    pending: u32,
    idle_since: Time,
    misses: u32,
    /// Round-robin turn: the counter value when the agent last received a chat.
    turn: u64,
}

impl Agent {
    #[inline(always)]
    fn load(&self) -> u32 {
        self.active + self.pending
    }

    #[inline(always)]
    fn is_ready(&self) -> bool {
        self.status == AgentStatus::Available && self.load() < self.cap
    }
}

#[derive(Debug, Clone, Default)]
struct Skill {
    name: String,
    queues: Vec<u32>,
    ready: IndexedHeap<AgentKey>,
    /// Sum of caps of available agents with this skill (the EWT fallback's serving slots).
    available_slots: u64,
}

#[derive(Debug, Clone)]
struct Queue {
    name: String,
    skill: u32,
    priority: i32,
    max_len: Option<u32>,
    waiting: IndexedHeap<ChatKey>,
    /// An upper bound of the keys in `waiting` (exact until a chat leaves): a chat whose key
    /// is above it sorts last, so its position is the queue length without counting.
    max_key: Option<ChatKey>,
    /// Moving average of the time between answers of waiting chats.
    answer_gap: Option<Time>,
    /// The last answer of a waiting chat, or when the queue last became non-empty.
    gap_anchor: Time,
    /// Moving average of answered-to-closed time of this queue's chats.
    handle_time: Option<Time>,
    /// Handle time to assume before any chat has closed.
    handle_time_hint: Option<Time>,
}

#[derive(Debug, Clone)]
struct Chat {
    generation: u32,
    live: bool,
    state: ChatState,
    queue: u32,
    agent: u32,
    /// The priority given at arrival, before the queue's is added.
    own_priority: i32,
    priority: i32,
    created_at: Time,
    queued_at: Time,
    /// Times as [`NEVER`] until they happen (plain words keep the slot small: it is rewritten
    /// whole for every arrival).
    offered_at: Time,
    answered_at: Time,
    first_response_at: Time,
    closed_at: Time,
    transfers: u32,
    shown_ewt: Time,
    resolution: Option<u8>,
    csat: Option<u8>,
    seq: u64,
    heap_pos: u32,
    offer: u32,
    deadline: Time,
    /// While queued: the agent passed over until its next routing pass.
    skipped: u32,
    /// The agent whose offer of this chat last lapsed (for a clear error on a late accept).
    missed_by: u32,
}

impl Chat {
    #[inline]
    fn vacant() -> Chat {
        Chat {
            generation: 0,
            live: false,
            state: ChatState::Closed,
            queue: 0,
            agent: NONE,
            own_priority: 0,
            priority: 0,
            created_at: 0,
            queued_at: 0,
            offered_at: NEVER,
            answered_at: NEVER,
            first_response_at: NEVER,
            closed_at: NEVER,
            transfers: 0,
            shown_ewt: NEVER,
            resolution: None,
            csat: None,
            seq: 0,
            heap_pos: NOT_IN_HEAP,
            offer: 0,
            deadline: 0,
            skipped: NONE,
            missed_by: NONE,
        }
    }
}

struct ChatPositions<'a>(&'a mut [Chat]);

impl Positions for ChatPositions<'_> {
    #[inline]
    fn set(&mut self, item: u32, pos: u32) {
        if let Some(chat) = self.0.get_mut(item as usize) {
            chat.heap_pos = pos;
        }
    }
}

struct SkillPositions<'a>(&'a mut [AgentSkill]);

impl Positions for SkillPositions<'_> {
    #[inline]
    fn set(&mut self, item: u32, pos: u32) {
        if let Some(pair) = self.0.get_mut(item as usize) {
            pair.pos = pos;
        }
    }
}

/// Chats released so far, per terminal state (they stay counted).
#[derive(Debug, Clone, Copy, Default)]
struct Released {
    closed: u64,
    abandoned: u64,
    rejected: u64,
}

/// The routing core. See the [module docs](super) for the rules.
#[derive(Debug, Clone)]
pub struct Router {
    config: RouterConfig,
    queues: Vec<Queue>,
    skills: Vec<Skill>,
    agents: Vec<Agent>,
    agent_skills: Vec<AgentSkill>,
    chats: Vec<Chat>,
    free_chats: Vec<u32>,
    /// Set up once and never changed by inputs: shared by every copy of the router, so that
    /// copying one (a planner's fork of a replication) costs no allocation per agent.
    names: Arc<Names>,
    counts: StateCounts,
    released: Released,
    next_seq: u64,
    next_turn: u64,
    /// Whether [`Decision::LoadChanged`] is emitted.
    load_notices: bool,
}

/// The names of queues, skills and agents, and their ids.
#[derive(Debug, Clone, Default)]
struct Names {
    queues: HashMap<String, u32>,
    skills: HashMap<String, u32>,
    agents: HashMap<String, u32>,
    /// Agent names by id.
    agent: Vec<String>,
}

#[inline]
fn time_to_i64(t: Time) -> i64 {
    i64::try_from(t).unwrap_or(i64::MAX)
}

#[inline]
fn ewma(old: Option<Time>, sample: Time) -> Time {
    match old {
        None => sample,
        Some(avg) => avg - (avg >> EWMA_SHIFT) + (sample >> EWMA_SHIFT),
    }
}

impl Router {
    /// An empty router with these policies.
    pub fn new(config: RouterConfig) -> Router {
        Router {
            config,
            queues: Vec::new(),
            skills: Vec::new(),
            agents: Vec::new(),
            agent_skills: Vec::new(),
            chats: Vec::new(),
            free_chats: Vec::new(),
            names: Arc::default(),
            counts: StateCounts::default(),
            released: Released::default(),
            next_seq: 0,
            next_turn: 0,
            load_notices: true,
        }
    }

    /// Turns [`Decision::LoadChanged`] on (the default) or off, for a driver that tracks
    /// agents' loads itself and would only skip them.
    pub fn set_load_notices(&mut self, on: bool) {
        self.load_notices = on;
    }

    /// The policies this router runs.
    pub fn config(&self) -> &RouterConfig {
        &self.config
    }

    #[inline(always)]
    fn chat_index(&self, chat: ChatId) -> Result<usize, RouteError> {
        match self.chats.get(chat.index as usize) {
            Some(c) if c.live && c.generation == chat.generation => Ok(chat.index as usize),
            _ => Err(RouteError::UnknownChat(chat)),
        }
    }

    #[inline(always)]
    fn agent_index(&self, agent: AgentId) -> Result<usize, RouteError> {
        if (agent.0 as usize) < self.agents.len() {
            Ok(agent.0 as usize)
        } else {
            Err(RouteError::UnknownAgent(agent))
        }
    }

    #[inline(always)]
    fn chat_id(&self, index: u32) -> ChatId {
        let generation = self.chats.get(index as usize).map_or(0, |c| c.generation);
        ChatId { index, generation }
    }

    #[inline(always)]
    fn count_of(&mut self, state: ChatState) -> &mut u64 {
        match state {
            ChatState::Queued => &mut self.counts.queued,
            ChatState::Offered => &mut self.counts.offered,
            ChatState::Active => &mut self.counts.active,
            ChatState::Closed => &mut self.counts.closed,
            ChatState::Abandoned => &mut self.counts.abandoned,
            ChatState::Rejected => &mut self.counts.rejected,
        }
    }

    #[inline(always)]
    fn set_state(&mut self, c: usize, state: ChatState) {
        let old = self.chats[c].state;
        *self.count_of(old) -= 1;
        *self.count_of(state) += 1;
        self.chats[c].state = state;
    }
}
