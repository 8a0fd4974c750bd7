//! Target files: how the load test speaks a chat backend's HTTP API (docs/targets.md). A target
//! maps each step of the chat lifecycle, an *operation* such as `customer.start` or
//! `agent.wait_work`, to one or more HTTP calls: method, path, headers and JSON body templates
//! over the flow's variables, the statuses that are success or expected refusals, the values
//! captured from answers by JSON pointer, and how a poll's items are read. chatcap's own API
//! (docs/api.md) is the built-in target `chatcap`, `targets/chatcap.toml`, and runs through the
//! same machinery as any other.
//!
//! - `raw`: the file as written (TOML, unknown keys refused);
//! - `check` and `readings`: the one place a raw target becomes a [`Target`], refusing before
//!   any request with the file, the operation and the fix;
//! - `template`: path, header and body templates, names resolved to slots once;
//! - `vars`: the variables each flow offers and the slots they live in;
//! - `read` and `select`: reading answers by JSON pointer (items, times, counts), parsing
//!   only the parts a call reads.

mod check;
mod raw;
pub(crate) mod read;
mod readings;
mod select;
pub(crate) mod template;
pub(crate) mod vars;

use std::collections::BTreeMap;
use std::time::Duration;

use crate::api::ChatState;

pub(crate) use read::Pointer;
pub(crate) use template::{JsonTemplate, Slot, Template, Values};
pub(crate) use vars::{AgentSlots, CustomerSlots};

/// The built-in target's file.
const CHATCAP: &str = include_str!("../../../targets/chatcap.toml");

/// Settings of the run that target files may use as `{run.agent_token}` and
/// `{run.time_scale}`.
#[derive(Debug, Clone, Default)]
pub struct TargetContext {
    /// The operator token (`--agent-token`), empty when none was given.
    pub agent_token: String,
    /// The run's time scale.
    pub time_scale: f64,
    /// `--var NAME=VALUE`: values that replace the file's `[vars]`.
    pub vars: BTreeMap<String, String>,
}

/// A target that cannot be used, said before any request.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("target {file}: {detail}")]
pub struct TargetError {
    /// The file (or `built-in chatcap`).
    pub file: String,
    /// What is wrong, where, and how to fix it.
    pub detail: String,
}

/// Reads `--target`: `chatcap` (the built-in target) or a file.
pub fn load(spec: &str, context: &TargetContext) -> Result<Target, TargetError> {
    if spec == "chatcap" {
        return check::parse("built-in chatcap", CHATCAP, context, &|_| None);
    }
    let text = std::fs::read_to_string(spec).map_err(|e| TargetError {
        file: spec.to_string(),
        detail: format!(
            "cannot read it ({e}); give a target file (see docs/targets.md) or `chatcap` for \
             the built-in target"
        ),
    })?;
    check::parse(spec, &text, context, &|name| std::env::var(name).ok())
}

/// A checked target.
#[derive(Debug, Clone)]
pub struct Target {
    /// Its name.
    pub name: String,
    /// What it speaks to, in a line.
    pub about: Option<String>,
    /// Where it came from.
    pub file: String,
    pub(crate) customer: CustomerOps,
    pub(crate) agent: AgentOps,
    /// The backend's own counts and settings (`run.stats`), if the target has them.
    pub(crate) stats: Option<Op>,
    /// Every call's report row: name, route, long poll.
    pub(crate) endpoints: Vec<EndpointInfo>,
    /// Backend chat states as chatcap's.
    pub(crate) states: BTreeMap<String, ChatState>,
    /// The backend's words for `available`, `offline`, `away`.
    pub(crate) agent_status: [String; 3],
    /// Whether customers answer each agent message.
    pub(crate) customer_replies: bool,
    pub(crate) customer_slots: CustomerSlots,
    pub(crate) agent_slots: AgentSlots,
}

impl Target {
    /// The chat state the backend's `value` means, if the target maps it.
    pub(crate) fn state(&self, value: &str) -> Option<ChatState> {
        self.states.get(value).copied()
    }

