//! Chat bodies: starting a chat, its view, messages, closing and transferring it.

use serde::{Deserialize, Serialize};

/// A chat's state (docs/api.md, Chat lifecycle): the routing core's own, written in snake case.
pub use crate::routing::ChatState;

/// How a chat was closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Resolution {
    /// The customer's matter is settled.
    Resolved,
    /// It is not.
    Unresolved,
    /// Handed to someone outside chat.
    Escalated,
    /// The same matter is handled in another chat.
    Duplicate,
    /// Not a real customer.
    Spam,
    /// Anything else.
    Other,
    /// The customer left the chat while it was active (never given by an agent).
    CustomerLeft,
}

impl Resolution {
    /// The resolutions an agent may close a chat with, as `POST /v1/chats/{id}/close` lists them.
    pub const CLOSING: [Resolution; 6] = [
        Resolution::Resolved,
        Resolution::Unresolved,
        Resolution::Escalated,
        Resolution::Duplicate,
        Resolution::Spam,
        Resolution::Other,
    ];

    /// The name the API writes, e.g. `resolved`.
    pub fn as_str(self) -> &'static str {
        match self {
            Resolution::Resolved => "resolved",
            Resolution::Unresolved => "unresolved",
            Resolution::Escalated => "escalated",
            Resolution::Duplicate => "duplicate",
            Resolution::Spam => "spam",
            Resolution::Other => "other",
            Resolution::CustomerLeft => "customer_left",
        }
    }
}

/// Who wrote a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MessageFrom {
    /// The chat's customer.
    Customer,
    /// The agent holding the chat.
    Agent,
}

/// `POST /v1/chats`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateChatRequest {
    /// Queue name from the profile.
    pub queue: String,
    /// Free-form customer reference (at most 128 characters).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer: Option<String>,
    /// Added to the queue's priority (-1000..=1000).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub priority: Option<i32>,
}

/// `POST /v1/chats/{id}/messages`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MessageRequest {
    /// The message text (1..=limit characters).
    pub text: String,
}

/// `POST /v1/chats/{id}/close`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CloseRequest {
    /// One of [`Resolution::CLOSING`], by name (text, so the server can name a wrong one).
    pub resolution: String,
    /// Customer satisfaction 1..=5.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub csat: Option<u8>,
}

impl CloseRequest {
    /// A close with `resolution` and an optional score.
    pub fn new(resolution: Resolution, csat: Option<u8>) -> CloseRequest {
        CloseRequest {
            resolution: resolution.as_str().to_string(),
            csat,
        }
    }
}

/// `POST /v1/chats/{id}/transfer`: exactly one of `queue` and `agent`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TransferRequest {
    /// Target queue name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub queue: Option<String>,
    /// Target agent id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agent: Option<String>,
    /// Handover note for the next agent (at most the message limit).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// Answer to `POST /v1/chats`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CreatedChat {
    /// Chat id, e.g. `"c-17"`.
    pub id: String,
    /// The chat token that guards customer calls.
    pub token: String,
    /// Queue name.
    pub queue: String,
    /// `queued`, `offered` or `active`.
    pub state: ChatState,
    /// 1-based place in the queue; 0 when not waiting.
    pub position: u32,
    /// Estimated wait in profile seconds; 0 when not waiting.
    pub estimated_wait_secs: f64,
}

/// A handover note.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Note {
    /// The agent who transferred the chat.
    pub from_agent: Option<String>,
    /// `queue:<name>` or `agent:<id>`.
    pub to: String,
    /// The note.
    pub note: String,
    /// Unix time, seconds.
    pub at: f64,
}

/// One stretch of a chat with one agent.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Leg {
    /// When the agent answered it (accept or assignment), Unix seconds.
    pub answered_at: f64,
    /// When it was closed or transferred away; `null` while active.
    pub ended_at: Option<f64>,
}

/// Answer to `GET /v1/chats/{id}` and to actions on a chat.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Chat {
    /// Chat id.
    pub id: String,
    /// Current queue.
    pub queue: String,
    /// Customer reference given at creation.
    pub customer: Option<String>,
    /// Effective priority (queue plus chat).
    pub priority: i32,
    /// Chat state.
    pub state: ChatState,
    /// 1-based place in the queue; 0 when not waiting.
    pub position: u32,
    /// Estimated remaining wait, profile seconds; 0 when not waiting.
    pub estimated_wait_secs: f64,
    /// The agent it is offered to or handled by (the last one once closed).
    pub agent: Option<String>,
    /// When it arrived, Unix seconds (as every `*_at`).
    pub created_at: f64,
    /// When its queue order counts from.
    pub queued_at: f64,
    /// Latest offer or assignment.
    pub offered_at: Option<f64>,
    /// Latest answer (accept or assignment).
    pub answered_at: Option<f64>,
    /// First agent message.
    pub first_response_at: Option<f64>,
    /// Closed, abandoned or rejected.
    pub closed_at: Option<f64>,
    /// Transfers so far.
    pub transfers: u32,
    /// Close resolution.
    pub resolution: Option<Resolution>,
    /// CSAT given at close.
    pub csat: Option<u8>,
    /// Messages so far.
    pub messages: u64,
    /// Handling legs, oldest first: one per agent answer (AHT is their mean length).
    pub legs: Vec<Leg>,
    /// Handover notes (agent callers only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<Vec<Note>>,
}

/// One chat message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    /// 1-based sequence number within the chat.
    pub seq: u64,
    /// Who wrote it.
    pub from: MessageFrom,
    /// The agent's id for agent messages.
    pub agent: Option<String>,
    /// The text.
    pub text: String,
    /// Unix time, seconds.
    pub sent_at: f64,
}

/// Answer to `GET /v1/chats/{id}/messages`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Messages {
    /// Chat id.
    pub chat_id: String,
    /// Chat state now.
    pub state: ChatState,
    /// Messages with `seq > after`, oldest first.
    pub messages: Vec<Message>,
    /// The highest sequence number in the chat (pass it as `after` next time).
    pub last_seq: u64,
}
