//! The JSON bodies of the API: requests as the server parses them, responses as it writes
//! them. Kept in one file so docs/api.md can be checked against a single place.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::metrics::QueueKpis;

/// `POST /v1/chats`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateChatRequest {
    /// Queue name from the profile.
    pub queue: String,
    /// Free-form customer reference (at most 128 characters).
    pub customer: Option<String>,
    /// Added to the queue's priority (-1000..=1000).
    pub priority: Option<i32>,
}

/// `POST /v1/chats/{id}/messages`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MessageRequest {
    /// The message text (1..=limit characters).
    pub text: String,
}

/// `POST /v1/chats/{id}/close`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CloseRequest {
    /// One of [`super::core::RESOLUTIONS`].
    pub resolution: String,
    /// Customer satisfaction 1..=5.
    pub csat: Option<u8>,
}

/// `POST /v1/chats/{id}/transfer`: exactly one of `queue` and `agent`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TransferRequest {
    /// Target queue name.
    pub queue: Option<String>,
    /// Target agent id.
    pub agent: Option<String>,
    /// Handover note for the next agent (at most the message limit).
    pub note: Option<String>,
}

/// A skill in `POST /v1/agents/{id}/status`: a name, or a name with proficiency.
#[derive(Debug)]
pub enum SkillRequest {
    /// Proficiency 5.
    Name(String),
    /// Name and proficiency 1..=10.
    Full {
        /// Skill name.
        name: String,
        /// 1..=10, default 5.
        proficiency: Option<u8>,
    },
}

/// Read by hand rather than as an untagged enum, whose only error is "did not match any
/// variant": each mistake (an unknown key, a proficiency that is no small whole number) is
/// named.
impl<'de> Deserialize<'de> for SkillRequest {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        use serde_json::Value;
        let shape = "a skill is a name or {\"name\": \"billing\", \"proficiency\": 8}";
        let map = match Value::deserialize(deserializer)? {
            Value::String(name) => return Ok(SkillRequest::Name(name)),
            Value::Object(map) => map,
            other => {
                return Err(D::Error::custom(format!(
                    "skill {other} is invalid; {shape}"
                )));
            }
        };
        if let Some(key) = map.keys().find(|k| *k != "name" && *k != "proficiency") {
            return Err(D::Error::custom(format!(
                "skill key {key:?} is unknown; {shape}"
            )));
        }
        let Some(Value::String(name)) = map.get("name") else {
            return Err(D::Error::custom(format!(
                "skill name is missing or not text; {shape}"
            )));
        };
        let proficiency = match map.get("proficiency") {
            None | Some(Value::Null) => None,
            Some(value) => Some(
                value
                    .as_u64()
                    .and_then(|p| u8::try_from(p).ok())
                    .ok_or_else(|| {
                        D::Error::custom(format!(
                            "skill {name:?}: proficiency {value} is not a whole number 1..=10"
                        ))
                    })?,
            ),
        };
        Ok(SkillRequest::Full {
            name: name.clone(),
            proficiency,
        })
    }
}

/// `POST /v1/agents/{id}/status`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatusRequest {
    /// `available`, `away`, `offline` or `draining`.
    pub status: String,
    /// Skills; only on the first call (registration), or equal to the registered ones.
    pub skills: Option<Vec<SkillRequest>>,
    /// Concurrency cap.
    pub concurrency: Option<u32>,
}

/// Answer to `POST /v1/chats`.
#[derive(Debug, Serialize)]
pub struct CreatedChat {
    /// Chat id, e.g. `"c-17"`.
    pub id: String,
    /// The chat token that guards customer calls.
    pub token: String,
    /// Queue name.
    pub queue: String,
    /// `queued`, `offered` or `active`.
    pub state: &'static str,
    /// 1-based place in the queue; 0 when not waiting.
    pub position: u32,
    /// Estimated wait in profile seconds; 0 when not waiting.
    pub estimated_wait_secs: f64,
}

