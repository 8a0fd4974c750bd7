//! The variables each flow offers to its templates, and the slots they live in. A customer's
//! flow has one set of values per chat, an agent's one per agent user; captured variables get
//! slots after the built-in ones. `run.*` (the file's `[vars]`, the operator token, the time
//! scale) and `env.*` are constants, folded into the templates when the target is checked.

use super::Slot;

/// Built-in variables of the customer's flow, in slot order, with what they hold.
pub(crate) const CUSTOMER_BUILTINS: &[(&str, &str)] = &[
    ("chat.queue", "the queue's name in the profile"),
    ("chat.number", "the arrival's number in the run's schedule"),
    ("chat.customer", "a customer name, lt-<number>"),
    ("chat.text", "the message the customer sends"),
    (
        "chat.cursor",
        "where the next message poll starts (0 at first)",
    ),
    ("poll.wait_secs", "a long poll's wait, in seconds"),
];

/// Built-in variables of the agent's flow, in slot order.
pub(crate) const AGENT_BUILTINS: &[(&str, &str)] = &[
    ("agent.id", "the agent's id, <group>-<k>"),
    ("agent.number", "the agent's number in the run, from 1"),
    ("agent.group", "the agent's group"),
    ("agent.skills", "the group's skills, [{name, proficiency}]"),
    ("agent.concurrency", "the group's concurrency cap"),
    (
        "agent.status",
        "the status to set, in the target's words ([agent_status])",
    ),
    ("agent.text", "the message the agent sends"),
    ("chat.id", "the chat worked on (from the work poll)"),
    ("chat.queue", "its queue"),
    ("offer.id", "the offer to accept"),
    ("transfer.queue", "the queue a transfer goes to"),
    ("transfer.note", "a transfer's note"),
    ("poll.wait_secs", "a long poll's wait, in seconds"),
];

/// The slots of the customer's flow.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct CustomerSlots {
    pub queue: Slot,
    pub number: Slot,
    pub customer: Slot,
    pub text: Slot,
    pub cursor: Slot,
    pub wait: Slot,
    pub id: Slot,
    pub state: Option<Slot>,
    pub shown_wait: Option<Slot>,
    /// How many slots the flow has (captures included).
    pub len: usize,
}

/// The slots of the agent's flow.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct AgentSlots {
    pub id: Slot,
    pub number: Slot,
    pub group: Slot,
    pub skills: Slot,
    pub concurrency: Slot,
    pub status: Slot,
    pub text: Slot,
    pub chat: Slot,
    pub queue: Slot,
    pub offer: Slot,
    pub transfer_queue: Slot,
    pub transfer_note: Slot,
    pub wait: Slot,
    pub presence: Option<Slot>,
    pub len: usize,
}

/// A flow's variable names by slot: the built-ins, then captures as they are declared.
#[derive(Debug, Clone)]
pub(super) struct Registry {
    names: Vec<String>,
}

impl Registry {
    pub(super) fn new(builtins: &[(&str, &str)]) -> Registry {
        Registry {
            names: builtins.iter().map(|(n, _)| n.to_string()).collect(),
        }
    }

    pub(super) fn slot(&self, name: &str) -> Option<Slot> {
        self.names.iter().position(|n| n == name).map(|i| i as Slot)
    }

    /// The slot of `name`, made if new.
    pub(super) fn declare(&mut self, name: &str) -> Slot {
        self.slot(name).unwrap_or_else(|| {
            self.names.push(name.to_string());
            (self.names.len() - 1) as Slot
        })
    }

    pub(super) fn len(&self) -> usize {
        self.names.len()
    }

    /// Every name by slot, so far.
    pub(super) fn names(&self) -> &[String] {
        &self.names
    }

    pub(super) fn customer_slots(&self) -> CustomerSlots {
        let at = |name: &str| self.slot(name).unwrap_or_default();
        CustomerSlots {
            queue: at("chat.queue"),
            number: at("chat.number"),
            customer: at("chat.customer"),
            text: at("chat.text"),
            cursor: at("chat.cursor"),
            wait: at("poll.wait_secs"),
            id: at("chat.id"),
            state: self.slot("chat.state"),
            shown_wait: self.slot("chat.shown_wait"),
            len: self.len(),
        }
    }

    pub(super) fn agent_slots(&self) -> AgentSlots {
        let at = |name: &str| self.slot(name).unwrap_or_default();
        AgentSlots {
            id: at("agent.id"),
            number: at("agent.number"),
            group: at("agent.group"),
            skills: at("agent.skills"),
            concurrency: at("agent.concurrency"),
            status: at("agent.status"),
            text: at("agent.text"),
            chat: at("chat.id"),
            queue: at("chat.queue"),
            offer: at("offer.id"),
            transfer_queue: at("transfer.queue"),
            transfer_note: at("transfer.note"),
            wait: at("poll.wait_secs"),
            presence: self.slot("agent.presence"),
            len: self.len(),
        }
    }
}
