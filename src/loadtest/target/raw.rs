//! A target file as written: TOML read into these types, every field optional where the file
//! may leave it out, and unknown keys refused (a misspelt key is an error, not a silent
//! default). [`super::check`] turns it into a [`super::Target`] or names what is wrong.

use std::collections::BTreeMap;

use serde::Deserialize;

/// The whole file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawTarget {
    pub name: String,
    #[serde(default)]
    pub about: Option<String>,
    /// `{run.NAME}` values; they may use `{env.NAME}`.
    #[serde(default)]
    pub vars: BTreeMap<String, String>,
    /// Whether customers answer each agent message (false for backends where a customer's
    /// message reopens an ended chat).
    #[serde(default)]
    pub customer_replies: Option<bool>,
    /// Credentials per role: `customer`, `agent`, `operator`.
    #[serde(default)]
    pub auth: BTreeMap<String, RawAuth>,
    /// Backend chat states -> chatcap's (`queued`, `offered`, `active`, `closed`, `abandoned`,
    /// `rejected`).
    #[serde(default)]
    pub states: BTreeMap<String, String>,
    /// chatcap's agent statuses (`available`, `offline`, `away`) -> the backend's words.
    #[serde(default)]
    pub agent_status: BTreeMap<String, String>,
    #[serde(default)]
    pub customer: BTreeMap<String, Vec<RawCall>>,
    #[serde(default)]
    pub agent: BTreeMap<String, Vec<RawCall>>,
    #[serde(default)]
    pub run: BTreeMap<String, Vec<RawCall>>,
}

/// How a role proves who it is.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawAuth {
    /// `Authorization: Bearer <template>`.
    #[serde(default)]
    pub bearer: Option<String>,
    /// Headers with templated values.
    #[serde(default)]
    pub header: BTreeMap<String, String>,
}

/// One HTTP call of an operation.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawCall {
    pub name: String,
    pub method: String,
    pub path: String,
    #[serde(default)]
    pub body: Option<toml::Value>,
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// `customer`, `agent`, `operator` or `none`; default: the operation's role.
    #[serde(default)]
    pub auth: Option<String>,
    /// Statuses that are success (default: any 2xx).
    #[serde(default)]
    pub ok: Option<Vec<u16>>,
    /// Status -> `ended`, `rejected` or `expected`: refusals that are answers, not failures.
    #[serde(default)]
    pub refused: BTreeMap<String, String>,
    /// Status -> what to tell the user when the refusal stops the run (log-in).
    #[serde(default)]
    pub hints: BTreeMap<String, String>,
    /// Variable -> JSON pointer into a successful answer.
    #[serde(default)]
    pub capture: BTreeMap<String, String>,
    /// The server holds the request until something happens (`{poll.wait_secs}`).
    #[serde(default)]
    pub long_poll: bool,
    /// Pause between polls that are not long polls (e.g. `"500ms"`).
    #[serde(default)]
    pub every: Option<String>,
    /// Pointer to the answer's array of items (`""`: the answer is the array).
    #[serde(default)]
    pub items: Option<String>,
    /// Which items of a message poll are the agent's.
    #[serde(default)]
    pub agent_items: Option<RawMatch>,
    /// The cursor the next message poll starts after: a pointer into the answer...
    #[serde(default)]
    pub cursor: Option<String>,
    /// ...or into the last item.
    #[serde(default)]
    pub item_cursor: Option<String>,
    /// A sent message's own cursor: the next poll skips it when nothing came in between.
    #[serde(default)]
    pub own_cursor: Option<String>,
    /// A work poll's items.
    #[serde(default)]
    pub work: Option<RawWork>,
    /// Chats the work poll says their customer left.
    #[serde(default)]
    pub gone: Option<RawGone>,
    /// The work poll lists every chat the agent holds: a held chat missing from it has ended.
    #[serde(default)]
    pub snapshot: bool,
    /// The final view's fields.
    #[serde(default)]
    pub view: Option<RawView>,
    /// How the view's times are written: `unix` (default), `unix_ms`, `rfc3339`.
    #[serde(default)]
    pub time: Option<String>,
    /// The backend's own chat counts (run.stats).
    #[serde(default)]
    pub counts: BTreeMap<String, Pointers>,
    /// Settings of the backend checked against the load test (run.stats).
    #[serde(default)]
    pub check: Option<RawCheck>,
    /// The backend's route-latency histogram as `[value_us, count]` pairs (run.stats).
    #[serde(default)]
    pub route_latency_buckets: Option<String>,
}

/// One pointer or several whose numbers add up.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub(super) enum Pointers {
    One(String),
    Sum(Vec<String>),
}

/// Items whose value at `pointer` equals `equals` (a string or number written as text).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawMatch {
    pub pointer: String,
    pub equals: toml::Value,
}

/// A work item's fields, pointers into the item (`server_time` into the answer).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawWork {
    pub chat: String,
    #[serde(default)]
    pub offer: Option<String>,
    #[serde(default)]
    pub queue: Option<String>,
    #[serde(default)]
    pub transfers: Option<String>,
    #[serde(default)]
    pub deadline: Option<String>,
    #[serde(default)]
    pub offered_at: Option<String>,
    #[serde(default)]
    pub delivered_at: Option<String>,
    #[serde(default)]
    pub server_time: Option<String>,
    /// Items matching this are assignments (held at once); the others offers to accept.
    #[serde(default)]
    pub assignment: Option<RawMatch>,
}

/// Where a work poll lists chats whose customer left.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawGone {
    pub items: String,
    pub chat: String,
}

/// The final view's fields.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawView {
    pub state: String,
    #[serde(default)]
    pub created_at: Option<String>,
    #[serde(default)]
    pub first_response_at: Option<String>,
    #[serde(default)]
    pub closed_at: Option<String>,
    #[serde(default)]
    pub transfers: Option<String>,
    #[serde(default)]
    pub csat: Option<String>,
    #[serde(default)]
    pub legs: Option<RawLegs>,
}

/// A chat's legs (one per agent who answered it).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawLegs {
    pub items: String,
    pub answered_at: String,
    #[serde(default)]
    pub ended_at: Option<String>,
}

/// Backend settings compared with the load test's before it starts.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawCheck {
    #[serde(default)]
    pub time_scale: Option<String>,
    #[serde(default)]
    pub profile: Option<String>,
    /// An object whose keys are the backend's queue names.
    #[serde(default)]
    pub queues: Option<String>,
}