/// A handover note.
#[derive(Debug, Clone, Serialize)]
pub struct NoteOut {
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
#[derive(Debug, Clone, Serialize)]
pub struct LegOut {
    /// When the agent answered it (accept or assignment), Unix seconds.
    pub answered_at: f64,
    /// When it was closed or transferred away; `null` while active.
    pub ended_at: Option<f64>,
}

/// Answer to `GET /v1/chats/{id}` and to actions on a chat.
#[derive(Debug, Serialize)]
pub struct ChatOut {
    /// Chat id.
    pub id: String,
    /// Current queue.
    pub queue: String,
    /// Customer reference given at creation.
    pub customer: Option<String>,
    /// Effective priority (queue plus chat).
    pub priority: i32,
    /// Chat state.
    pub state: &'static str,
    /// 1-based place in the queue; 0 when not waiting.
    pub position: u32,
    /// Estimated remaining wait, profile seconds; 0 when not waiting.
    pub estimated_wait_secs: f64,
    /// The agent it is offered to or handled by (the last one once closed).
    pub agent: Option<String>,
    /// Unix times in seconds.
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
    pub resolution: Option<&'static str>,
    /// CSAT given at close.
    pub csat: Option<u8>,
    /// Messages so far.
    pub messages: usize,
    /// Handling legs, oldest first: one per agent answer (AHT is their mean length).
    pub legs: Vec<LegOut>,
    /// Handover notes (agent callers only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notes: Option<Vec<NoteOut>>,
}

/// One chat message.
#[derive(Debug, Clone, Serialize)]
pub struct MessageOut {
    /// 1-based sequence number within the chat.
    pub seq: u64,
    /// `customer` or `agent`.
    pub from: &'static str,
    /// The agent's id for agent messages.
    pub agent: Option<String>,
    /// The text.
    pub text: String,
    /// Unix time, seconds.
    pub sent_at: f64,
}

/// Answer to `GET /v1/chats/{id}/messages`.
#[derive(Debug, Serialize)]
pub struct MessagesOut {
    /// Chat id.
    pub chat_id: String,
    /// Chat state now.
    pub state: &'static str,
    /// Messages with `seq > after`, oldest first.
    pub messages: Vec<MessageOut>,
    /// The highest sequence number in the chat (pass it as `after` next time).
    pub last_seq: u64,
}

/// An offer or assignment as delivered to an agent.
#[derive(Debug, Clone, Serialize)]
pub struct OfferOut {
    /// Offer id, e.g. `"o-5"`.
    pub offer_id: String,
    /// `offer` (accept or decline it) or `assignment` (already active).
    pub kind: &'static str,
    /// Chat id.
    pub chat_id: String,
    /// Queue name.
    pub queue: String,
    /// Customer reference.
    pub customer: Option<String>,
    /// Effective priority.
    pub priority: i32,
    /// Chat arrival, Unix seconds.
    pub chat_created_at: f64,
    /// When the router offered or assigned the chat (a chat and a free slot met), Unix seconds.
    pub offered_at: f64,
    /// When the offer lapses (offers only), Unix seconds.
    pub deadline: Option<f64>,
    /// When it was first delivered to the agent, Unix seconds.
    pub delivered_at: f64,
    /// Transfers so far (a handover note is in `GET /v1/chats/{id}`).
    pub transfers: u32,
}

/// Something that happened to a chat of the agent, delivered once on its inbox.
#[derive(Debug, Clone, Serialize)]
pub struct EventOut {
    /// `customer_left`: the customer left a chat active with the agent (it is closed).
    pub kind: &'static str,
    /// Chat id.
    pub chat_id: String,
    /// When it happened, Unix seconds.
    pub at: f64,
}

/// Answer to `POST /v1/agents/{id}/login`.
#[derive(Debug, Serialize)]
pub struct LoginOut {
    /// Agent id.
    pub agent: String,
    /// The agent's own token for every other agent call; a new login replaces it.
    pub token: String,
}

/// Answer to `GET /v1/agents/{id}/offers`.
#[derive(Debug, Serialize)]
pub struct OffersOut {
    /// Agent id.
    pub agent: String,
    /// Agent status.
    pub status: &'static str,
    /// Server time of this answer, Unix seconds.
    pub server_time: f64,
    /// Open offers and newly delivered assignments.
    pub offers: Vec<OfferOut>,
    /// Events since the last poll, each delivered once.
    pub events: Vec<EventOut>,
}

/// A registered skill.
#[derive(Debug, Clone, Serialize)]
pub struct SkillOut {
    /// Skill name.
    pub name: String,
    /// 1..=10.
    pub proficiency: u8,
}

/// Answer to `POST /v1/agents/{id}/status` and `GET /v1/agents/{id}`.
#[derive(Debug, Serialize)]
pub struct AgentOut {
    /// Agent id.
    pub id: String,
    /// Status after the call.
    pub status: &'static str,
    /// Registered skills.
    pub skills: Vec<SkillOut>,
    /// Concurrency cap.
    pub concurrency: u32,
    /// Active chats.
    pub active: u32,
    /// Offers waiting for an answer.
    pub pending_offers: u32,
    /// Consecutive missed offers.
    pub misses: u32,
    /// True when this call registered the agent.
    pub registered: bool,
}

/// Answer to accept and decline.
#[derive(Debug, Serialize)]
pub struct OfferAnswerOut {
    /// Offer id.
    pub offer_id: String,
    /// Chat id.
    pub chat_id: String,
    /// `accepted` or `declined`.
    pub offer_state: &'static str,
    /// The chat's state after the answer.
    pub chat_state: &'static str,
}

/// Chats per state.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct ChatCountsOut {
    /// Every chat ever created, rejected ones included.
    pub created: u64,
    /// Waiting now.
    pub queued: u64,
    /// Offered now.
    pub offered: u64,
    /// Active now.
    pub active: u64,
    /// Closed so far.
    pub closed: u64,
    /// Abandoned so far.
    pub abandoned: u64,
    /// Rejected so far.
    pub rejected: u64,
}

