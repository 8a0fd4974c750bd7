//! The routing core: a pure, deterministic state machine that decides which waiting chat goes
//! to which agent. No clock, no randomness, no async, no I/O: every input carries `now`, and
//! outputs are [`Decision`]s handed to a caller-owned [`Decisions`] sink (timers are requested through
//! [`Decision::Offered`]'s deadline). The simulator (virtual time) and the server (wall clock)
//! drive this same code, so a forecast and a load test exercise the same routing.
//!
//! Time is an integer count of microseconds ([`Time`]).
//!
//! # Rules
//!
//! - **Routing after every input.** After each call, no available agent with a free slot sits
//!   beside a waiting chat it could take, except under the skip rule below. A new chat goes to
//!   the best ready agent of its queue's skill; an agent whose slot frees takes the best-scored
//!   chat among all queues its skills serve.
//! - **Chat order.** Weighted: score = `queued_at - priority x priority_weight`, lower first, ties
//!   by arrival sequence. Strict: higher priority first, then `queued_at`, then arrival sequence.
//!   A chat's priority is its queue's plus the one given to [`Router::arrive`].
//! - **Agent choice.** `least-busy`: lowest (active + pending) / cap, then longest idle, then
//!   lowest id. `longest-idle`: earliest `idle_since`, then id. `round-robin`: the agent that
//!   received a chat least recently (a fixed rotation, starting in id order). `most-skilled`:
//!   highest proficiency in the chat's skill, then least busy, then longest idle, then id.
//!   `idle_since` is when the agent last had a chat or offer end, or last became available.
//! - **Offers.** In offer mode an offer holds a slot until accepted, declined or timed out.
//!   Accepting at or after the deadline fails with [`RouteError::OfferExpired`]; the timeout
//!   handles it. A decline or a timeout is a *miss*: the agent's consecutive misses grow (an
//!   accept resets them), and at `misses_before_away` (0 = never) an available agent goes
//!   `Away` ([`Decision::AgentAway`]), keeping its active chats and other open offers.
//! - **Skip rule.** After a miss, the chat is re-offered at once to the best *other* ready
//!   agent. If there is none, it waits in its queue (keeping its place) with that agent marked
//!   as skipped, and the agent, if it still has a free slot, fills it with other chats only.
//!   The mark lasts until the chat is next offered; the skipped agent may take the chat on its
//!   next routing pass: when one of its chats or offers ends, its cap rises, or its status is
//!   set to `Available` (again). A transfer to a queue skips the transferring agent the same way.
//! - **Status.** Agents start `Offline`. `Draining`, or `Offline` while holding chats or offers,
//!   makes the agent `Draining`: no new chats; it becomes `Offline` with
//!   [`Decision::AgentOffline`] when the last one ends. A cap may not be lowered below the
//!   agent's current load ([`RouteError::CapBelowLoad`]).
//! - **Queue length.** `max_len` bounds the chats waiting. It is checked when a chat would have
//!   to wait on arrival (rejected) or on a transfer (refused with an error); a chat returning
//!   to its queue after a miss is never dropped.
//! - **Customer leaves.** Queued or offered: `Abandoned` (an offer's slot is freed, no miss).
//!   Active: closed with resolution [`RESOLUTION_CUSTOMER_LEFT`].
//! - **Estimated wait.** Each queue keeps a moving average (weight 1/8) of the time between
//!   answers of waiting chats, counted from the previous such answer or from when the queue
//!   last became non-empty. A chat at position `k` is shown `(k - 1) x gap + max(0, gap -
//!   time since the last answer)`. Before the first answer the fallback is
//!   `k x handle time / serving slots`: handle time is the queue's moving average of answered-to-
//!   closed times, or [`Router::set_handle_time_hint`] before any chat closed, and serving
//!   slots is the summed cap of available agents with the skill; with neither, 0. The estimate
//!   shown when a chat enters a queue to wait is kept as [`ChatView::shown_ewt`].
//! - **Errors.** Every error leaves the router unchanged. A stale offer timer returns `Ok` and
//!   changes nothing.
//!
//! # Cost
//!
//! Per skill an indexed priority queue of ready agents, per queue one of waiting chats, both over
//! `Vec`s: routing a chat or filling a slot is O(k log n) for an agent holding k skills, and O(k)
//! while chats and agents come in order and leave from the front (a FIFO queue, agents ordered
//! by idle time), when the queue is a sorted ring rather than a binary heap; no scan of all
//! agents, no allocation once vectors reach their high-water marks, no hashing outside setup and
//! name lookups. A chat joining at the back of its queue learns its position in O(1); one that
//! sorts ahead of others (higher priority, transfer keeping its place) and the `position` query
//! cost O(log n) in the ring and O(queue length) in the heap.

mod heap;
pub(crate) mod limits;
pub(crate) mod policy;
mod router;
mod types;

pub use limits::{MAX_CAP, MAX_PROFICIENCY};
pub use policy::{AcceptMode, AgentSelection, ChatOrder, TransferPlace};
pub use router::Router;
pub use types::{
    AgentConfig, AgentId, AgentStatus, AgentView, ChatId, ChatState, ChatView, Decision, Decisions,
    OfferSeq, QueueConfig, QueueId, RESOLUTION_CUSTOMER_LEFT, RouteError, RouterConfig,
    StateCounts, TransferTarget,
};

/// A point in time or a span, in microseconds.
pub type Time = u64;

/// One second in [`Time`] units.
pub const SECOND: Time = 1_000_000;
