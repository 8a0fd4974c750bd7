//! The chat history as the measurements need it: every usable chat reduced to a compact record
//! of seconds since the history's origin, with queues and agents numbered. Built from a stream
//! of chat-log rows, so a log of millions of rows never sits in memory as text.

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde::Serialize;

/// How many rows of the chat log were read, used and skipped (by reason).
#[derive(Debug, Clone, Default, PartialEq, Serialize, schemars::JsonSchema)]
pub struct RowCounts {
    /// Data rows read (the header excluded).
    pub read: u64,
    /// Rows that became chats of the history.
    pub used: u64,
    /// Rows left out, by reason (e.g. `"answered before created"`); each reason with its count.
    pub skipped: BTreeMap<String, u64>,
}

/// The second leg of a transferred chat.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TransferLeg {
    /// The queue it was transferred to (index into [`History::queues`]).
    pub to: u16,
    /// When the first agent handed it over, seconds since the origin.
    pub at: f64,
    /// When the second agent took it.
    pub answered: Option<f64>,
    /// The second agent (index into [`History::agents`]).
    pub agent: Option<u32>,
}

/// One usable chat. Times are seconds since [`History::origin`].
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct ChatFacts {
    /// The queue (index into [`History::queues`]).
    pub queue: u16,
    /// When the customer started the chat.
    pub created: f64,
    /// When it entered the agents' queue (after the bot); `created` without a bot.
    pub queued: f64,
    /// When the accepted offer was made.
    pub offered: Option<f64>,
    /// When an agent took it.
    pub answered: Option<f64>,
    /// The agent's first message.
    pub first_response: Option<f64>,
    /// When it ended after an answer or a bot resolution.
    pub closed: Option<f64>,
    /// When the customer left unanswered.
    pub abandoned: Option<f64>,
    /// The agent who answered (index into [`History::agents`]).
    pub agent: Option<u32>,
    /// Whether the bot resolved it; `None` when the log does not say.
    pub bot_resolved: Option<bool>,
    /// The transfer, when there was one.
    pub transfer: Option<TransferLeg>,
    /// The survey score.
    pub csat: Option<f32>,
}

/// An agent's status over a span, from the agent log. Times are seconds since the origin.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StatusSpan {
    /// The agent (index into [`History::agents`]).
    pub agent: u32,
    /// What the agent was doing.
    pub status: AgentStatusKind,
    /// Start of the span.
    pub from: f64,
    /// End of the span.
    pub to: f64,
}

/// The statuses of the agent log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AgentStatusKind {
    /// Ready for chats.
    Available,
    /// Logged in but taking no new chats.
    Away,
    /// Logged out.
    Offline,
}

/// The whole usable history.
#[derive(Debug, Clone, Default)]
pub struct History {
    /// The instant times are counted from (the first chat's `created_at`).
    pub origin: Option<Timestamp>,
    /// Queue names, in order of first appearance.
    pub queues: Vec<String>,
    /// Agent ids, in order of first appearance.
    pub agents: Vec<String>,
    /// Each agent's group (index into `groups`), when an agent log names it.
    pub agent_group: Vec<Option<u32>>,
    /// Agent group names, from the agent log, in order of first appearance.
    pub groups: Vec<String>,
    /// The usable chats, in order of creation.
    pub chats: Vec<ChatFacts>,
    /// Status spans from the agent log (empty without one).
    pub statuses: Vec<StatusSpan>,
    /// Which optional columns the chat log has (by name).
    pub columns: Vec<String>,
    /// Rows read, used and skipped.
    pub rows: RowCounts,
    /// What the reader noticed and the fit should say (thin data, fallbacks).
    pub warnings: Vec<String>,
}

impl History {
    /// Whether the chat log has the column `name`.
    pub fn has_column(&self, name: &str) -> bool {
        self.columns.iter().any(|c| c == name)
    }

    /// The instant `secs` seconds after the origin.
    pub fn instant(&self, secs: f64) -> Option<Timestamp> {
        let origin = self.origin?;
        origin
            .checked_add(jiff::SignedDuration::from_secs_f64(secs))
            .ok()
    }
}
