//! The vocabulary of the routing core: identifiers, configuration, the decisions it emits, the
//! read-only views it answers queries with, and its error type. Kept apart from the router so
//! drivers can read the contract without the data structures.

use std::fmt;

use super::Time;
use super::limits::MAX_CAP;
use super::policy::{AcceptMode, AgentSelection, ChatOrder, TransferPlace};

/// A queue, numbered densely from 0 in the order queues were added.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct QueueId(pub u32);

/// An agent, numbered densely from 0 in the order agents were added.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AgentId(pub u32);

/// A chat: a slot index plus a generation, so an id kept after [`super::Router::release`]
/// never aliases the chat that later reuses the slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ChatId {
    pub(crate) index: u32,
    pub(crate) generation: u32,
}

impl ChatId {
    /// The dense slot index (below the router's high-water mark of live chats), for driver-side
    /// slabs indexed like the router's own. Two live chats never share an index.
    pub fn index(self) -> usize {
        self.index as usize
    }

    /// How many times the slot was reused before this chat took it.
    pub fn generation(self) -> u32 {
        self.generation
    }
}

/// Identifies one offer of a chat. A timer armed for an older offer carries an older value and
/// is ignored by [`super::Router::offer_timeout`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct OfferSeq(pub u32);

impl fmt::Display for QueueId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "queue #{}", self.0)
    }
}

impl fmt::Display for AgentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "agent #{}", self.0)
    }
}

impl fmt::Display for ChatId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "chat #{}.{}", self.index, self.generation)
    }
}

/// The router-wide policies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RouterConfig {
    /// How an agent is picked for a chat.
    pub selection: AgentSelection,
    /// How waiting chats are ordered.
    pub order: ChatOrder,
    /// Auto assignment or offers with a timeout.
    pub accept: AcceptMode,
    /// Whether a transferred chat keeps its original place.
    pub transfer_place: TransferPlace,
}

/// One queue: the skill that serves it, its priority and an optional length limit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueConfig {
    /// Unique queue name.
    pub name: String,
    /// The skill an agent needs to take chats from this queue.
    pub skill: String,
    /// Added to every chat's own priority.
    pub priority: i32,
    /// Most chats that may wait at once; an arrival that would have to wait beyond it is
    /// rejected. `Some(0)` makes a loss system (no waiting at all). `None`: unlimited.
    pub max_len: Option<u32>,
}

/// One agent: skills with proficiency and a concurrency cap.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentConfig {
    /// Unique agent name.
    pub name: String,
    /// Skill name and proficiency 1..=10 (10 = expert); used by `most-skilled`.
    pub skills: Vec<(String, u8)>,
    /// Most chats (active plus pending offers) at once, 0..=[`MAX_CAP`].
    pub cap: u32,
}

/// The resolution recorded when the customer leaves an active chat.
pub const RESOLUTION_CUSTOMER_LEFT: u8 = u8::MAX;

/// Whether an agent takes new chats. The HTTP API writes it as it is (`api::AgentStatus`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AgentStatus {
    /// Takes new chats up to the cap.
    Available,
    /// Takes no new chats; keeps its active chats and pending offers.
    Away,
    /// Logged out; holds no chats.
    Offline,
    /// Takes no new chats; becomes `Offline` when its last chat or offer ends.
    Draining,
}

impl AgentStatus {
    /// Every status, as `POST /v1/agents/{id}/status` lists them.
    pub const ALL: [AgentStatus; 4] = [
        AgentStatus::Available,
        AgentStatus::Away,
        AgentStatus::Offline,
        AgentStatus::Draining,
    ];

    /// Lower-case name, as used in the HTTP API.
    pub fn as_str(self) -> &'static str {
        match self {
            AgentStatus::Available => "available",
            AgentStatus::Away => "away",
            AgentStatus::Offline => "offline",
            AgentStatus::Draining => "draining",
        }
    }
}

impl fmt::Display for AgentStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a chat is in its life. `Closed`, `Abandoned` and `Rejected` are terminal. The HTTP
/// API writes it as it is (`api::ChatState`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChatState {
    /// Waiting in a queue.
    Queued,
    /// Offered to one agent, who has not answered yet.
    Offered,
    /// Being handled by one agent.
    Active,
    /// Ended by the agent (or by the customer leaving an active chat).
    Closed,
    /// The customer left before an agent took the chat.
    Abandoned,
    /// Refused at arrival because the queue was full.
    Rejected,
}

impl ChatState {
    /// Lower-case name, as used in reports and the HTTP API.
    pub fn as_str(self) -> &'static str {
        match self {
            ChatState::Queued => "queued",
            ChatState::Offered => "offered",
            ChatState::Active => "active",
            ChatState::Closed => "closed",
            ChatState::Abandoned => "abandoned",
            ChatState::Rejected => "rejected",
        }
    }

    /// Whether the chat has ended for good.
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            ChatState::Closed | ChatState::Abandoned | ChatState::Rejected
        )
    }
}