    /// Whether the backend tells an abandoned chat from a closed one; if not, a chat its
    /// customer left before seeing an agent counts as abandoned.
    pub(crate) fn tells_abandoned(&self) -> bool {
        self.states.values().any(|s| *s == ChatState::Abandoned)
    }

    /// Whether agents accept offers (else every work item is an assignment).
    pub(crate) fn offers(&self) -> bool {
        self.agent.accept.is_some()
    }

    /// Whether agents can transfer.
    pub(crate) fn transfers(&self) -> bool {
        self.agent.transfer.is_some()
    }
}

/// A report row: one per distinct call name.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct EndpointInfo {
    pub name: String,
    /// `METHOD /path/template`.
    pub route: String,
    pub long_poll: bool,
}

/// The customer's operations.
#[derive(Debug, Clone)]
pub(crate) struct CustomerOps {
    pub start: Op,
    pub send: Op,
    pub wait_reply: Op,
    pub read: Option<Op>,
    pub leave: Op,
}

/// The agent's operations.
#[derive(Debug, Clone)]
pub(crate) struct AgentOps {
    pub login: Op,
    pub status: Op,
    pub wait_work: Op,
    pub accept: Option<Op>,
    pub send: Op,
    pub close: Op,
    pub transfer: Option<Op>,
}

/// One operation: its calls, in order.
#[derive(Debug, Clone)]
pub(crate) struct Op {
    /// `customer.start`, ...
    pub name: &'static str,
    pub calls: Vec<Call>,
}

impl Op {
    /// The call whose answer the operation reads (its last).
    pub(crate) fn last(&self) -> &Call {
        self.calls.last().expect("a checked operation has a call")
    }
}

/// HTTP methods a call may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Method {
    Get,
    Post,
    Put,
    Patch,
    Delete,
}

/// What a refusal means to the flow that gets it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Meaning {
    /// The chat or offer is gone (ended meanwhile).
    Ended,
    /// The chat was refused at the door (a full queue).
    Rejected,
    /// A normal answer that changes nothing.
    Expected,
}

/// One HTTP call, checked and compiled.
#[derive(Debug, Clone)]
pub(crate) struct Call {
    /// Its row in the report ([`Target::endpoints`]).
    pub endpoint: usize,
    pub name: String,
    pub method: Method,
    pub path: Template,
    pub body: Option<JsonTemplate>,
    /// Headers, the auth's included; a header whose value renders empty is not sent.
    pub headers: Vec<Header>,
    pub ok: Option<Vec<u16>>,
    pub refused: Vec<(u16, Meaning)>,
    pub hints: Vec<(u16, String)>,
    pub captures: Vec<Capture>,
    pub long_poll: bool,
    pub every: Option<Duration>,
    pub reading: Reading,
    /// The parts of a successful answer the call reads (`None`: nothing, it is not parsed).
    pub selection: Option<select::Selection>,
    /// The flow's variable names by slot, for messages.
    pub vars: std::sync::Arc<[String]>,
}

impl Call {
    /// Whether `status` is success.
    pub(crate) fn is_ok(&self, status: u16) -> bool {
        match &self.ok {
            Some(list) => list.contains(&status),
            None => (200..300).contains(&status),
        }
    }

    /// What a refusal with `status` means, if it is expected.
    pub(crate) fn meaning(&self, status: u16) -> Option<Meaning> {
        self.refused
            .iter()
            .find(|(s, _)| *s == status)
            .map(|(_, m)| *m)
    }

    /// The name of variable `slot`.
    pub(crate) fn var_name(&self, slot: Slot) -> &str {
        self.vars.get(usize::from(slot)).map_or("?", String::as_str)
    }

    /// The target's hint for a refusal with `status`, if it gives one.
    pub(crate) fn hint(&self, status: u16) -> Option<&str> {
        self.hints
            .iter()
            .find(|(s, _)| *s == status)
            .map(|(_, h)| h.as_str())
    }
}

