//! Routing policies chosen by a profile: how an agent is picked for a chat, how waiting chats
//! are ordered, how offers are accepted, and what a transfer does to a chat's place.

use std::fmt;
use std::str::FromStr;

use super::Time;

/// How the router picks among agents who could take a chat.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum AgentSelection {
    /// Lowest active/cap ratio, then longest idle (the default).
    #[default]
    LeastBusy,
    /// Longest idle since the agent's last chat ended, regardless of load.
    LongestIdle,
    /// Agents take turns in a fixed rotation.
    RoundRobin,
    /// Highest proficiency in the chat's skill, then least busy.
    MostSkilled,
}

impl AgentSelection {
    /// Every policy with its profile spelling.
    pub const ALL: [(&'static str, AgentSelection); 4] = [
        ("least-busy", AgentSelection::LeastBusy),
        ("longest-idle", AgentSelection::LongestIdle),
        ("round-robin", AgentSelection::RoundRobin),
        ("most-skilled", AgentSelection::MostSkilled),
    ];

    /// The profile spelling of this policy.
    pub fn as_str(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(_, p)| *p == self)
            .map(|(s, _)| *s)
            .unwrap_or("least-busy")
    }
}

impl FromStr for AgentSelection {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Self::ALL
            .iter()
            .find(|(name, _)| *name == s)
            .map(|(_, p)| *p)
            .ok_or_else(|| {
                let names: Vec<_> = Self::ALL.iter().map(|(n, _)| *n).collect();
                format!(
                    "unknown agent selection {s:?}; use one of {}",
                    names.join(", ")
                )
            })
    }
}

impl fmt::Display for AgentSelection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How waiting chats are ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChatOrder {
    /// score = queued_at - priority x `priority_weight`; lower score first, ties by arrival.
    Weighted {
        /// What one priority point is worth in waiting time.
        priority_weight: Time,
    },
    /// Higher priority always first; FIFO within a priority.
    Strict,
}

impl Default for ChatOrder {
    fn default() -> Self {
        ChatOrder::Weighted {
            priority_weight: 60 * super::SECOND,
        }
    }
}

/// How an agent receives a chat.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AcceptMode {
    /// The chat is assigned at once; no offer step.
    Auto,
    /// The chat is offered; the offer holds a slot until accepted, declined or timed out.
    Offer {
        /// How long an offer stays open.
        timeout: Time,
        /// Consecutive declines or timeouts after which the agent goes `away`.
        misses_before_away: u32,
    },
}

impl Default for AcceptMode {
    fn default() -> Self {
        AcceptMode::Offer {
            timeout: 30 * super::SECOND,
            misses_before_away: 1,
        }
    }
}

/// What a transfer does to the chat's place in the target queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum TransferPlace {
    /// The chat keeps its original arrival time, so it sorts as if it had waited all along.
    #[default]
    Keep,
    /// The chat joins the target queue as if it had just arrived.
    Reset,
}
