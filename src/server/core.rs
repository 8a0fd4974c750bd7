//! The server's state: the routing core plus what the API needs around it (chat tokens,
//! messages, offers as agents see them, KPI tallies, route latency). One task owns it (see
//! `actor`), so every method here is plain synchronous code that runs one request to the end;
//! no lock is ever held across an await. Every method validates its input before it changes
//! anything, so an error leaves the state as it was.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use hdrhistogram::Histogram;
use tokio::sync::watch;

use super::ServerConfig;
use super::auth::{Sessions, new_token, same_secret};
use super::error::{ApiError, ServerError};
use super::prom;
use super::telemetry::Telemetry;
use crate::api::{
    self, AgentCounts, Chat, ChatCounts, CloseRequest, CreateChatRequest, CreatedChat, Inbox,
    InboxEvent, InboxEventKind, Latency, Leg, Login, MessageFrom, MessageRequest, Messages, Note,
    Offer, OfferAnswer, OfferKind, OfferOutcome, QueueStats, Resolution, Retained, Skill,
    SkillRequest, Stats, StatusRequest, TransferRequest,
};
use crate::metrics::{QueueKpis, QueueTally};
use crate::profile::Profile;
use crate::routing::{
    AcceptMode, AgentConfig, AgentId, AgentStatus, ChatId, ChatOrder, ChatState, ChatView,
    Decision, MAX_CAP, MAX_PROFICIENCY, OfferSeq, QueueConfig, QueueId, RESOLUTION_CUSTOMER_LEFT,
    RouteError, Router, RouterConfig, SECOND, Time, TransferTarget,
};

/// The routing core's code of a close resolution: its place in [`Resolution::CLOSING`].
fn resolution_code(resolution: Resolution) -> u8 {
    let place = Resolution::CLOSING.iter().position(|r| *r == resolution);
    place.map_or(u8::MAX, |i| i as u8)
}

/// Proficiency of a skill given by name only.
const DEFAULT_PROFICIENCY: u8 = 5;

/// Longest accepted agent id and customer reference.
const MAX_NAME_CHARS: usize = 64;
const MAX_CUSTOMER_CHARS: usize = 128;

/// Largest chat priority a customer may ask for, either sign.
const MAX_CHAT_PRIORITY: i32 = 1000;

/// Most inbox events kept for an agent that does not poll; older ones are dropped.
const MAX_EVENTS: usize = 1000;

/// Who is calling a chat endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Caller {
    /// The chat's own customer (right chat token).
    Customer,
    /// A logged-in agent, by id (its own agent token).
    Agent(String),
}

/// Credentials of a request, as read from its headers.
#[derive(Debug, Clone, Default)]
pub struct Credentials {
    /// `X-Chat-Token`.
    pub chat_token: Option<String>,
    /// `Authorization: Bearer ...`: an agent's token, or a customer's chat token.
    pub bearer: Option<String>,
}

/// The result of a long-poll step: an answer now, or a receiver to wait on.
pub enum Poll<T> {
    /// Answer now.
    Ready(T),
    /// Nothing new: wait for this to change, then ask again.
    Wait(watch::Receiver<u64>),
}

struct QueueInfo {
    name: String,
    threshold_secs: f64,
    short_abandon_secs: f64,
    tally: QueueTally,
}

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
pub struct Core {
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
    limits: super::ServerLimits,
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

fn parse_status(text: &str) -> Result<AgentStatus, ApiError> {
    match text {
        "available" => Ok(AgentStatus::Available),
        "away" => Ok(AgentStatus::Away),
        "offline" => Ok(AgentStatus::Offline),
        "draining" => Ok(AgentStatus::Draining),
        other => Err(ApiError::bad_field(format!(
            "status {other:?} is not a status; use available, away, offline or draining"
        ))),
    }
}

fn valid_agent_name(name: &str) -> Result<(), ApiError> {
    let ok = !name.is_empty()
        && name.chars().count() <= MAX_NAME_CHARS
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '@' | ':'));
    if ok {
        Ok(())
    } else {
        Err(ApiError::bad_field(format!(
            "agent id {name:?} is not valid; use 1..={MAX_NAME_CHARS} characters from A-Z a-z 0-9 - _ . @ :"
        )))
    }
}

