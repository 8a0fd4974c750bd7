//! Agent bodies: login, status and registration, the inbox of offers and events, answers to
//! offers.

use serde::{Deserialize, Serialize};

/// An agent's status: the routing core's own, written in snake case.
pub use crate::routing::AgentStatus;

/// Answer to `POST /v1/agents/{id}/login`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Login {
    /// Agent id.
    pub agent: String,
    /// The agent's own token for every other agent call; a new login replaces it.
    pub token: String,
}

/// A skill in `POST /v1/agents/{id}/status`: a name, or a name with proficiency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum SkillRequest {
    /// Proficiency 5.
    Name(String),
    /// Name and proficiency 1..=10.
    Full {
        /// Skill name.
        name: String,
        /// 1..=10, default 5.
        #[serde(skip_serializing_if = "Option::is_none")]
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatusRequest {
    /// One of [`AgentStatus::ALL`], by name (text, so the server can name a wrong one).
    pub status: String,
    /// Skills; only on the first call (registration), or equal to the registered ones.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skills: Option<Vec<SkillRequest>>,
    /// Concurrency cap, 1..=50.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub concurrency: Option<u32>,
}

impl StatusRequest {
    /// A status change with no skills and no new cap.
    pub fn new(status: AgentStatus) -> StatusRequest {
        StatusRequest {
            status: status.as_str().to_string(),
            skills: None,
            concurrency: None,
        }
    }
}

/// A registered skill.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Skill {
    /// Skill name.
    pub name: String,
    /// 1..=10.
    pub proficiency: u8,
}

/// Answer to `POST /v1/agents/{id}/status` and `GET /v1/agents/{id}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Agent {
    /// Agent id.
    pub id: String,
    /// Status after the call.
    pub status: AgentStatus,
    /// Registered skills.
    pub skills: Vec<Skill>,
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

/// Whether an inbox item waits for an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OfferKind {
    /// Accept or decline it before its deadline.
    Offer,
    /// Already active with the agent (auto mode); listed once.
    Assignment,
}

/// An offer or assignment as delivered to an agent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Offer {
    /// Offer id, e.g. `"o-5"`.
    pub offer_id: String,
    /// An offer to answer or an assignment.
    pub kind: OfferKind,
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

/// What happened to a chat of the agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InboxEventKind {
    /// The customer left a chat active with the agent (it is closed).
    CustomerLeft,
}

/// Something that happened to a chat of the agent, delivered once on its inbox.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InboxEvent {
    /// What happened.
    pub kind: InboxEventKind,
    /// Chat id.
    pub chat_id: String,
    /// When it happened, Unix seconds.
    pub at: f64,
}

/// Answer to `GET /v1/agents/{id}/offers`: the agent's inbox.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Inbox {
    /// Agent id.
    pub agent: String,
    /// Agent status.
    pub status: AgentStatus,
    /// Server time of this answer, Unix seconds.
    pub server_time: f64,
    /// Open offers and newly delivered assignments.
    pub offers: Vec<Offer>,
    /// Events since the last poll, each delivered once.
    pub events: Vec<InboxEvent>,
}

/// How an agent answered an offer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OfferOutcome {
    /// The chat is active with the agent.
    Accepted,
    /// The chat went to another agent or back to its queue.
    Declined,
}

/// Answer to `POST /v1/offers/{id}/accept` and `/decline`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OfferAnswer {
    /// Offer id.
    pub offer_id: String,
    /// Chat id.
    pub chat_id: String,
    /// The answer given.
    pub offer_state: OfferOutcome,
    /// The chat's state after the answer.
    pub chat_state: super::ChatState,
}