impl fmt::Display for ChatState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a transfer sends an active chat.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TransferTarget {
    /// Back to waiting, in this queue.
    Queue(QueueId),
    /// Straight to this agent, who must be able to take it now.
    Agent(AgentId),
}

/// What the router decided; handed to the caller's [`Decisions`] sink in the order it happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// The chat waits in `queue` at `position` (1-based) with this estimated wait.
    Queued {
        /// The chat.
        chat: ChatId,
        /// The queue it waits in.
        queue: QueueId,
        /// 1-based place in routing order.
        position: u32,
        /// Estimated wait shown to the customer.
        estimated_wait: Time,
    },
    /// The chat is offered to `agent`; the driver calls `offer_timeout` at `deadline` unless
    /// the offer was answered first.
    Offered {
        /// The chat.
        chat: ChatId,
        /// The agent it is offered to.
        agent: AgentId,
        /// Which offer of this chat this is.
        offer: OfferSeq,
        /// When the offer lapses.
        deadline: Time,
    },
    /// The chat is now active with `agent`.
    Assigned {
        /// The chat.
        chat: ChatId,
        /// The agent handling it.
        agent: AgentId,
    },
    /// The queue was full; the chat was refused.
    Rejected {
        /// The chat.
        chat: ChatId,
        /// The full queue.
        queue: QueueId,
    },
    /// The customer left before an agent took the chat.
    Abandoned {
        /// The chat.
        chat: ChatId,
    },
    /// The chat ended; `agent` handled it last.
    Closed {
        /// The chat.
        chat: ChatId,
        /// The agent who held it.
        agent: AgentId,
    },
    /// An active chat was moved; further decisions say where it went.
    Transferred {
        /// The chat.
        chat: ChatId,
        /// The target.
        to: TransferTarget,
    },
    /// The agent missed too many offers in a row and was set away.
    AgentAway {
        /// The agent.
        agent: AgentId,
    },
    /// A draining agent's last chat ended; the agent is now offline.
    AgentOffline {
        /// The agent.
        agent: AgentId,
    },
    /// The agent's number of active chats changed.
    LoadChanged {
        /// The agent.
        agent: AgentId,
        /// Active chats now (pending offers not included).
        active: u32,
    },
}

/// Where the router puts its decisions, in the order it makes them. A `Vec<Decision>` collects
/// them for the caller to apply after the call (the server); the simulator applies each one where
/// it is made. The router is generic over the sink, so for a sink whose `push` matches on the
/// decision the match folds away at every call site.
pub trait Decisions {
    /// Whether the router forgets a chat as soon as it ends (closed, abandoned or rejected), as
    /// if [`Router::release`](super::Router::release) were called right after its decision: for
    /// a caller that keeps nothing of ended chats. Its id is unknown from then on.
    const RELEASE_ENDED: bool = false;

    /// Takes one decision.
    fn push(&mut self, decision: Decision);
}

impl Decisions for Vec<Decision> {
    #[inline(always)]
    fn push(&mut self, decision: Decision) {
        Vec::push(self, decision);
    }
}

/// A snapshot of one chat. Times are those of the latest occurrence (a transferred chat is
/// offered and answered again), except `created_at` and `first_response_at`, which are the
/// first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChatView {
    /// Current state.
    pub state: ChatState,
    /// The queue it arrived in or was last transferred to.
    pub queue: QueueId,
    /// The agent it is offered to or handled by (the last one once closed).
    pub agent: Option<AgentId>,
    /// Effective priority: queue priority plus the chat's own.
    pub priority: i32,
    /// Arrival time.
    pub created_at: Time,
    /// The time its queue order counts from (kept or re-stamped by a transfer).
    pub queued_at: Time,
    /// The latest offer (or assignment, in auto mode).
    pub offered_at: Option<Time>,
    /// When it last became active.
    pub answered_at: Option<Time>,
    /// The first agent message.
    pub first_response_at: Option<Time>,
    /// When it closed, was abandoned or rejected.
    pub closed_at: Option<Time>,
    /// How many times it was transferred.
    pub transfers: u32,
    /// The estimated wait shown when it last entered a queue to wait (arrival or transfer);
    /// `None` if it never had to wait.
    pub shown_ewt: Option<Time>,
    /// The close resolution ([`RESOLUTION_CUSTOMER_LEFT`] if the customer left).
    pub resolution: Option<u8>,
    /// Customer satisfaction given at close.
    pub csat: Option<u8>,
    /// The offer currently open, if the chat is offered.
    pub offer: Option<OfferSeq>,
    /// The deadline of the offer currently open.
    pub offer_deadline: Option<Time>,
    /// While waiting after a miss or transfer: the agent passed over until its next routing
    /// pass (see the module docs).
    pub skipped_agent: Option<AgentId>,
}

/// A snapshot of one agent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentView {
    /// Unique name.
    pub name: String,
    /// Current status.
    pub status: AgentStatus,
    /// Concurrency cap.
    pub cap: u32,
    /// Active chats.
    pub active: u32,
    /// Offers waiting for an answer (each holds a slot).
    pub pending_offers: u32,
    /// When the agent last had a chat or offer end, or last became available.
    pub idle_since: Time,
    /// Consecutive missed offers.
    pub misses: u32,
}