impl Core {
    /// Builds the routing core from the profile: queues with their skills, priorities and
    /// lengths; routing policies with every time compressed by the time scale.
    pub fn new(config: &ServerConfig) -> Result<Core, ServerError> {
        let profile: &Profile = &config.profile;
        let scale = config.time_scale;
        let routing = &profile.routing;
        // The same mapping as the simulator's scenario, with times in wall microseconds.
        let router_config = RouterConfig {
            selection: routing.agent_selection,
            order: match routing.order {
                ChatOrder::Weighted { priority_weight } => ChatOrder::Weighted {
                    priority_weight: scaled(priority_weight as f64 / SECOND as f64, scale),
                },
                ChatOrder::Strict => ChatOrder::Strict,
            },
            accept: match routing.accept {
                AcceptMode::Auto => AcceptMode::Auto,
                AcceptMode::Offer {
                    timeout,
                    misses_before_away,
                } => AcceptMode::Offer {
                    timeout: scaled(timeout as f64 / SECOND as f64, scale),
                    misses_before_away,
                },
            },
            transfer_place: routing.transfer_place,
        };
        let mut router = Router::new(router_config);
        // Agents' loads are read from the router when asked: the notices would only be dropped.
        router.set_load_notices(false);
        let mut queues = Vec::with_capacity(profile.queues.len());
        let mut queue_skills: Vec<String> = Vec::new();
        for q in &profile.queues {
            let id = router
                .add_queue(QueueConfig {
                    name: q.name.clone(),
                    skill: q.skill.clone(),
                    priority: q.priority,
                    max_len: Some(q.max_queue),
                })
                .map_err(|e| ServerError::Config(format!("queue {:?}: {e}", q.name)))?;
            router
                .set_handle_time_hint(id, scaled(q.handle_time.mean_secs, scale))
                .map_err(|e| ServerError::Config(format!("queue {:?}: {e}", q.name)))?;
            if !queue_skills.contains(&q.skill) {
                queue_skills.push(q.skill.clone());
            }
            queues.push(QueueInfo {
                name: q.name.clone(),
                threshold_secs: q.targets.threshold_secs,
                short_abandon_secs: q.targets.short_abandon_secs,
                tally: QueueTally::default(),
            });
        }
        let groups = profile
            .agents
            .iter()
            .map(|g| GroupDefault {
                name: g.name.clone(),
                skills: g
                    .skills
                    .iter()
                    .map(|s| (s.skill.clone(), s.proficiency))
                    .collect(),
                cap: g.concurrency,
            })
            .collect();
        let mut route_latency = Histogram::<u64>::new(3)
            .map_err(|e| ServerError::Config(format!("latency histogram: {e}")))?;
        route_latency.auto(true);
        let queue_names: Vec<String> = queues.iter().map(|q| q.name.clone()).collect();
        let telemetry = Telemetry::new(&queue_names)
            .map_err(|e| ServerError::Config(format!("metrics: {e}")))?;
        let start_epoch = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs_f64())
            .unwrap_or(0.0);
        Ok(Core {
            router,
            out: Vec::new(),
            start: Instant::now(),
            start_epoch,
            scale,
            profile_name: profile.name.clone(),
            sessions: Sessions::new(config.agent_token.clone(), config.limits.max_agents),
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
            limits: config.limits,
            refused_full: 0,
        })
    }

    /// The instant the core's clock counts from.
    pub fn start(&self) -> Instant {
        self.start
    }

    /// The live histograms, for the HTTP layer to record requests in.
    pub fn telemetry(&self) -> Arc<Telemetry> {
        Arc::clone(&self.telemetry)
    }

    /// Wall seconds since start.
    pub fn uptime_secs(&self) -> f64 {
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

    /// Offer deadlines requested since the last call, as (deadline, chat, offer).
    pub fn take_timers(&mut self) -> Vec<(Time, ChatId, OfferSeq)> {
        std::mem::take(&mut self.timers)
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
    fn route_error(&self, err: &RouteError, what: &str) -> ApiError {
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
        ApiError::from_route(err, detail)
    }

    // ----- decisions -----

    fn bump(sender: &watch::Sender<u64>) {
        sender.send_modify(|v| *v = v.wrapping_add(1));
    }

    fn bump_chat(&self, key: u64) {
        if let Some(rec) = self.chats.get(&key) {
            Core::bump(&rec.changes);
        }
    }

    fn bump_agent(&self, agent: AgentId) {
        if let Some(rec) = self.agents.get(agent.0 as usize) {
            Core::bump(&rec.changes);
        }
    }

    /// Applies the decisions of the last routing call.
    fn settle(&mut self, now: Time) {
        let mut out = std::mem::take(&mut self.out);
        for decision in out.drain(..) {
            self.apply(now, decision);
        }
        self.out = out;
    }

    fn new_offer(&mut self, record: OfferRecord) -> u64 {
        let key = self.next_offer;
        self.next_offer += 1;
        let agent = record.agent;
        self.offers.insert(key, record);
        if let Some(rec) = self.agents.get_mut(agent.0 as usize) {
            rec.inbox.push(key);
        }
        self.bump_agent(agent);
        key
    }

    /// Ends an offer or assignment record: takes it out of its agent's inbox and keeps it a
    /// while for clear errors on late answers.
    fn end_offer(&mut self, key: u64, state: OfferState) {
        let Some(offer) = self.offers.get_mut(&key) else {
            return;
        };
        offer.state = state;
        let agent = offer.agent;
        if let Some(rec) = self.agents.get_mut(agent.0 as usize) {
            rec.inbox.retain(|&k| k != key);
        }
        self.ended_offers.push_back(key);
        while self.ended_offers.len() > self.limits.ended_kept {
            if let Some(old) = self.ended_offers.pop_front() {
                self.offers.remove(&old);
            }
        }
    }

    /// Ends the chat's current offer or undelivered assignment, if one is still pending.
    fn withdraw_offer(&mut self, chat_key: u64) {
        let Some(key) = self.chats.get(&chat_key).and_then(|c| c.offer) else {
            return;
        };
        let pending = self.offers.get(&key).is_some_and(|o| {
            o.state == OfferState::Open
                || (o.state == OfferState::Assigned && o.delivered_at.is_none())
        });
        if pending {
            self.end_offer(key, OfferState::Withdrawn);
        }
    }

    fn apply(&mut self, now: Time, decision: Decision) {
        match decision {
            Decision::Queued {
                chat,
                estimated_wait,
                ..
            } => {
                let Some(&key) = self.by_router.get(&chat) else {
                    return;
                };
                if let Some(rec) = self.chats.get_mut(&key)
                    && !rec.transferred
                    && rec.shown_ewt.is_none()
                {
                    rec.shown_ewt = Some(estimated_wait);
                }
                self.bump_chat(key);
            }
            Decision::Offered {
                chat,
                agent,
                offer,
                deadline,
            } => {
                let Some(&key) = self.by_router.get(&chat) else {
                    return;
                };
                let offer_key = self.new_offer(OfferRecord {
                    chat: key,
                    router_chat: chat,
                    agent,
                    seq: Some(offer),
                    offered_at: now,
                    deadline: Some(deadline),
                    delivered_at: None,
                    state: OfferState::Open,
                });
                if let Some(rec) = self.chats.get_mut(&key) {
                    rec.offer = Some(offer_key);
                }
                self.timers.push((deadline, chat, offer));
                self.bump_chat(key);
            }
            Decision::Assigned { chat, agent } => {
                let Some(&key) = self.by_router.get(&chat) else {
                    return;
                };
                self.record_answer(now, key);
                let accepted = self.chats.get(&key).and_then(|r| r.offer).filter(|o| {
                    self.offers.get(o).is_some_and(|o| {
                        o.state == OfferState::Open && o.agent == agent && o.seq.is_some()
                    })
                });
                match accepted {
                    Some(offer_key) => self.end_offer(offer_key, OfferState::Accepted),
                    None => {
                        let offer_key = self.new_offer(OfferRecord {
                            chat: key,
                            router_chat: chat,
                            agent,
                            seq: None,
                            offered_at: now,
                            deadline: None,
                            delivered_at: None,
                            state: OfferState::Assigned,
                        });
                        if let Some(rec) = self.chats.get_mut(&key) {
                            rec.offer = Some(offer_key);
                        }
                    }
                }
                self.bump_chat(key);
            }
            Decision::Rejected { chat, .. } => {
                let Some(key) = self.by_router.remove(&chat) else {
                    return;
                };
                if let Some(rec) = self.chats.remove(&key)
                    && let Some(q) = self.queues.get_mut(rec.arrival_queue)
                {
                    q.tally.record_rejection();
                }
                // A rejected chat is never shown to the client; only the counts keep it.
                let _ = self.router.release(chat);
            }
            Decision::Abandoned { chat } => {
                let Some(&key) = self.by_router.get(&chat) else {
                    return;
                };
                if let Some(rec) = self.chats.get(&key)
                    && !rec.transferred
                {
                    let wait = self.profile_secs(now.saturating_sub(rec.created_at));
                    if let Some(q) = self.queues.get_mut(rec.arrival_queue) {
                        q.tally.record_abandon(wait, q.short_abandon_secs);
                    }
                }
                self.withdraw_offer(key);
                self.finish(key, chat);
            }
            Decision::Closed { chat, .. } => {
                let Some(&key) = self.by_router.get(&chat) else {
                    return;
                };
                let handle = self.end_leg(key, now);
                if let Some(rec) = self.chats.get(&key) {
                    let art = self.profile_secs(now.saturating_sub(rec.created_at));
                    let transferred = rec.transferred;
                    let csat = self.router.chat(chat).and_then(|v| v.csat).map(f64::from);
                    if let Some(q) = self.queues.get_mut(rec.arrival_queue) {
                        let t = &mut q.tally;
                        if let Some(handle) = handle {
                            t.record_handling(handle);
                        }
                        t.record_close(art, transferred, csat);
                    }
                }
                self.withdraw_offer(key);
                self.finish(key, chat);
            }
            Decision::Transferred { chat, .. } => {
                let Some(&key) = self.by_router.get(&chat) else {
                    return;
                };
                self.withdraw_offer(key);
                let handle = self.end_leg(key, now);
                if let Some(rec) = self.chats.get_mut(&key) {
                    if !rec.transferred
                        && let Some(q) = self.queues.get_mut(rec.arrival_queue)
                    {
                        q.tally.record_transfer();
                    }
                    if let Some(q) = self.queues.get_mut(rec.arrival_queue)
                        && let Some(handle) = handle
                    {
                        q.tally.record_handling(handle);
                    }
                    rec.transferred = true;
                }
                self.bump_chat(key);
            }
            Decision::AgentAway { agent } | Decision::AgentOffline { agent } => {
                self.bump_agent(agent);
            }
            Decision::LoadChanged { .. } => {}
        }
    }

    /// Ends the chat's open handling leg at `now`; its length in profile seconds.
    fn end_leg(&mut self, key: u64, now: Time) -> Option<f64> {
        let rec = self.chats.get_mut(&key)?;
        let (start, end) = rec.legs.last_mut().filter(|(_, end)| end.is_none())?;
        *end = Some(now);
        let span = now.saturating_sub(*start);
        Some(self.profile_secs(span))
    }

    /// Opens a handling leg, and tallies the first answer of a chat that was never
    /// transferred, like the simulator.
    fn record_answer(&mut self, now: Time, key: u64) {
        let Some(rec) = self.chats.get_mut(&key) else {
            return;
        };
        rec.legs.push((now, None));
        if rec.transferred || rec.answered_once {
            return;
        }
        rec.answered_once = true;
        let wait_span = now.saturating_sub(rec.created_at);
        let shown = rec.shown_ewt;
        let queue = rec.arrival_queue;
        let wait = self.profile_secs(wait_span);
        let shown = shown.map(|s| self.profile_secs(s));
        if let Some(q) = self.queues.get_mut(queue) {
            q.tally.record_answer(wait, q.threshold_secs);
            self.telemetry.observe_wait(queue, wait);
            if let Some(shown) = shown {
                q.tally.record_shown_wait(shown, wait);
            }
        }
    }

    /// A chat reached a terminal state: keep its last snapshot, release it from the routing
    /// core, and keep the record a while for GET.
    fn finish(&mut self, key: u64, chat: ChatId) {
        let view = self.router.chat(chat);
        // The chat is terminal, so releasing it cannot fail.
        let _ = self.router.release(chat);
        self.by_router.remove(&chat);
        if let Some(rec) = self.chats.get_mut(&key) {
            rec.final_view = view;
            rec.router_id = None;
            if rec.resolution.is_none()
                && view.and_then(|v| v.resolution) == Some(RESOLUTION_CUSTOMER_LEFT)
            {
                rec.resolution = Some(Resolution::CustomerLeft);
            }
            Core::bump(&rec.changes);
        }
        self.ended_chats.push_back(key);
        while self.ended_chats.len() > self.limits.ended_kept {
            if let Some(old) = self.ended_chats.pop_front() {
                self.chats.remove(&old);
            }
        }
    }

    // ----- lookups -----

    fn view(&self, rec: &ChatRecord) -> Option<ChatView> {
        match rec.router_id {
            Some(id) => self.router.chat(id),
            None => rec.final_view,
        }
    }

    fn record(&self, id: &str) -> Result<(u64, &ChatRecord), ApiError> {
        chat_key(id)
            .and_then(|k| self.chats.get(&k).map(|r| (k, r)))
            .ok_or_else(|| ApiError::unknown_chat(id))
    }

    fn live_chat(&self, id: &str, rec: &ChatRecord) -> Result<ChatId, ApiError> {
        let state = self.view(rec).map_or("closed", |v| v.state.as_str());
        rec.router_id
            .ok_or_else(|| ApiError::invalid_state(format!("chat {id} is {state}; it has ended")))
    }

    fn agent_by_name(&self, name: &str) -> Result<AgentId, ApiError> {
        self.router
            .agent_id(name)
            .ok_or_else(|| ApiError::unknown_agent(name))
    }

    /// Decides whether a chat request comes from the chat's customer or from an agent:
    /// `X-Chat-Token` makes it the customer; a bearer is an agent's own token or the chat's.
    fn caller(&self, rec: &ChatRecord, creds: &Credentials) -> Result<Caller, ApiError> {
        if let Some(token) = &creds.chat_token {
            return if same_secret(token, &rec.token) {
                Ok(Caller::Customer)
            } else {
                Err(ApiError::forbidden(
                    "X-Chat-Token is not this chat's token; use the token POST /v1/chats returned for this chat",
                ))
            };
        }
        match &creds.bearer {
            Some(b) if same_secret(b, &rec.token) => Ok(Caller::Customer),
            Some(b) => match self.sessions.agent_of(b) {
                Some(agent) => Ok(Caller::Agent(agent.to_string())),
                None => Err(ApiError::forbidden(
                    "the bearer token is neither this chat's token nor a logged-in agent's; customers send X-Chat-Token: <chat token>, agents the token POST /v1/agents/{id}/login returned",
                )),
            },
            None => Err(ApiError::unauthorized(
                "no credentials: customers send X-Chat-Token: <chat token>, agents Authorization: Bearer <agent token>",
            )),
        }
    }

    /// Checks that `acting` is the agent holding the chat (403 `not_your_chat`).
    fn check_holder(&self, id: &str, view: &ChatView, acting: &str) -> Result<(), ApiError> {
        let holder = view.agent.and_then(|a| self.agent_name(a));
        if holder.as_deref() == Some(acting) {
            Ok(())
        } else {
            Err(ApiError::new(
                axum::http::StatusCode::FORBIDDEN,
                "not_your_chat",
                format!(
                    "chat {id} is with {}, not with agent {acting:?}",
                    holder.map_or("no agent".to_string(), |h| format!("agent {h:?}"))
                ),
            ))
        }
    }

    /// The agent a request on a chat acts as (401 without an agent token).
    fn acting_agent(&self, creds: &Credentials) -> Result<String, ApiError> {
        self.sessions
            .acting(creds.bearer.as_deref())
            .map(str::to_string)
    }

    fn chat_out(&self, key: u64, rec: &ChatRecord, caller: &Caller) -> Result<Chat, ApiError> {
        let id = chat_name(key);
        let view = self.view(rec).ok_or_else(|| ApiError::unknown_chat(&id))?;
        let now = self.now();
        let (position, ewt) = match rec.router_id {
            Some(chat) if view.state == ChatState::Queued => (
                self.router.position(chat).unwrap_or(0),
                self.router.estimated_wait(now, chat).unwrap_or(0),
            ),
            _ => (0, 0),
        };
        let epoch = |t: Option<Time>| t.map(|t| self.epoch(t));
        Ok(Chat {
            id,
            queue: self.queue_name(view.queue),
            customer: rec.customer.clone(),
            priority: view.priority,
            state: view.state.into(),
            position,
            estimated_wait_secs: self.profile_secs(ewt),
            agent: view.agent.and_then(|a| self.agent_name(a)),
            created_at: self.epoch(view.created_at),
            queued_at: self.epoch(view.queued_at),
            offered_at: epoch(view.offered_at),
            answered_at: epoch(view.answered_at),
            first_response_at: epoch(view.first_response_at),
            closed_at: epoch(view.closed_at),
            transfers: view.transfers,
            resolution: rec.resolution,
            csat: view.csat,
            messages: rec.messages.len() as u64,
            legs: rec
                .legs
                .iter()
                .map(|&(answered, ended)| Leg {
                    answered_at: self.epoch(answered),
                    ended_at: ended.map(|t| self.epoch(t)),
                })
                .collect(),
            notes: matches!(caller, Caller::Agent(_)).then(|| rec.notes.clone()),
        })
    }

    // ----- customer and shared chat calls -----

    /// Refuses a new chat while the server holds [`super::ServerLimits::max_chats`] live chats.
    /// The refusal is recorded as a full queue's is: one chat created and rejected.
    fn check_room(&mut self, queue: QueueId, queue_name: &str) -> Result<(), ApiError> {
        let counts = self.router.counts();
        let live = counts.queued + counts.offered + counts.active;
        if live < self.limits.max_chats as u64 {
            return Ok(());
        }
        self.refused_full += 1;
        if let Some(q) = self.queues.get_mut(queue.0 as usize) {
            q.tally.record_arrival();
            q.tally.record_queue_entry();
            q.tally.record_rejection();
        }
        Err(ApiError::new(
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            "server_full",
            format!(
                "the server holds {live} live chats, its limit; the chat for queue {queue_name:?} was not created (counted as rejected), retry later"
            ),
        )
        .with_retry_after(super::RETRY_AFTER_SECS))
    }

    /// `POST /v1/chats`.
    pub fn create_chat(&mut self, req: CreateChatRequest) -> Result<CreatedChat, ApiError> {
        let queue = self
            .router
            .queue_id(&req.queue)
            .ok_or_else(|| ApiError::unknown_queue(&req.queue, &self.queue_names()))?;
        if let Some(c) = &req.customer
            && c.chars().count() > MAX_CUSTOMER_CHARS
        {
            return Err(ApiError::bad_field(format!(
                "customer has {} characters; use at most {MAX_CUSTOMER_CHARS}",
                c.chars().count()
            )));
        }
        let priority = req.priority.unwrap_or(0);
        if priority.abs() > MAX_CHAT_PRIORITY {
            return Err(ApiError::bad_field(format!(
                "priority {priority} is out of range; use -{MAX_CHAT_PRIORITY}..={MAX_CHAT_PRIORITY}"
            )));
        }
        self.check_room(queue, &req.queue)?;
        let now = self.now();
        let chat = self
            .router
            .arrive(now, queue, priority, &mut self.out)
            .map_err(|e| self.route_error(&e, &format!("queue {:?}", req.queue)))?;
        let key = self.next_chat;
        self.next_chat += 1;
        let (changes, _) = watch::channel(0);
        let token = new_token();
        self.chats.insert(
            key,
            ChatRecord {
                token: token.clone(),
                customer: req.customer,
                arrival_queue: queue.0 as usize,
                created_at: now,
                router_id: Some(chat),
                final_view: None,
                messages: Vec::new(),
                notes: Vec::new(),
                legs: Vec::new(),
                changes,
                offer: None,
                transferred: false,
                answered_once: false,
                shown_ewt: None,
                resolution: None,
            },
        );
        self.by_router.insert(chat, key);
        if let Some(q) = self.queues.get_mut(queue.0 as usize) {
            q.tally.record_arrival();
            q.tally.record_queue_entry();
        }
        self.settle(now);
        let Some(view) = self
            .router
            .chat(chat)
            .filter(|_| self.chats.contains_key(&key))
        else {
            return Err(ApiError::new(
                axum::http::StatusCode::SERVICE_UNAVAILABLE,
                "queue_full",
                format!(
                    "queue {:?} is full and no agent is free; the chat was not created (counted as rejected), retry later",
                    req.queue
                ),
            )
            .with_retry_after(super::RETRY_AFTER_SECS));
        };
        let (position, ewt) = if view.state == ChatState::Queued {
            (
                self.router.position(chat).unwrap_or(0),
                self.router.estimated_wait(now, chat).unwrap_or(0),
            )
        } else {
            (0, 0)
        };
        Ok(CreatedChat {
            id: chat_name(key),
            token,
            queue: req.queue,
            state: view.state.into(),
            position,
            estimated_wait_secs: self.profile_secs(ewt),
        })
    }

    /// `GET /v1/chats/{id}`.
    pub fn chat_info(&self, id: &str, creds: &Credentials) -> Result<Chat, ApiError> {
        let (key, rec) = self.record(id)?;
        let caller = self.caller(rec, creds)?;
        self.chat_out(key, rec, &caller)
    }

    /// `POST /v1/chats/{id}/messages`.
    pub fn post_message(
        &mut self,
        id: &str,
        creds: &Credentials,
        req: MessageRequest,
    ) -> Result<api::Message, ApiError> {
        let chars = req.text.chars().count();
        if chars == 0 || chars > self.limits.message_chars {
            return Err(ApiError::bad_field(format!(
                "text has {chars} characters; send 1..={} characters",
                self.limits.message_chars
            )));
        }
        let (key, rec) = self.record(id)?;
        let caller = self.caller(rec, creds)?;
        let chat = self.live_chat(id, rec)?;
        let view = self.view(rec).ok_or_else(|| ApiError::unknown_chat(id))?;
        let count = rec.messages.len();
        let (created_at, arrival_queue, transferred) =
            (rec.created_at, rec.arrival_queue, rec.transferred);
        if count >= self.limits.messages_per_chat {
            return Err(ApiError::new(
                axum::http::StatusCode::CONFLICT,
                "message_limit",
                format!(
                    "chat {id} already has {count} messages, the most one chat may hold; close it and start another"
                ),
            ));
        }
        let now = self.now();
        let from_agent = match &caller {
            Caller::Customer => None,
            Caller::Agent(acting) => {
                self.check_holder(id, &view, acting)?;
                self.router
                    .first_response(now, chat, &mut self.out)
                    .map_err(|e| self.route_error(&e, &format!("chat {id}")))?;
                // The first agent message of a chat never transferred is its first response.
                if view.first_response_at.is_none() && !transferred {
                    let frt = self.profile_secs(now.saturating_sub(created_at));
                    if let Some(q) = self.queues.get_mut(arrival_queue) {
                        q.tally.record_first_response(frt);
                        self.telemetry.observe_first_response(arrival_queue, frt);
                    }
                }
                view.agent.and_then(|a| self.agent_name(a))
            }
        };
        let Some(rec) = self.chats.get_mut(&key) else {
            return Err(ApiError::unknown_chat(id));
        };
        rec.messages.push(StoredMessage {
            from_agent: from_agent.clone(),
            text: req.text.clone(),
            sent_at: now,
        });
        let seq = rec.messages.len() as u64;
        let from = if from_agent.is_some() {
            MessageFrom::Agent
        } else {
            MessageFrom::Customer
        };
        Core::bump(&rec.changes);
        self.settle(now);
        Ok(api::Message {
            seq,
            from,
            agent: from_agent,
            text: req.text,
            sent_at: self.epoch(now),
        })
    }

    /// `GET /v1/chats/{id}/messages`: ready when a message after `after` exists, the chat has
    /// ended, or `force`.
    pub fn poll_messages(
        &self,
        id: &str,
        creds: &Credentials,
        after: u64,
        force: bool,
    ) -> Result<Poll<Messages>, ApiError> {
        let (_, rec) = self.record(id)?;
        self.caller(rec, creds)?;
        let view = self.view(rec).ok_or_else(|| ApiError::unknown_chat(id))?;
        let total = rec.messages.len() as u64;
        if !force && total <= after && !view.state.is_terminal() {
            return Ok(Poll::Wait(rec.changes.subscribe()));
        }
        let skip = usize::try_from(after).unwrap_or(usize::MAX);
        let messages = rec
            .messages
            .iter()
            .enumerate()
            .skip(skip)
            .map(|(i, m)| api::Message {
                seq: i as u64 + 1,
                from: if m.from_agent.is_some() {
                    MessageFrom::Agent
                } else {
                    MessageFrom::Customer
                },
                agent: m.from_agent.clone(),
                text: m.text.clone(),
                sent_at: self.epoch(m.sent_at),
            })
            .collect();
        Ok(Poll::Ready(Messages {
            chat_id: id.to_string(),
            state: view.state.into(),
            messages,
            last_seq: total,
        }))
    }

    /// `POST /v1/chats/{id}/leave` (customer only).
    pub fn leave(&mut self, id: &str, creds: &Credentials) -> Result<Chat, ApiError> {
        let (key, rec) = self.record(id)?;
        if self.caller(rec, creds)? != Caller::Customer {
            return Err(ApiError::forbidden(
                "leave is the customer's call (send X-Chat-Token); agents end chats with POST /v1/chats/{id}/close",
            ));
        }
        let chat = self.live_chat(id, rec)?;
        // The agent of an active chat is told on its inbox that the customer left.
        let holder = self
            .view(rec)
            .filter(|v| v.state == ChatState::Active)
            .and_then(|v| v.agent);
        let now = self.now();
        self.router
            .leave(now, chat, &mut self.out)
            .map_err(|e| self.route_error(&e, &format!("chat {id}")))?;
        self.settle(now);
        if let Some(agent) = holder {
            self.push_event(agent, InboxEventKind::CustomerLeft, key, now);
        }
        self.chat_after(key, id, &Caller::Customer)
    }

    /// Puts an event on an agent's inbox (delivered once by the next offers poll).
    fn push_event(&mut self, agent: AgentId, kind: InboxEventKind, chat_key: u64, now: Time) {
        let at = self.epoch(now);
        let Some(rec) = self.agents.get_mut(agent.0 as usize) else {
            return;
        };
        if rec.events.len() >= MAX_EVENTS {
            rec.events.pop_front();
        }
        rec.events.push_back(InboxEvent {
            kind,
            chat_id: chat_name(chat_key),
            at,
        });
        self.bump_agent(agent);
    }

    fn chat_after(&self, key: u64, id: &str, caller: &Caller) -> Result<Chat, ApiError> {
        let rec = self
            .chats
            .get(&key)
            .ok_or_else(|| ApiError::unknown_chat(id))?;
        self.chat_out(key, rec, caller)
    }

    // ----- agent calls on chats -----

    /// `POST /v1/chats/{id}/close` (the holding agent only).
    pub fn close(
        &mut self,
        id: &str,
        creds: &Credentials,
        req: CloseRequest,
    ) -> Result<Chat, ApiError> {
        let name = Resolution::CLOSING
            .into_iter()
            .find(|r| r.as_str() == req.resolution)
            .ok_or_else(|| {
                let names: Vec<&str> = Resolution::CLOSING.iter().map(|r| r.as_str()).collect();
                ApiError::bad_field(format!(
                    "resolution {:?} is not known; use one of {}",
                    req.resolution,
                    names.join(", ")
                ))
            })?;
        if let Some(csat) = req.csat
            && !(1..=5).contains(&csat)
        {
            return Err(ApiError::bad_field(format!(
                "csat {csat} is out of range; use 1..=5"
            )));
        }
        let acting = self.acting_agent(creds)?;
        let (key, rec) = self.record(id)?;
        let chat = self.live_chat(id, rec)?;
        let view = self.view(rec).ok_or_else(|| ApiError::unknown_chat(id))?;
        self.check_holder(id, &view, &acting)?;
        let now = self.now();
        self.router
            .close(now, chat, resolution_code(name), req.csat, &mut self.out)
            .map_err(|e| self.route_error(&e, &format!("chat {id}")))?;
        if let Some(rec) = self.chats.get_mut(&key) {
            rec.resolution = Some(name);
        }
        self.settle(now);
        self.chat_after(key, id, &Caller::Agent(acting))
    }

    /// `POST /v1/chats/{id}/transfer` (the holding agent only).
    pub fn transfer(
        &mut self,
        id: &str,
        creds: &Credentials,
        req: TransferRequest,
    ) -> Result<Chat, ApiError> {
        if req.note.as_deref().is_some_and(|n| n.trim().is_empty()) {
            return Err(ApiError::bad_field(
                "note is empty; write the handover text, or leave note out",
            ));
        }
        let note = req.note.unwrap_or_default();
        if note.chars().count() > self.limits.message_chars {
            return Err(ApiError::bad_field(format!(
                "note has {} characters; use at most {}",
                note.chars().count(),
                self.limits.message_chars
            )));
        }
        let (target, to) = match (&req.queue, &req.agent) {
            (Some(q), None) => (
                TransferTarget::Queue(
                    self.router
                        .queue_id(q)
                        .ok_or_else(|| ApiError::unknown_queue(q, &self.queue_names()))?,
                ),
                format!("queue:{q}"),
            ),
            (None, Some(a)) => (
                TransferTarget::Agent(self.agent_by_name(a)?),
                format!("agent:{a}"),
            ),
            _ => {
                return Err(ApiError::bad_field(
                    "give exactly one of queue (a queue name) and agent (an agent id)",
                ));
            }
        };
        let acting = self.acting_agent(creds)?;
        let (key, rec) = self.record(id)?;
        let chat = self.live_chat(id, rec)?;
        let view = self.view(rec).ok_or_else(|| ApiError::unknown_chat(id))?;
        self.check_holder(id, &view, &acting)?;
        let from_agent = view.agent.and_then(|a| self.agent_name(a));
        let now = self.now();
        self.router
            .transfer(now, chat, target, &mut self.out)
            .map_err(|e| self.route_error(&e, &format!("chat {id}")))?;
        let at = self.epoch(now);
        if let Some(rec) = self.chats.get_mut(&key) {
            rec.notes.push(Note {
                from_agent,
                to,
                note,
                at,
            });
        }
        self.settle(now);
        self.chat_after(key, id, &Caller::Agent(acting))
    }

    // ----- agents -----

    fn agent_out(&self, agent: AgentId, registered: bool) -> Result<api::Agent, ApiError> {
        let view = self
            .router
            .agent(agent)
            .ok_or_else(|| ApiError::unknown_agent(&agent.to_string()))?;
        let skills = self
            .agents
            .get(agent.0 as usize)
            .map(|r| {
                r.skills
                    .iter()
                    .map(|(name, proficiency)| Skill {
                        name: name.clone(),
                        proficiency: *proficiency,
                    })
                    .collect()
            })
            .unwrap_or_default();
        Ok(api::Agent {
            id: view.name,
            status: view.status.into(),
            skills,
            concurrency: view.cap,
            active: view.active,
            pending_offers: view.pending_offers,
            misses: view.misses,
            registered,
        })
    }

    /// `POST /v1/agents/{id}/login`: a new token for the agent (see `auth`).
    pub fn login(&mut self, name: &str, creds: &Credentials) -> Result<Login, ApiError> {
        valid_agent_name(name)?;
        let online = self
            .router
            .agent_id(name)
            .and_then(|a| self.router.agent(a))
            .is_some_and(|v| v.status != AgentStatus::Offline);
        let token = self.sessions.login(name, creds.bearer.as_deref(), online)?;
        Ok(Login {
            agent: name.to_string(),
            token,
        })
    }

    /// `GET /v1/agents/{id}` (the agent's own token).
    pub fn agent_info(&self, name: &str, creds: &Credentials) -> Result<api::Agent, ApiError> {
        self.sessions.require(name, creds.bearer.as_deref())?;
        let agent = self.agent_by_name(name)?;
        self.agent_out(agent, false)
    }

    fn parse_skills(&self, skills: Vec<SkillRequest>) -> Result<Vec<(String, u8)>, ApiError> {
        let mut parsed: Vec<(String, u8)> = Vec::with_capacity(skills.len());
        for skill in skills {
            let (name, proficiency) = match skill {
                SkillRequest::Name(name) => (name, DEFAULT_PROFICIENCY),
                SkillRequest::Full { name, proficiency } => {
                    (name, proficiency.unwrap_or(DEFAULT_PROFICIENCY))
                }
            };
            if !self.queue_skills.contains(&name) {
                return Err(ApiError::bad_field(format!(
                    "skills: {name:?} is no queue's skill; use some of {}",
                    self.queue_skills.join(", ")
                )));
            }
            if !(1..=MAX_PROFICIENCY).contains(&proficiency) {
                return Err(ApiError::bad_field(format!(
                    "skills: {name:?} proficiency {proficiency} is out of range; use 1..={MAX_PROFICIENCY}"
                )));
            }
            if parsed.iter().any(|(n, _)| *n == name) {
                return Err(ApiError::bad_field(format!(
                    "skills: {name:?} is listed twice; list each skill once"
                )));
            }
            parsed.push((name, proficiency));
        }
        if parsed.is_empty() {
            return Err(ApiError::bad_field(
                "skills is empty; list at least one queue skill",
            ));
        }
        Ok(parsed)
    }

    /// The skills and cap of a newly registered agent: those of the profile's agent group
    /// whose name is the longest prefix of the id, else every queue skill and cap 1.
    fn default_agent(&self, name: &str) -> (Vec<(String, u8)>, u32) {
        self.groups
            .iter()
            .filter(|g| name.starts_with(&g.name))
            .max_by_key(|g| g.name.len())
            .map(|g| (g.skills.clone(), g.cap))
            .unwrap_or_else(|| {
                let skills = self
                    .queue_skills
                    .iter()
                    .map(|s| (s.clone(), DEFAULT_PROFICIENCY))
                    .collect();
                (skills, 1)
            })
    }

    /// `POST /v1/agents/{id}/status` (the agent's own token): registers the agent on its first
    /// call.
    pub fn agent_status(
        &mut self,
        name: &str,
        creds: &Credentials,
        req: StatusRequest,
    ) -> Result<api::Agent, ApiError> {
        valid_agent_name(name)?;
        self.sessions.require(name, creds.bearer.as_deref())?;
        let status = parse_status(&req.status)?;
        let skills = req.skills.map(|s| self.parse_skills(s)).transpose()?;
        if let Some(cap) = req.concurrency
            && !(1..=MAX_CAP).contains(&cap)
        {
            return Err(ApiError::bad_field(format!(
                "concurrency {cap} is out of range; use 1..={MAX_CAP}"
            )));
        }
        let now = self.now();
        let (agent, registered) = match self.router.agent_id(name) {
            Some(agent) => {
                let registered_skills = self
                    .agents
                    .get(agent.0 as usize)
                    .map(|r| r.skills.clone())
                    .unwrap_or_default();
                if let Some(skills) = &skills {
                    let mut a = skills.clone();
                    let mut b = registered_skills.clone();
                    a.sort();
                    b.sort();
                    if a != b {
                        return Err(ApiError::new(
                            axum::http::StatusCode::CONFLICT,
                            "skills_fixed",
                            format!(
                                "agent {name:?} is registered with other skills; skills are set on the first call only, omit them"
                            ),
                        ));
                    }
                }
                if let Some(cap) = req.concurrency {
                    self.router
                        .set_cap(now, agent, cap, &mut self.out)
                        .map_err(|e| self.route_error(&e, &format!("agent {name:?}")))?;
                }
                (agent, false)
            }
            None => {
                if self.agents.len() >= self.limits.max_agents {
                    return Err(ApiError::new(
                        axum::http::StatusCode::SERVICE_UNAVAILABLE,
                        "capacity",
                        format!(
                            "{} agents are registered, the most this server takes; reuse agent ids",
                            self.agents.len()
                        ),
                    )
                    .with_retry_after(super::RETRY_AFTER_SECS));
                }
                let (default_skills, default_cap) = self.default_agent(name);
                let skills = skills.unwrap_or(default_skills);
                let agent = self
                    .router
                    .add_agent(AgentConfig {
                        name: name.to_string(),
                        skills: skills.clone(),
                        cap: req.concurrency.unwrap_or(default_cap),
                    })
                    .map_err(|e| self.route_error(&e, &format!("agent {name:?}")))?;
                let (changes, _) = watch::channel(0);
                self.agents.push(AgentRecord {
                    skills,
                    inbox: Vec::new(),
                    events: VecDeque::new(),
                    changes,
                });
                (agent, true)
            }
        };
        self.router
            .set_status(now, agent, status, &mut self.out)
            .map_err(|e| self.route_error(&e, &format!("agent {name:?}")))?;
        self.settle(now);
        self.bump_agent(agent);
        self.agent_out(agent, registered)
    }

    fn offer_out(&self, key: u64, offer: &OfferRecord) -> Option<Offer> {
        let rec = self.chats.get(&offer.chat)?;
        let view = self.view(rec)?;
        Some(Offer {
            offer_id: offer_name(key),
            kind: if offer.seq.is_some() {
                OfferKind::Offer
            } else {
                OfferKind::Assignment
            },
            chat_id: chat_name(offer.chat),
            queue: self.queue_name(view.queue),
            customer: rec.customer.clone(),
            priority: view.priority,
            chat_created_at: self.epoch(view.created_at),
            offered_at: self.epoch(offer.offered_at),
            deadline: offer.deadline.map(|d| self.epoch(d)),
            delivered_at: self.epoch(offer.delivered_at.unwrap_or(offer.offered_at)),
            transfers: view.transfers,
        })
    }

    /// `GET /v1/agents/{id}/offers` (the agent's own token): ready when something in the inbox
    /// was never delivered, or `force`. Delivering records the route latency of each first
    /// delivery; a delivered assignment or event leaves the inbox, an offer stays until
    /// answered or lapsed.
    pub fn poll_offers(
        &mut self,
        name: &str,
        creds: &Credentials,
        force: bool,
    ) -> Result<Poll<Inbox>, ApiError> {
        self.sessions.require(name, creds.bearer.as_deref())?;
        let agent = self.agent_by_name(name)?;
        let Some(rec) = self.agents.get(agent.0 as usize) else {
            return Err(ApiError::unknown_agent(name));
        };
        let fresh = !rec.events.is_empty()
            || rec
                .inbox
                .iter()
                .any(|k| self.offers.get(k).is_some_and(|o| o.delivered_at.is_none()));
        if !fresh && !force {
            return Ok(Poll::Wait(rec.changes.subscribe()));
        }
        let inbox = rec.inbox.clone();
        let now = self.now();
        let mut offers = Vec::with_capacity(inbox.len());
        let mut delivered_assignments = Vec::new();
        for key in inbox {
            let Some(offer) = self.offers.get_mut(&key) else {
                continue;
            };
            if offer.delivered_at.is_none() {
                offer.delivered_at = Some(now);
                let latency = now.saturating_sub(offer.offered_at);
                let _ = self.route_latency.record(latency);
                self.telemetry
                    .observe_route_latency(latency as f64 / SECOND as f64);
                if offer.seq.is_none() {
                    delivered_assignments.push(key);
                }
            }
            if let Some(offer) = self.offers.get(&key)
                && let Some(out) = self.offer_out(key, offer)
            {
                offers.push(out);
            }
        }
        // A delivered assignment needs no answer: it leaves the inbox and is kept a while.
        for key in delivered_assignments {
            self.end_offer(key, OfferState::Assigned);
        }
        let events = self
            .agents
            .get_mut(agent.0 as usize)
            .map(|r| r.events.drain(..).collect())
            .unwrap_or_default();
        let status = self
            .router
            .agent(agent)
            .map_or(api::AgentStatus::Offline, |v| v.status.into());
        Ok(Poll::Ready(Inbox {
            agent: name.to_string(),
            status,
            server_time: self.epoch(now),
            offers,
            events,
        }))
    }

    fn offer_for_answer(
        &self,
        id: &str,
        creds: &Credentials,
    ) -> Result<(u64, AgentId, ChatId, u64), ApiError> {
        let key = offer_key(id).ok_or_else(|| ApiError::unknown_offer(id))?;
        let offer = self
            .offers
            .get(&key)
            .ok_or_else(|| ApiError::unknown_offer(id))?;
        let holder = self.agent_name(offer.agent).unwrap_or_default();
        let acting = self.sessions.acting(creds.bearer.as_deref())?;
        if acting != holder {
            return Err(ApiError::new(
                axum::http::StatusCode::FORBIDDEN,
                "not_your_offer",
                format!("offer {id} was made to agent {holder:?}, not to {acting:?}"),
            ));
        }
        match offer.state {
            OfferState::Open => Ok((key, offer.agent, offer.router_chat, offer.chat)),
            OfferState::Expired => Err(ApiError::new(
                axum::http::StatusCode::CONFLICT,
                "offer_expired",
                format!(
                    "offer {id} has expired; the chat went to another agent or back to its queue"
                ),
            )),
            state => Err(ApiError::new(
                axum::http::StatusCode::CONFLICT,
                "invalid_state",
                format!(
                    "offer {id} is {}; only an open offer can be answered",
                    state.as_str()
                ),
            )),
        }
    }

    /// `POST /v1/offers/{id}/accept`.
    pub fn accept(&mut self, id: &str, creds: &Credentials) -> Result<OfferAnswer, ApiError> {
        let (key, agent, chat, chat_key) = self.offer_for_answer(id, creds)?;
        let now = self.now();
        self.router
            .accept(now, chat, agent, &mut self.out)
            .map_err(|e| self.route_error(&e, &format!("offer {id}")))?;
        self.settle(now);
        Ok(self.answer_out(key, chat_key, OfferOutcome::Accepted))
    }

    /// `POST /v1/offers/{id}/decline`.
    pub fn decline(&mut self, id: &str, creds: &Credentials) -> Result<OfferAnswer, ApiError> {
        let (key, agent, chat, chat_key) = self.offer_for_answer(id, creds)?;
        let now = self.now();
        self.router
            .decline(now, chat, agent, &mut self.out)
            .map_err(|e| self.route_error(&e, &format!("offer {id}")))?;
        self.end_offer(key, OfferState::Declined);
        self.settle(now);
        Ok(self.answer_out(key, chat_key, OfferOutcome::Declined))
    }

    fn answer_out(&self, key: u64, chat_key: u64, offer_state: OfferOutcome) -> OfferAnswer {
        let chat_state = self
            .chats
            .get(&chat_key)
            .and_then(|r| self.view(r))
            .map_or(api::ChatState::Closed, |v| v.state.into());
        OfferAnswer {
            offer_id: offer_name(key),
            chat_id: chat_name(chat_key),
            offer_state,
            chat_state,
        }
    }

    /// An offer deadline passed. Stale timers (the offer was answered or the chat ended) change
    /// nothing.
    pub fn offer_timeout(&mut self, chat: ChatId, seq: OfferSeq) {
        let Some(view) = self.router.chat(chat) else {
            return;
        };
        if view.state != ChatState::Offered || view.offer != Some(seq) {
            return;
        }
        let now = self.now();
        if self
            .router
            .offer_timeout(now, chat, seq, &mut self.out)
            .is_err()
        {
            return;
        }
        if let Some(&key) = self.by_router.get(&chat)
            && let Some(offer_key) = self.chats.get(&key).and_then(|r| r.offer)
            && self
                .offers
                .get(&offer_key)
                .is_some_and(|o| o.seq == Some(seq) && o.state == OfferState::Open)
        {
            self.end_offer(offer_key, OfferState::Expired);
        }
        self.settle(now);
    }

    // ----- operations -----

    fn queue_stats(&self, tally: &QueueTally, waiting: u64) -> QueueStats {
        QueueStats {
            kpis: QueueKpis::from_tally(tally),
            wait_p50_secs: tally.wait_hist().quantile_secs(0.5),
            wait_p90_secs: tally.wait_hist().quantile_secs(0.9),
            frt_p90_secs: tally.frt_hist().quantile_secs(0.9),
            waiting,
        }
    }

    /// `GET /metrics`: the stats and the live histograms, taken in one step.
    pub fn metrics_snapshot(&self) -> prom::Snapshot {
        prom::Snapshot {
            stats: self.stats(false),
            answered_within: self
                .queues
                .iter()
                .map(|q| (q.name.clone(), q.tally.answered_within()))
                .collect(),
            live: self.telemetry.gather(),
        }
    }

    /// `GET /v1/stats`; `buckets` adds the route-latency histogram's counts.
    pub fn stats(&self, buckets: bool) -> Stats {
        let counts = self.router.counts();
        let mut overall = QueueTally::default();
        let mut queues = BTreeMap::new();
        for (i, q) in self.queues.iter().enumerate() {
            overall.merge(&q.tally);
            let waiting = self.router.queue_len(QueueId(i as u32)) as u64;
            queues.insert(q.name.clone(), self.queue_stats(&q.tally, waiting));
        }
        let mut agents = AgentCounts {
            registered: self.agents.len() as u64,
            ..AgentCounts::default()
        };
        for i in 0..self.router.num_agents() {
            match self.router.agent(AgentId(i as u32)).map(|v| v.status) {
                Some(AgentStatus::Available) => agents.available += 1,
                Some(AgentStatus::Away) => agents.away += 1,
                Some(AgentStatus::Offline) => agents.offline += 1,
                Some(AgentStatus::Draining) => agents.draining += 1,
                None => {}
            }
        }
        let route_latency = Latency::of(&self.route_latency);
        let route_latency_buckets = buckets.then(|| {
            self.route_latency
                .iter_recorded()
                .map(|v| [v.value_iterated_to(), v.count_at_value()])
                .collect()
        });
        let waiting = counts.queued;
        Stats {
            profile: self.profile_name.clone(),
            time_scale: self.scale,
            uptime_secs: self.start.elapsed().as_secs_f64(),
            chats: ChatCounts {
                created: counts.created + self.refused_full,
                queued: counts.queued,
                offered: counts.offered,
                active: counts.active,
                closed: counts.closed,
                abandoned: counts.abandoned,
                rejected: counts.rejected + self.refused_full,
            },
            agents,
            overall: self.queue_stats(&overall, waiting),
            queues,
            route_latency,
            route_latency_buckets,
            retained: Retained {
                chats: self.chats.len() as u64,
                offers: self.offers.len() as u64,
            },
        }
    }
}

impl From<ChatState> for api::ChatState {
    fn from(state: ChatState) -> api::ChatState {
        match state {
            ChatState::Queued => api::ChatState::Queued,
            ChatState::Offered => api::ChatState::Offered,
            ChatState::Active => api::ChatState::Active,
            ChatState::Closed => api::ChatState::Closed,
            ChatState::Abandoned => api::ChatState::Abandoned,
            ChatState::Rejected => api::ChatState::Rejected,
        }
    }
}

impl From<AgentStatus> for api::AgentStatus {
    fn from(status: AgentStatus) -> api::AgentStatus {
        match status {
            AgentStatus::Available => api::AgentStatus::Available,
            AgentStatus::Away => api::AgentStatus::Away,
            AgentStatus::Offline => api::AgentStatus::Offline,
            AgentStatus::Draining => api::AgentStatus::Draining,
        }
    }
}
