//! The desk: the server's state around the routing core (chats with their tokens and messages,
//! agents with their sessions and inboxes, offers as agents see them, KPI tallies, route
//! latency). It knows nothing of HTTP: calls take parsed requests and return the API's wire
//! types or a [`DeskError`], which the HTTP layer turns into a status and a code.
//!
//! One task owns it (see `actor`), so every method is plain synchronous code that runs one
//! request to the end; no lock is ever held across an await. Every method validates its input
//! before it changes anything, so an error leaves the state as it was.
//!
//! Split by concern: `chats` (customer and shared chat calls), `agents` (login, status),
//! `offers` (offers, assignments and the inbox), `decisions` (applying the routing core's
//! decisions and tallying KPIs), `views` (chat, agent and offer views, stats).

mod agents;
mod chats;
mod decisions;
mod error;
mod offers;
mod sessions;
mod views;

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use hdrhistogram::Histogram;
use tokio::sync::watch;

pub(super) use error::DeskError;
use sessions::Sessions;

use super::limits::ServerLimits;
use super::telemetry::Telemetry;
use crate::api::{InboxEvent, Note, Resolution};
use crate::metrics::QueueTally;
use crate::routing::{
    AcceptMode, AgentId, ChatId, ChatOrder, ChatView, Decision, OfferSeq, QueueId, RouteError,
    Router, RouterConfig, SECOND, Time,
};
use crate::scenario::Scenario;

/// Who is calling a chat endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Caller {
    /// The chat's own customer (right chat token).
    Customer,
    /// A logged-in agent, by id (its own agent token).
    Agent(String),
}

/// Credentials of a request, as read from its headers.
#[derive(Debug, Clone, Default)]
pub(super) struct Credentials {
    /// `X-Chat-Token`.
    pub chat_token: Option<String>,
    /// `Authorization: Bearer ...`: an agent's token, or a customer's chat token.
    pub bearer: Option<String>,
}

/// The result of a long-poll step: an answer now, or a receiver to wait on.
pub(super) enum Poll<T> {
    /// Answer now.
    Ready(T),
    /// Nothing new: wait for this to change, then ask again.
    Wait(watch::Receiver<u64>),
}

/// What the desk serves: the compiled profile, the time scale, the operator token, the limits.
pub(super) struct DeskConfig<'a> {
    /// Queues, routing policies and agent groups (registration defaults).
    pub scenario: &'a Scenario,
    /// Profile seconds per wall second, >= 1.
    pub time_scale: f64,
    /// The operator token that logs agents in, if any.
    pub agent_token: Option<String>,
    /// API limits.
    pub limits: ServerLimits,
}

struct QueueInfo {
    name: String,
    threshold_secs: f64,
    short_abandon_secs: f64,
    tally: QueueTally,
}

/// Skills and cap a newly registered agent of a profile agent group gets.
struct GroupDefault {
    name: String,
    skills: Vec<(String, u8)>,
    cap: u32,
}

struct StoredMessage {
    from_agent: Option<String>,
    text: String,
    sent_at: Time,
}

struct ChatRecord {
    token: String,
    customer: Option<String>,
    arrival_queue: usize,
    created_at: Time,
    /// The routing core's id while the chat is live; `None` once released.
    router_id: Option<ChatId>,
    /// The last snapshot, kept when the chat is released.
    final_view: Option<ChatView>,
    messages: Vec<StoredMessage>,
    notes: Vec<Note>,
    /// Handling legs: answered, and ended by a close or a transfer (`None` while active).
    legs: Vec<(Time, Option<Time>)>,
    /// Bumped on every new message and state change; wakes customer long-polls.
    changes: watch::Sender<u64>,
    /// The current offer or assignment record.
    offer: Option<u64>,
    transferred: bool,
    answered_once: bool,
    shown_ewt: Option<Time>,
    resolution: Option<Resolution>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum OfferState {
    Open,
    Accepted,
    Declined,
    Expired,
    Withdrawn,
    Assigned,
}

impl OfferState {
    fn as_str(self) -> &'static str {
        match self {
            OfferState::Open => "open",
            OfferState::Accepted => "accepted",
            OfferState::Declined => "declined",
            OfferState::Expired => "expired",
            OfferState::Withdrawn => "withdrawn",
            OfferState::Assigned => "assigned",
        }
    }
}

struct OfferRecord {
    chat: u64,
    router_chat: ChatId,
    agent: AgentId,
    /// `None` for an assignment (auto mode), which needs no answer.
    seq: Option<OfferSeq>,
    offered_at: Time,
    deadline: Option<Time>,
    delivered_at: Option<Time>,
    state: OfferState,
}

struct AgentRecord {
    skills: Vec<(String, u8)>,
    /// Open offers and undelivered assignments, oldest first.
    inbox: Vec<u64>,
    /// Events not yet delivered (a customer left a chat active with the agent), oldest first.
    events: VecDeque<InboxEvent>,
    /// Bumped when something lands in the inbox; wakes agent long-polls.
    changes: watch::Sender<u64>,
}