/// How many chats are in each state. Released chats stay counted in their terminal state.
///
/// The crate's one count of chats by state: the HTTP API sends it as `chats` in `/v1/stats`
/// (`api::ChatCounts`), and the load test compares its own with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct StateCounts {
    /// Every chat ever created (arrivals, including rejected ones).
    pub created: u64,
    /// Waiting now.
    pub queued: u64,
    /// Offered now.
    pub offered: u64,
    /// Active now.
    pub active: u64,
    /// Closed so far.
    pub closed: u64,
    /// Abandoned so far.
    pub abandoned: u64,
    /// Rejected so far.
    pub rejected: u64,
}

impl StateCounts {
    /// Sum over all states; equals `created` when the books balance.
    pub fn total_in_states(&self) -> u64 {
        self.queued + self.offered + self.active + self.closed + self.abandoned + self.rejected
    }
}

/// Why the router refused an input. Every error leaves the router unchanged.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RouteError {
    /// The chat id was never issued or its chat was released.
    #[error("unknown {0}: no such chat (never created, or released)")]
    UnknownChat(ChatId),
    /// The agent id was never issued.
    #[error("unknown {0}: no such agent (ids run from 0 below the number of agents added)")]
    UnknownAgent(AgentId),
    /// The queue id was never issued.
    #[error("unknown {0}: no such queue (ids run from 0 below the number of queues added)")]
    UnknownQueue(QueueId),
    /// The chat is not in a state where the action applies.
    #[error("cannot {action} {chat}: it is {state}")]
    InvalidState {
        /// The chat.
        chat: ChatId,
        /// Its current state.
        state: ChatState,
        /// What was attempted.
        action: &'static str,
    },
    /// The chat is offered to someone else (or not offered at all).
    #[error("{chat} is not offered to {agent}")]
    NotOfferedToAgent {
        /// The chat.
        chat: ChatId,
        /// The agent who tried to answer.
        agent: AgentId,
    },
    /// The agent's offer of this chat has lapsed (deadline passed, or it already timed out).
    #[error("the offer of {chat} to {agent} has expired")]
    OfferExpired {
        /// The chat.
        chat: ChatId,
        /// The agent whose offer lapsed.
        agent: AgentId,
    },
    /// The agent cannot take the chat now.
    #[error("{agent} cannot take a chat now: {reason}")]
    AgentUnavailable {
        /// The agent.
        agent: AgentId,
        /// Why: status or a full cap.
        reason: &'static str,
    },
    /// A transfer target queue has no room and no agent could take the chat at once.
    #[error("{queue} is full ({max_len} waiting); the chat stays where it is")]
    QueueFull {
        /// The full queue.
        queue: QueueId,
        /// Its length limit.
        max_len: u32,
    },
    /// A transfer to the agent who already holds the chat.
    #[error("{chat} is already with {agent}; transfer it to another agent or a queue")]
    TransferToSelf {
        /// The chat.
        chat: ChatId,
        /// Its agent.
        agent: AgentId,
    },
    /// A name is already taken.
    #[error("{kind} name {name:?} is already used; names must be unique")]
    DuplicateName {
        /// `queue` or `agent`.
        kind: &'static str,
        /// The name.
        name: String,
    },
    /// A name or skill is empty.
    #[error("{kind} name must not be empty")]
    EmptyName {
        /// `queue`, `agent` or `skill`.
        kind: &'static str,
    },
    /// An agent lists a skill twice.
    #[error("agent {agent:?} lists skill {skill:?} twice; list each skill once")]
    DuplicateSkill {
        /// Agent name.
        agent: String,
        /// Skill name.
        skill: String,
    },
    /// A proficiency outside 1..=10.
    #[error("agent {agent:?} skill {skill:?}: proficiency {value} is out of range; use 1..=10")]
    InvalidProficiency {
        /// Agent name.
        agent: String,
        /// Skill name.
        skill: String,
        /// The bad value.
        value: u8,
    },
    /// A cap above [`MAX_CAP`].
    #[error("agent {agent:?}: cap {cap} is too large; use 0..={MAX_CAP}")]
    InvalidCap {
        /// Agent name.
        agent: String,
        /// The bad value.
        cap: u32,
    },
    /// Lowering a cap below the chats and offers the agent holds now.
    #[error("{agent}: cap {cap} is below its current load {load}; lower it after chats end")]
    CapBelowLoad {
        /// The agent.
        agent: AgentId,
        /// The requested cap.
        cap: u32,
        /// Active chats plus pending offers.
        load: u32,
    },
    /// Too many queues, agents or live chats for 32-bit ids.
    #[error("too many {kind}: ids are 32-bit")]
    Capacity {
        /// `queues`, `agents`, `skills` or `chats`.
        kind: &'static str,
    },
}
