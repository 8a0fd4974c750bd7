//! The wire types of the HTTP API that `chatcap serve` speaks (docs/api.md): every request and
//! response body, the error body and the query strings, each with `Serialize` and
//! `Deserialize`. The server answers with these types and the load test reads them, so the
//! two cannot drift apart, and a client needs nothing of the server to speak the API.
//!
//! Types are owned (no borrowed strings), so a client deserializes them as they are. Closed
//! vocabularies (chat states, agent statuses, offer kinds...) are enums that write the
//! documented lower-case names. A figure with no data yet (e.g. a mean wait before any chat
//! was answered) is NaN in Rust and `null` in JSON, in both directions.

mod agent;
mod chat;
mod stats;

use serde::{Deserialize, Deserializer, Serialize};

pub use agent::{
    Agent, AgentStatus, Inbox, InboxEvent, InboxEventKind, Login, Offer, OfferAnswer, OfferKind,
    OfferOutcome, Skill, SkillRequest, StatusRequest,
};
pub use chat::{
    Chat, ChatState, CloseRequest, CreateChatRequest, CreatedChat, Leg, Message, MessageFrom,
    MessageRequest, Messages, Note, Resolution, TransferRequest,
};
pub use stats::{AgentCounts, ChatCounts, Latency, QueueStats, Retained, Stats};

/// Every error answer: `{"error": code, "detail": message}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// Stable snake_case code to branch on, e.g. `unknown_chat` (docs/api.md, Errors).
    pub error: String,
    /// One line for people: what is wrong and what would be right.
    pub detail: String,
}

/// Answer to `GET /healthz`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Health {
    /// Always `ok` while the server runs.
    pub status: String,
    /// Wall seconds since the server started.
    pub uptime_secs: f64,
}

/// Query of the long-poll endpoints (`GET /v1/chats/{id}/messages`,
/// `GET /v1/agents/{id}/offers`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct PollQuery {
    /// Wall seconds to wait for something new (0 or absent: answer at once).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wait: Option<f64>,
    /// Messages only: the last sequence number already seen (absent: 0).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub after: Option<u64>,
}

/// Query of `GET /v1/stats`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatsQuery {
    /// `true` adds the route-latency histogram's bucket counts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub buckets: Option<bool>,
}

/// Reads a figure written as a number, or as `null` when it is undefined (NaN).
pub(crate) fn nan_if_null<'de, D: Deserializer<'de>>(deserializer: D) -> Result<f64, D::Error> {
    Ok(Option::<f64>::deserialize(deserializer)?.unwrap_or(f64::NAN))
}