/// The state one actor task owns.
pub(super) struct Desk {
    router: Router,
    out: Vec<Decision>,
    start: Instant,
    start_epoch: f64,
    scale: f64,
    profile_name: String,
    sessions: Sessions,
    queues: Vec<QueueInfo>,
    groups: Vec<GroupDefault>,
    queue_skills: Vec<String>,
    chats: HashMap<u64, ChatRecord>,
    by_router: HashMap<ChatId, u64>,
    ended_chats: VecDeque<u64>,
    offers: HashMap<u64, OfferRecord>,
    ended_offers: VecDeque<u64>,
    agents: Vec<AgentRecord>,
    next_chat: u64,
    next_offer: u64,
    timers: Vec<(Time, ChatId, OfferSeq)>,
    /// Route latency in wall microseconds.
    route_latency: Histogram<u64>,
    /// The live histograms of `/metrics`, shared with the HTTP layer.
    telemetry: Arc<Telemetry>,
    limits: ServerLimits,
    /// Chats refused because the server held `limits.max_chats` live chats; the router never
    /// saw them, so they are added to its created and rejected counts.
    refused_full: u64,
}

/// Profile time `secs` compressed `scale`-fold into wall microseconds (at least 1 µs for a
/// positive span).
fn scaled(secs: f64, scale: f64) -> Time {
    let t = (secs / scale * SECOND as f64).round();
    if secs > 0.0 { (t as Time).max(1) } else { 0 }
}

/// A profile span in microseconds compressed `scale`-fold into wall microseconds.
fn scaled_time(t: Time, scale: f64) -> Time {
    scaled(t as f64 / SECOND as f64, scale)
}

/// The scenario's routing policies with every time compressed by the time scale.
fn scaled_router(config: &RouterConfig, scale: f64) -> RouterConfig {
    RouterConfig {
        selection: config.selection,
        order: match config.order {
            ChatOrder::Weighted { priority_weight } => ChatOrder::Weighted {
                priority_weight: scaled_time(priority_weight, scale),
            },
            ChatOrder::Strict => ChatOrder::Strict,
        },
        accept: match config.accept {
            AcceptMode::Auto => AcceptMode::Auto,
            AcceptMode::Offer {
                timeout,
                misses_before_away,
            } => AcceptMode::Offer {
                timeout: scaled_time(timeout, scale),
                misses_before_away,
            },
        },
        transfer_place: config.transfer_place,
    }
}

fn chat_key(id: &str) -> Option<u64> {
    canonical_number(id.strip_prefix("c-")?)
}

fn offer_key(id: &str) -> Option<u64> {
    canonical_number(id.strip_prefix("o-")?)
}

/// The number an id's digits spell, written as the server writes it (no sign, no leading
/// zero), so that each chat and offer has exactly one id.
fn canonical_number(digits: &str) -> Option<u64> {
    let plain = digits.bytes().all(|b| b.is_ascii_digit());
    let padded = digits.len() > 1 && digits.starts_with('0');
    if plain && !padded {
        digits.parse().ok()
    } else {
        None
    }
}

fn chat_name(key: u64) -> String {
    format!("c-{key}")
}

fn offer_name(key: u64) -> String {
    format!("o-{key}")
}