/// Agents per status.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct AgentCountsOut {
    /// Agents registered since start.
    pub registered: u64,
    /// Available.
    pub available: u64,
    /// Away.
    pub away: u64,
    /// Offline.
    pub offline: u64,
    /// Draining.
    pub draining: u64,
}

/// KPIs of one queue or all, DESIGN §4, in profile seconds.
#[derive(Debug, Clone, Serialize)]
pub struct QueueStatsOut {
    /// The §4 figures (`null` where undefined, e.g. no chat answered yet).
    #[serde(flatten)]
    pub kpis: QueueKpis,
    /// Median wait of answered chats.
    pub wait_p50_secs: f64,
    /// 90th percentile wait of answered chats.
    pub wait_p90_secs: f64,
    /// 90th percentile first-response time.
    pub frt_p90_secs: f64,
    /// Chats waiting now.
    pub waiting: u64,
}

/// Percentiles of a latency histogram in wall milliseconds, e.g. route latency (DESIGN §4).
/// Undefined figures (no samples) serialize as `null`.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct LatencyOut {
    /// Samples (for route latency: offers and assignments delivered).
    pub count: u64,
    /// Mean.
    pub mean_ms: f64,
    /// Median.
    pub p50_ms: f64,
    /// 90th percentile.
    pub p90_ms: f64,
    /// 99th percentile.
    pub p99_ms: f64,
    /// Largest.
    pub max_ms: f64,
}

impl LatencyOut {
    /// From a histogram of microseconds.
    pub(crate) fn of(h: &hdrhistogram::Histogram<u64>) -> LatencyOut {
        if h.is_empty() {
            return LatencyOut {
                count: 0,
                mean_ms: f64::NAN,
                p50_ms: f64::NAN,
                p90_ms: f64::NAN,
                p99_ms: f64::NAN,
                max_ms: f64::NAN,
            };
        }
        let ms = |us: u64| us as f64 / 1000.0;
        LatencyOut {
            count: h.len(),
            mean_ms: h.mean() / 1000.0,
            p50_ms: ms(h.value_at_quantile(0.5)),
            p90_ms: ms(h.value_at_quantile(0.9)),
            p99_ms: ms(h.value_at_quantile(0.99)),
            max_ms: ms(h.max()),
        }
    }
}

/// Answer to `GET /v1/stats`.
#[derive(Debug, Clone, Serialize)]
pub struct StatsOut {
    /// Profile name.
    pub profile: String,
    /// Profile seconds per wall second.
    pub time_scale: f64,
    /// Wall seconds since start.
    pub uptime_secs: f64,
    /// Chats per state.
    pub chats: ChatCountsOut,
    /// Agents per status.
    pub agents: AgentCountsOut,
    /// All queues together.
    pub overall: QueueStatsOut,
    /// Per queue, by name.
    pub queues: BTreeMap<String, QueueStatsOut>,
    /// Route latency.
    pub route_latency: LatencyOut,
    /// With `?buckets=true`: the route-latency histogram as `[value_us, count]` pairs (one
    /// per non-empty bucket), so a client can subtract two snapshots.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub route_latency_buckets: Option<Vec<[u64; 2]>>,
    /// Records held in memory (live plus recently ended), to watch that memory stays flat.
    pub retained: RetainedOut,
}

/// Records the server holds.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct RetainedOut {
    /// Chats: live ones plus the most recent ended ones.
    pub chats: u64,
    /// Offers and assignments: pending ones plus the most recent ended ones.
    pub offers: u64,
}
