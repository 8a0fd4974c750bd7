//! The chat log: the history a chat platform exports and `chatcap fit` reads, and the file
//! `chatcap simulate --log` writes, so that a fit can be checked against a known truth. One
//! format on both sides: the columns, their meaning and the row types live here, the writer in
//! `write.rs`, the streaming reader in `read.rs`.
//!
//! A chat log is CSV with a header; columns are found by name in any order. One row per chat:
//!
//! | column | required | meaning |
//! | --- | --- | --- |
//! | `chat_id` | yes | the chat's id, unique in the file |
//! | `queue` | yes | the queue the customer contacted |
//! | `created_at` | yes | when the customer started the chat |
//! | `queued_at` | | when the chat entered the agents' queue (after a bot); `created_at` if absent |
//! | `offered_at` | | when the chat was offered to the agent who accepted it |
//! | `answered_at` | | when an agent took the chat |
//! | `first_response_at` | | the agent's first message |
//! | `closed_at` | | when the chat ended after being answered or resolved by the bot |
//! | `abandoned_at` | | when the customer left unanswered |
//! | `agent_id` | | the agent who answered |
//! | `bot_resolved` | | `true` when the bot resolved the chat |
//! | `transferred_to` | | the queue the chat was transferred to |
//! | `transferred_at` | | when the first agent handed the chat over |
//! | `transfer_answered_at` | | when the second agent took it |
//! | `transfer_agent_id` | | the second agent |
//! | `csat` | | the customer's survey score |
//!
//! Timestamps are ISO 8601 (`2026-12-07T08:00:05+01:00`, or without an offset in the reader's
//! `--timezone`). The agent log has one row per status span: `agent_id`, `group`, `status`
//! (`available`, `away` or `offline`), `from`, `to`.

pub mod read;
pub mod write;

use jiff::Timestamp;

/// The chat log's columns, in the order `simulate --log` writes them.
pub const CHAT_COLUMNS: [&str; 16] = [
    "chat_id",
    "queue",
    "created_at",
    "queued_at",
    "offered_at",
    "answered_at",
    "first_response_at",
    "closed_at",
    "abandoned_at",
    "agent_id",
    "bot_resolved",
    "transferred_to",
    "transferred_at",
    "transfer_answered_at",
    "transfer_agent_id",
    "csat",
];

/// Columns a chat log must have.
pub const REQUIRED_CHAT_COLUMNS: [&str; 3] = ["chat_id", "queue", "created_at"];

/// The agent log's columns, all required.
pub const AGENT_COLUMNS: [&str; 5] = ["agent_id", "group", "status", "from", "to"];

/// One chat, as a row of the chat log.
#[derive(Debug, Clone, PartialEq)]
pub struct ChatRow {
    /// The chat's id, unique in the file.
    pub chat_id: String,
    /// The queue the customer contacted.
    pub queue: String,
    /// When the customer started the chat.
    pub created_at: Timestamp,
    /// When the chat entered the agents' queue, after the bot.
    pub queued_at: Option<Timestamp>,
    /// When the chat was offered to the agent who accepted it.
    pub offered_at: Option<Timestamp>,
    /// When an agent took the chat.
    pub answered_at: Option<Timestamp>,
    /// The agent's first message.
    pub first_response_at: Option<Timestamp>,
    /// When the chat ended after an answer or a bot resolution.
    pub closed_at: Option<Timestamp>,
    /// When the customer left unanswered.
    pub abandoned_at: Option<Timestamp>,
    /// The agent who answered.
    pub agent_id: Option<String>,
    /// Whether the bot resolved the chat (`None`: the column is absent or empty).
    pub bot_resolved: Option<bool>,
    /// The queue the chat was transferred to.
    pub transferred_to: Option<String>,
    /// When the first agent handed the chat over.
    pub transferred_at: Option<Timestamp>,
    /// When the second agent took the transferred chat.
    pub transfer_answered_at: Option<Timestamp>,
    /// The second agent.
    pub transfer_agent_id: Option<String>,
    /// The customer's survey score.
    pub csat: Option<f64>,
}

/// An agent's status over a span of time, as a row of the agent log.
#[derive(Debug, Clone, PartialEq)]
pub struct AgentRow {
    /// The agent.
    pub agent_id: String,
    /// The agent's group.
    pub group: String,
    /// `available`, `away` or `offline`.
    pub status: String,
    /// Start of the span.
    pub from: Timestamp,
    /// End of the span.
    pub to: Timestamp,
}