impl Desk {
    /// Builds the routing core from the scenario: queues with their skills, priorities,
    /// lengths and handle-time hints; routing policies with every time compressed by the time
    /// scale. An error says what of the scenario cannot be served.
    pub(super) fn new(config: DeskConfig<'_>) -> Result<Desk, String> {
        let DeskConfig {
            scenario,
            time_scale: scale,
            agent_token,
            limits,
        } = config;
        let mut router = Router::new(scaled_router(&scenario.router, scale));
        // Agents' loads are read from the router when asked: the notices would only be dropped.
        router.set_load_notices(false);
        let mut queues = Vec::with_capacity(scenario.queues.len());
        let mut queue_skills: Vec<String> = Vec::new();
        for q in &scenario.queues {
            let id = router
                .add_queue(q.config())
                .map_err(|e| format!("queue {:?}: {e}", q.name))?;
            router
                .set_handle_time_hint(id, scaled(q.handle.mean(), scale))
                .map_err(|e| format!("queue {:?}: {e}", q.name))?;
            if !queue_skills.contains(&q.skill) {
                queue_skills.push(q.skill.clone());
            }
            queues.push(QueueInfo {
                name: q.name.clone(),
                threshold_secs: q.threshold_secs,
                short_abandon_secs: q.short_abandon_secs,
                tally: QueueTally::default(),
            });
        }
        let groups = scenario
            .groups
            .iter()
            .map(|g| GroupDefault {
                name: g.name.clone(),
                skills: g.skills.clone(),
                cap: g.cap,
            })
            .collect();
        let mut route_latency =
            Histogram::<u64>::new(3).map_err(|e| format!("latency histogram: {e}"))?;
        route_latency.auto(true);
        let queue_names: Vec<String> = queues.iter().map(|q| q.name.clone()).collect();
        let telemetry = Telemetry::new(&queue_names).map_err(|e| format!("metrics: {e}"))?;
        let start_epoch = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs_f64())
            .unwrap_or(0.0);
        Ok(Desk {
            router,
            out: Vec::new(),
            start: Instant::now(),
            start_epoch,
            scale,
            profile_name: scenario.name.clone(),
            sessions: Sessions::new(agent_token, limits.max_agents),
            queues,
            groups,
            queue_skills,
            chats: HashMap::new(),
            by_router: HashMap::new(),
            ended_chats: VecDeque::new(),
            offers: HashMap::new(),
            ended_offers: VecDeque::new(),
            agents: Vec::new(),
            next_chat: 1,
            next_offer: 1,
            timers: Vec::new(),
            route_latency,
            telemetry,
            limits,
            refused_full: 0,
        })
    }

    /// The instant the desk's clock counts from.
    pub(super) fn start(&self) -> Instant {
        self.start
    }

    /// The live histograms, for the HTTP layer to record requests in.
    pub(super) fn telemetry(&self) -> Arc<Telemetry> {
        Arc::clone(&self.telemetry)
    }

    /// Wall seconds since start.
    pub(super) fn uptime_secs(&self) -> f64 {
        self.start.elapsed().as_secs_f64()
    }

    /// Wall microseconds since start: the routing core's clock.
    fn now(&self) -> Time {
        u64::try_from(self.start.elapsed().as_micros()).unwrap_or(Time::MAX)
    }

    fn epoch(&self, t: Time) -> f64 {
        self.start_epoch + t as f64 / SECOND as f64
    }

    /// A wall span in profile seconds.
    fn profile_secs(&self, span: Time) -> f64 {
        span as f64 / SECOND as f64 * self.scale
    }

    fn queue_names(&self) -> Vec<String> {
        self.queues.iter().map(|q| q.name.clone()).collect()
    }

    fn queue_name(&self, q: QueueId) -> String {
        self.router.queue_name(q).unwrap_or("").to_string()
    }

    fn agent_name(&self, a: AgentId) -> Option<String> {
        self.router.agent(a).map(|v| v.name)
    }

    /// A routing-core refusal about `what` (the chat, agent or offer the client named), with
    /// the core's chats, agents and queues given by the names clients know.
    fn route_error(&self, err: &RouteError, what: &str) -> DeskError {
        use RouteError as E;
        let (chat, agent, queue) = match err {
            E::UnknownChat(c) | E::InvalidState { chat: c, .. } => (Some(*c), None, None),
            E::UnknownAgent(a) | E::AgentUnavailable { agent: a, .. } => (None, Some(*a), None),
            E::CapBelowLoad { agent: a, .. } => (None, Some(*a), None),
            E::NotOfferedToAgent { chat, agent }
            | E::OfferExpired { chat, agent }
            | E::TransferToSelf { chat, agent } => (Some(*chat), Some(*agent), None),
            E::UnknownQueue(q) | E::QueueFull { queue: q, .. } => (None, None, Some(*q)),
            _ => (None, None, None),
        };
        // The core's message names them as `chat #3.0`, `agent #6`, `queue #2`.
        let mut detail = format!("{what}: {err}");
        if let Some(c) = chat
            && let Some(key) = self.by_router.get(&c)
        {
            detail = detail.replace(&c.to_string(), &format!("chat {}", chat_name(*key)));
        }
        if let Some(a) = agent
            && let Some(name) = self.agent_name(a)
        {
            detail = detail.replace(&a.to_string(), &format!("agent {name:?}"));
        }
        if let Some(q) = queue {
            detail = detail.replace(&q.to_string(), &format!("queue {:?}", self.queue_name(q)));
        }
        DeskError::from_route(err, detail)
    }

    fn bump(sender: &watch::Sender<u64>) {
        sender.send_modify(|v| *v = v.wrapping_add(1));
    }

    fn bump_chat(&self, key: u64) {
        if let Some(rec) = self.chats.get(&key) {
            Desk::bump(&rec.changes);
        }
    }

    fn bump_agent(&self, agent: AgentId) {
        if let Some(rec) = self.agents.get(agent.0 as usize) {
            Desk::bump(&rec.changes);
        }
    }

    // ----- lookups -----

    fn view(&self, rec: &ChatRecord) -> Option<ChatView> {
        match rec.router_id {
            Some(id) => self.router.chat(id),
            None => rec.final_view,
        }
    }

    fn record(&self, id: &str) -> Result<(u64, &ChatRecord), DeskError> {
        chat_key(id)
            .and_then(|k| self.chats.get(&k).map(|r| (k, r)))
            .ok_or_else(|| DeskError::unknown_chat(id))
    }

    fn live_chat(&self, id: &str, rec: &ChatRecord) -> Result<ChatId, DeskError> {
        let state = self.view(rec).map_or("closed", |v| v.state.as_str());
        rec.router_id
            .ok_or_else(|| DeskError::InvalidState(format!("chat {id} is {state}; it has ended")))
    }

    fn agent_by_name(&self, name: &str) -> Result<AgentId, DeskError> {
        self.router
            .agent_id(name)
            .ok_or_else(|| DeskError::unknown_agent(name))
    }
}
