//! Routing policies chosen by a profile: how an agent is picked for a chat, how waiting chats
//! are ordered, how offers are accepted, and what a transfer does to a chat's place. Only the
//! enums live here; their spellings in a profile belong to `profile::policy_names`, so the core
//! knows nothing of the file format.

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
    /// Every policy, in the order the profile reference lists them.
    pub const ALL: [AgentSelection; 4] = [
        AgentSelection::LeastBusy,
        AgentSelection::LongestIdle,
        AgentSelection::RoundRobin,
        AgentSelection::MostSkilled,
    ];
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