/// A request header.
#[derive(Debug, Clone)]
pub(crate) struct Header {
    pub name: String,
    pub value: Template,
    /// Written before a non-empty value (`Bearer `).
    pub prefix: &'static str,
}

/// A value taken from a successful answer into a variable.
#[derive(Debug, Clone)]
pub(crate) struct Capture {
    pub slot: Slot,
    pub var: String,
    pub pointer: Pointer,
}

/// How a call's answer is read beyond its captures.
#[derive(Debug, Clone, Default)]
pub(crate) enum Reading {
    #[default]
    Plain,
    /// A sent message: its own cursor.
    Sent { own_cursor: Pointer },
    /// A message poll.
    Messages(MessagePoll),
    /// A work poll.
    Work(Box<WorkPoll>),
    /// The final view.
    View(Box<View>),
    /// The backend's counts and settings.
    Stats(Box<StatsReading>),
}

/// Items whose value at `pointer` equals `value`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Match {
    pub pointer: Pointer,
    pub value: serde_json::Value,
}

/// A customer's message poll.
#[derive(Debug, Clone)]
pub(crate) struct MessagePoll {
    pub items: Pointer,
    pub agent_items: Match,
    pub cursor: Option<Pointer>,
    pub item_cursor: Option<Pointer>,
}

/// An agent's work poll.
#[derive(Debug, Clone)]
pub(crate) struct WorkPoll {
    pub items: Pointer,
    pub chat: Pointer,
    pub offer: Option<Pointer>,
    pub queue: Option<Pointer>,
    pub transfers: Option<Pointer>,
    pub deadline: Option<Pointer>,
    pub offered_at: Option<Pointer>,
    pub delivered_at: Option<Pointer>,
    pub server_time: Option<Pointer>,
    pub assignment: Option<Match>,
    pub gone: Option<(Pointer, Pointer)>,
    pub snapshot: bool,
}

impl WorkPoll {
    /// The pointers read in each item.
    pub(crate) fn item_pointers(&self) -> impl Iterator<Item = &Pointer> {
        let optional = [
            &self.offer,
            &self.queue,
            &self.transfers,
            &self.deadline,
            &self.offered_at,
            &self.delivered_at,
        ];
        let matched = self.assignment.as_ref().map(|m| &m.pointer);
        std::iter::once(&self.chat)
            .chain(optional.into_iter().flatten())
            .chain(matched)
    }
}

/// How times are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TimeFormat {
    Unix,
    UnixMs,
    Rfc3339,
}

/// The final view's fields.
#[derive(Debug, Clone)]
pub(crate) struct View {
    pub state: Pointer,
    pub created_at: Option<Pointer>,
    pub first_response_at: Option<Pointer>,
    pub closed_at: Option<Pointer>,
    pub transfers: Option<Pointer>,
    pub csat: Option<Pointer>,
    /// Legs: items pointer, answered-at and ended-at pointers into each.
    pub legs: Option<(Pointer, Pointer, Option<Pointer>)>,
    pub time: TimeFormat,
}

impl View {
    /// The pointers read in the answer (the legs' aside).
    pub(crate) fn fields(&self) -> impl Iterator<Item = &Pointer> {
        let optional = [
            &self.created_at,
            &self.first_response_at,
            &self.closed_at,
            &self.transfers,
            &self.csat,
        ];
        std::iter::once(&self.state).chain(optional.into_iter().flatten())
    }
}

/// The backend's chat counts and settings.
#[derive(Debug, Clone, Default)]
pub(crate) struct StatsReading {
    /// Count name (`created`, `queued`, ..., `live`, `ended`) -> pointers summed.
    pub counts: Vec<(String, Vec<Pointer>)>,
    pub time_scale: Option<Pointer>,
    pub profile: Option<Pointer>,
    pub queues: Option<Pointer>,
    pub route_latency_buckets: Option<Pointer>,
}

#[cfg(test)]
mod tests;
