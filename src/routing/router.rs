//! The router: slabs of queues, skills, agents and chats with integer ids, plus two families of
//! indexed heaps that make every routing choice O(log n):
//!
//! - per skill, the *ready* agents (available with a free slot), keyed by the selection policy;
//! - per queue, the waiting chats, keyed by the chat order.
//!
//! A new chat looks at the top of its skill's heap; an agent with a free slot looks at the tops
//! of the few queues its skills serve. Nothing scans all agents or all chats, and nothing
//! allocates once the vectors have reached their high-water marks.

use std::collections::HashMap;

use super::Time;
use super::heap::{IndexedHeap, NOT_IN_HEAP, Positions};
use super::limits::{MAX_CAP, MAX_PROFICIENCY};
use super::policy::{AcceptMode, AgentSelection, ChatOrder, TransferPlace};
use super::types::{
    AgentConfig, AgentId, AgentStatus, AgentView, ChatId, ChatState, ChatView, Decision, Decisions,
    OfferSeq, QueueConfig, QueueId, RESOLUTION_CUSTOMER_LEFT, RouteError, RouterConfig,
    StateCounts, TransferTarget,
};

/// "No agent" / "no chat" in the compact u32 fields.
const NONE: u32 = u32::MAX;

/// "Not yet" in the chat time fields.
const NEVER: Time = Time::MAX;

/// A chat time field as an option.
#[inline(always)]
fn when(t: Time) -> Option<Time> {
    (t != NEVER).then_some(t)
}

/// Weight of a new sample in the per-queue moving averages (1/8).
const EWMA_SHIFT: u32 = 3;

/// Order of waiting chats: lower first. Weighted: `(score, 0, seq)`; strict:
/// `(-priority, queued_at, seq)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct ChatKey {
    primary: i64,
    secondary: u64,
    seq: u64,
}

/// Order of ready agents: lower first. Ties go by the heap item, the index of the (agent,
/// skill) pair: one skill's heap holds each agent once, and pairs are numbered in agent order,
/// so that is the agent id. Two words cover every policy (most-skilled packs the proficiency
/// above the busy fraction), so a heap entry is 24 bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct AgentKey {
    a: u64,
    b: u64,
}

/// The busy fraction `(load << 32) / cap` is at most `1 << 32`: 33 bits.
const BUSY_BITS: u32 = 33;

/// One (agent, skill) pair; all agents' pairs live in one flat vector, and the ready heaps hold
/// indices into it, so recording a heap position is a single write.
#[derive(Debug, Clone, Copy)]
struct AgentSkill {
    agent: u32,
    skill: u32,
    proficiency: u8,
    /// Position in the skill's ready heap, or `NOT_IN_HEAP`.
    pos: u32,
}

#[derive(Debug, Clone)]
struct Agent {
    name: String,
    /// This agent's pairs: `agent_skills[first_skill..first_skill + skill_count]`.
    first_skill: u32,
    skill_count: u32,
    cap: u32,
    status: AgentStatus,
    active: u32,
    pending: u32,
    idle_since: Time,
    misses: u32,
    /// Round-robin turn: the counter value when the agent last received a chat.
    turn: u64,
}

impl Agent {
    #[inline(always)]
    fn load(&self) -> u32 {
        self.active + self.pending
    }

    #[inline(always)]
    fn is_ready(&self) -> bool {
        self.status == AgentStatus::Available && self.load() < self.cap
    }
}

#[derive(Debug, Clone, Default)]
struct Skill {
    name: String,
    queues: Vec<u32>,
    ready: IndexedHeap<AgentKey>,
    /// Sum of caps of available agents with this skill (the EWT fallback's serving slots).
    available_slots: u64,
}

#[derive(Debug, Clone)]
struct Queue {
    name: String,
    skill: u32,
    priority: i32,
    max_len: Option<u32>,
    waiting: IndexedHeap<ChatKey>,
    /// An upper bound of the keys in `waiting` (exact until a chat leaves): a chat whose key
    /// is above it sorts last, so its position is the queue length without counting.
    max_key: Option<ChatKey>,
    /// Moving average of the time between answers of waiting chats.
    answer_gap: Option<Time>,
    /// The last answer of a waiting chat, or when the queue last became non-empty.
    gap_anchor: Time,
    /// Moving average of answered-to-closed time of this queue's chats.
    handle_time: Option<Time>,
    /// Handle time to assume before any chat has closed.
    handle_time_hint: Option<Time>,
}

#[derive(Debug, Clone)]
struct Chat {
    generation: u32,
    live: bool,
    state: ChatState,
    queue: u32,
    agent: u32,
    /// The priority given at arrival, before the queue's is added.
    own_priority: i32,
    priority: i32,
    created_at: Time,
    queued_at: Time,
    /// Times as [`NEVER`] until they happen (plain words keep the slot small: it is rewritten
    /// whole for every arrival).
    offered_at: Time,
    answered_at: Time,
    first_response_at: Time,
    closed_at: Time,
    transfers: u32,
    shown_ewt: Time,
    resolution: Option<u8>,
    csat: Option<u8>,
    seq: u64,
    heap_pos: u32,
    offer: u32,
    deadline: Time,
    /// While queued: the agent passed over until its next routing pass.
    skipped: u32,
    /// The agent whose offer of this chat last lapsed (for a clear error on a late accept).
    missed_by: u32,
}

impl Chat {
    fn vacant() -> Chat {
        Chat {
            generation: 0,
            live: false,
            state: ChatState::Closed,
            queue: 0,
            agent: NONE,
            own_priority: 0,
            priority: 0,
            created_at: 0,
            queued_at: 0,
            offered_at: NEVER,
            answered_at: NEVER,
            first_response_at: NEVER,
            closed_at: NEVER,
            transfers: 0,
            shown_ewt: NEVER,
            resolution: None,
            csat: None,
            seq: 0,
            heap_pos: NOT_IN_HEAP,
            offer: 0,
            deadline: 0,
            skipped: NONE,
            missed_by: NONE,
        }
    }
}

struct ChatPositions<'a>(&'a mut [Chat]);

impl Positions for ChatPositions<'_> {
    fn set(&mut self, item: u32, pos: u32) {
        if let Some(chat) = self.0.get_mut(item as usize) {
            chat.heap_pos = pos;
        }
    }
}

struct SkillPositions<'a>(&'a mut [AgentSkill]);

impl Positions for SkillPositions<'_> {
    fn set(&mut self, item: u32, pos: u32) {
        if let Some(pair) = self.0.get_mut(item as usize) {
            pair.pos = pos;
        }
    }
}

/// Chats released so far, per terminal state (they stay counted).
#[derive(Debug, Clone, Copy, Default)]
struct Released {
    closed: u64,
    abandoned: u64,
    rejected: u64,
}

/// The routing core. See the [module docs](super) for the rules.
#[derive(Debug, Clone)]
pub struct Router {
    config: RouterConfig,
    queues: Vec<Queue>,
    skills: Vec<Skill>,
    agents: Vec<Agent>,
    agent_skills: Vec<AgentSkill>,
    chats: Vec<Chat>,
    free_chats: Vec<u32>,
    queue_names: HashMap<String, u32>,
    agent_names: HashMap<String, u32>,
    skill_names: HashMap<String, u32>,
    counts: StateCounts,
    released: Released,
    next_seq: u64,
    next_turn: u64,
    /// Whether [`Decision::LoadChanged`] is emitted.
    load_notices: bool,
}

fn time_to_i64(t: Time) -> i64 {
    i64::try_from(t).unwrap_or(i64::MAX)
}

fn ewma(old: Option<Time>, sample: Time) -> Time {
    match old {
        None => sample,
        Some(avg) => avg - (avg >> EWMA_SHIFT) + (sample >> EWMA_SHIFT),
    }
}

impl Router {
    /// An empty router with these policies.
    pub fn new(config: RouterConfig) -> Router {
        Router {
            config,
            queues: Vec::new(),
            skills: Vec::new(),
            agents: Vec::new(),
            agent_skills: Vec::new(),
            chats: Vec::new(),
            free_chats: Vec::new(),
            queue_names: HashMap::new(),
            agent_names: HashMap::new(),
            skill_names: HashMap::new(),
            counts: StateCounts::default(),
            released: Released::default(),
            next_seq: 0,
            next_turn: 0,
            load_notices: true,
        }
    }

    /// Turns [`Decision::LoadChanged`] on (the default) or off, for a driver that tracks
    /// agents' loads itself and would only skip them.
    pub fn set_load_notices(&mut self, on: bool) {
        self.load_notices = on;
    }

    /// The policies this router runs.
    pub fn config(&self) -> &RouterConfig {
        &self.config
    }

    // ----- setup -----

    fn intern_skill(&mut self, name: &str) -> Result<u32, RouteError> {
        if let Some(&s) = self.skill_names.get(name) {
            return Ok(s);
        }
        let id = u32::try_from(self.skills.len())
            .ok()
            .filter(|&i| i != NONE)
            .ok_or(RouteError::Capacity { kind: "skills" })?;
        self.skills.push(Skill {
            name: name.to_string(),
            ..Skill::default()
        });
        self.skill_names.insert(name.to_string(), id);
        Ok(id)
    }

    /// Adds a queue (setup time). Its skill need not be held by any agent yet.
    pub fn add_queue(&mut self, q: QueueConfig) -> Result<QueueId, RouteError> {
        if q.name.is_empty() {
            return Err(RouteError::EmptyName { kind: "queue" });
        }
        if q.skill.is_empty() {
            return Err(RouteError::EmptyName { kind: "skill" });
        }
        if self.queue_names.contains_key(&q.name) {
            return Err(RouteError::DuplicateName {
                kind: "queue",
                name: q.name,
            });
        }
        let id = u32::try_from(self.queues.len())
            .ok()
            .filter(|&i| i != NONE)
            .ok_or(RouteError::Capacity { kind: "queues" })?;
        let skill = self.intern_skill(&q.skill)?;
        self.queue_names.insert(q.name.clone(), id);
        self.queues.push(Queue {
            name: q.name,
            skill,
            priority: q.priority,
            max_len: q.max_len,
            waiting: IndexedHeap::default(),
            max_key: None,
            answer_gap: None,
            gap_anchor: 0,
            handle_time: None,
            handle_time_hint: None,
        });
        if let Some(s) = self.skills.get_mut(skill as usize) {
            s.queues.push(id);
        }
        Ok(QueueId(id))
    }

    /// Adds an agent (setup time), `Offline`. Skills no queue uses are fine.
    pub fn add_agent(&mut self, a: AgentConfig) -> Result<AgentId, RouteError> {
        if a.name.is_empty() {
            return Err(RouteError::EmptyName { kind: "agent" });
        }
        if self.agent_names.contains_key(&a.name) {
            return Err(RouteError::DuplicateName {
                kind: "agent",
                name: a.name,
            });
        }
        if a.cap > MAX_CAP {
            return Err(RouteError::InvalidCap {
                agent: a.name,
                cap: a.cap,
            });
        }
        for (i, (skill, proficiency)) in a.skills.iter().enumerate() {
            if skill.is_empty() {
                return Err(RouteError::EmptyName { kind: "skill" });
            }
            if !(1..=MAX_PROFICIENCY).contains(proficiency) {
                return Err(RouteError::InvalidProficiency {
                    agent: a.name,
                    skill: skill.clone(),
                    value: *proficiency,
                });
            }
            if a.skills[..i].iter().any(|(s, _)| s == skill) {
                return Err(RouteError::DuplicateSkill {
                    agent: a.name,
                    skill: skill.clone(),
                });
            }
        }
        let id = u32::try_from(self.agents.len())
            .ok()
            .filter(|&i| i != NONE)
            .ok_or(RouteError::Capacity { kind: "agents" })?;
        let new_skills = a
            .skills
            .iter()
            .filter(|(s, _)| !self.skill_names.contains_key(s))
            .count();
        if self.skills.len().saturating_add(new_skills) >= NONE as usize {
            return Err(RouteError::Capacity { kind: "skills" });
        }
        let first_skill = u32::try_from(self.agent_skills.len())
            .ok()
            .filter(|first| {
                first
                    .checked_add(a.skills.len() as u32)
                    .is_some_and(|end| end < NONE)
            })
            .ok_or(RouteError::Capacity { kind: "skills" })?;
        for (skill, proficiency) in &a.skills {
            let skill = self.intern_skill(skill)?;
            self.agent_skills.push(AgentSkill {
                agent: id,
                skill,
                proficiency: *proficiency,
                pos: NOT_IN_HEAP,
            });
        }
        self.agent_names.insert(a.name.clone(), id);
        self.agents.push(Agent {
            name: a.name,
            first_skill,
            skill_count: a.skills.len() as u32,
            cap: a.cap,
            status: AgentStatus::Offline,
            active: 0,
            pending: 0,
            idle_since: 0,
            misses: 0,
            turn: u64::from(id),
        });
        self.next_turn = self.next_turn.max(u64::from(id) + 1);
        Ok(AgentId(id))
    }

    /// Sets the handle time the EWT fallback assumes for `queue` until its first chat closes.
    pub fn set_handle_time_hint(
        &mut self,
        queue: QueueId,
        handle_time: Time,
    ) -> Result<(), RouteError> {
        let q = self
            .queues
            .get_mut(queue.0 as usize)
            .ok_or(RouteError::UnknownQueue(queue))?;
        q.handle_time_hint = Some(handle_time);
        Ok(())
    }

    // ----- lookups -----

    #[inline(always)]
    fn chat_index(&self, chat: ChatId) -> Result<usize, RouteError> {
        match self.chats.get(chat.index as usize) {
            Some(c) if c.live && c.generation == chat.generation => Ok(chat.index as usize),
            _ => Err(RouteError::UnknownChat(chat)),
        }
    }

    #[inline(always)]
    fn agent_index(&self, agent: AgentId) -> Result<usize, RouteError> {
        if (agent.0 as usize) < self.agents.len() {
            Ok(agent.0 as usize)
        } else {
            Err(RouteError::UnknownAgent(agent))
        }
    }

    #[inline(always)]
    fn chat_id(&self, index: u32) -> ChatId {
        let generation = self.chats.get(index as usize).map_or(0, |c| c.generation);
        ChatId { index, generation }
    }

    #[inline(always)]
    fn count_of(&mut self, state: ChatState) -> &mut u64 {
        match state {
            ChatState::Queued => &mut self.counts.queued,
            ChatState::Offered => &mut self.counts.offered,
            ChatState::Active => &mut self.counts.active,
            ChatState::Closed => &mut self.counts.closed,
            ChatState::Abandoned => &mut self.counts.abandoned,
            ChatState::Rejected => &mut self.counts.rejected,
        }
    }

    #[inline(always)]
    fn set_state(&mut self, c: usize, state: ChatState) {
        let old = self.chats[c].state;
        *self.count_of(old) -= 1;
        *self.count_of(state) += 1;
        self.chats[c].state = state;
    }

    // ----- keys -----

    #[inline(always)]
    fn chat_key(&self, c: &Chat) -> ChatKey {
        match self.config.order {
            ChatOrder::Weighted { priority_weight } => {
                let weight = time_to_i64(priority_weight);
                let boost = i64::from(c.priority).saturating_mul(weight);
                ChatKey {
                    primary: time_to_i64(c.queued_at).saturating_sub(boost),
                    secondary: 0,
                    seq: c.seq,
                }
            }
            ChatOrder::Strict => ChatKey {
                primary: -i64::from(c.priority),
                secondary: c.queued_at,
                seq: c.seq,
            },
        }
    }

    #[inline(always)]
    fn agent_key(&self, a: usize, proficiency: u8) -> AgentKey {
        let agent = &self.agents[a];
        let busy = (u64::from(agent.load()) << 32) / u64::from(agent.cap.max(1));
        match self.config.selection {
            AgentSelection::LeastBusy => AgentKey {
                a: busy,
                b: agent.idle_since,
            },
            AgentSelection::LongestIdle => AgentKey {
                a: agent.idle_since,
                b: 0,
            },
            AgentSelection::RoundRobin => AgentKey {
                a: agent.turn,
                b: 0,
            },
            AgentSelection::MostSkilled => AgentKey {
                a: (u64::from(MAX_PROFICIENCY.saturating_sub(proficiency)) << BUSY_BITS) | busy,
                b: agent.idle_since,
            },
        }
    }

    /// Puts the agent into, moves it within, or takes it out of its skills' ready heaps.
    #[inline(always)]
    fn refresh_agent(&mut self, a: usize) {
        let ready = self.agents[a].is_ready();
        for slot in self.skill_slots(a) {
            let AgentSkill {
                skill,
                proficiency,
                pos,
                ..
            } = self.agent_skills[slot];
            if !ready && pos == NOT_IN_HEAP {
                continue;
            }
            let key = ready.then(|| self.agent_key(a, proficiency));
            let Some(heap) = self.skills.get_mut(skill as usize).map(|s| &mut s.ready) else {
                continue;
            };
            let mut positions = SkillPositions(&mut self.agent_skills);
            let Some(key) = key else {
                heap.remove_at(pos, &mut positions);
                continue;
            };
            if pos == NOT_IN_HEAP {
                heap.push(key, slot as u32, &mut positions);
            } else {
                heap.update_at(pos, key, &mut positions);
            }
        }
    }

    /// Indices of the agent's (agent, skill) pairs in `agent_skills`.
    #[inline(always)]
    fn skill_slots(&self, a: usize) -> std::ops::Range<usize> {
        let agent = &self.agents[a];
        agent.first_skill as usize..(agent.first_skill + agent.skill_count) as usize
    }

    /// Adds (`add`) or removes the agent's cap from its skills' available slots.
    fn count_slots(&mut self, a: usize, add: bool) {
        let agent = &self.agents[a];
        if agent.status != AgentStatus::Available {
            return;
        }
        let cap = u64::from(agent.cap);
        for slot in self.skill_slots(a) {
            let skill = self.agent_skills[slot].skill as usize;
            if let Some(skill) = self.skills.get_mut(skill) {
                if add {
                    skill.available_slots += cap;
                } else {
                    skill.available_slots -= cap;
                }
            }
        }
    }

    // ----- routing -----

    /// The best ready agent for a chat of queue `q`, other than `exclude`.
    #[inline(always)]
    fn best_agent(&self, q: usize, exclude: u32) -> Option<usize> {
        let skill = self.queues[q].skill as usize;
        let pairs = &self.agent_skills;
        let agent_of = |slot: u32| pairs.get(slot as usize).map_or(NONE, |pair| pair.agent);
        self.skills[skill]
            .ready
            .peek_skipping(|_, slot| agent_of(slot) == exclude)
            .map(|(_, slot)| agent_of(slot) as usize)
    }

    /// Hands chat `c` (not in any heap) to agent `a`: assigned or offered per the accept mode.
    /// The caller refreshes the agent's ready-heap entries afterwards.
    #[inline(always)]
    fn give(&mut self, now: Time, c: usize, a: usize, out: &mut impl Decisions) {
        self.next_turn += 1;
        let accept = self.config.accept;
        let chat = &mut self.chats[c];
        let chat_id = ChatId {
            index: c as u32,
            generation: chat.generation,
        };
        let old = chat.state;
        chat.agent = a as u32;
        chat.offered_at = now;
        chat.skipped = NONE;
        let agent_id = AgentId(a as u32);
        match accept {
            AcceptMode::Auto => {
                chat.state = ChatState::Active;
                chat.answered_at = now;
                *self.count_of(old) -= 1;
                self.counts.active += 1;
                let agent = &mut self.agents[a];
                agent.turn = self.next_turn;
                agent.active += 1;
                let active = agent.active;
                out.push(Decision::Assigned {
                    chat: chat_id,
                    agent: agent_id,
                });
                self.notify_load(agent_id, active, out);
            }
            AcceptMode::Offer { timeout, .. } => {
                chat.state = ChatState::Offered;
                chat.offer = chat.offer.wrapping_add(1);
                chat.deadline = now.saturating_add(timeout);
                let (offer, deadline) = (OfferSeq(chat.offer), chat.deadline);
                *self.count_of(old) -= 1;
                self.counts.offered += 1;
                let agent = &mut self.agents[a];
                agent.turn = self.next_turn;
                agent.pending += 1;
                out.push(Decision::Offered {
                    chat: chat_id,
                    agent: agent_id,
                    offer,
                    deadline,
                });
            }
        }
    }

    /// Puts chat `c` into its queue's waiting heap and reports its place.
    #[inline(always)]
    fn enqueue(&mut self, now: Time, c: usize, skipped: u32, show: bool, out: &mut impl Decisions) {
        let q = self.chats[c].queue as usize;
        let key = self.chat_key(&self.chats[c]);
        if self.queues[q].waiting.len() == 0 {
            let queue = &mut self.queues[q];
            queue.gap_anchor = queue.gap_anchor.max(now);
        }
        self.set_state(c, ChatState::Queued);
        let chat = &mut self.chats[c];
        chat.agent = NONE;
        chat.skipped = skipped;
        let chat_id = ChatId {
            index: c as u32,
            generation: chat.generation,
        };
        let queue = &mut self.queues[q];
        let bound = if queue.waiting.len() == 0 {
            None
        } else {
            queue.max_key
        };
        let sorts_last = bound.is_none_or(|max| key > max);
        queue.max_key = Some(bound.map_or(key, |max| max.max(key)));
        queue
            .waiting
            .push(key, c as u32, &mut ChatPositions(&mut self.chats));
        // Arrivals in FIFO order sort last: O(1). Out-of-order keys (a higher priority, a
        // transfer keeping its place) are counted, O(log n) in a ring, O(queue length) in a heap.
        let position = if sorts_last {
            u32::try_from(self.queues[q].waiting.len()).unwrap_or(u32::MAX)
        } else {
            self.position_of(c)
        };
        let estimated_wait = self.estimate(now, q, position);
        if show {
            self.chats[c].shown_ewt = estimated_wait;
        }
        out.push(Decision::Queued {
            chat: chat_id,
            queue: QueueId(q as u32),
            position,
            estimated_wait,
        });
    }

    /// Routes chat `c` of its queue: to the best ready agent other than `exclude`, or to wait.
    #[inline(always)]
    fn place(&mut self, now: Time, c: usize, exclude: u32, show: bool, out: &mut impl Decisions) {
        let q = self.chats[c].queue as usize;
        match self.best_agent(q, exclude) {
            Some(a) => {
                self.give(now, c, a, out);
                self.refresh_agent(a);
            }
            None => self.enqueue(now, c, exclude, show, out),
        }
    }

    /// Fills agent `a`'s free slots with the best-scored waiting chats of its queues, passing
    /// over chat `exclude`, then brings the agent's ready-heap entries up to date (once, however
    /// many chats it took: nothing reads the ready heaps in between).
    #[inline(always)]
    fn pull(&mut self, now: Time, a: usize, exclude: u32, out: &mut impl Decisions) {
        while self.agents[a].is_ready() {
            let mut best: Option<(ChatKey, u32, u32)> = None;
            for slot in self.skill_slots(a) {
                let Some(skill) = self.skills.get(self.agent_skills[slot].skill as usize) else {
                    continue;
                };
                for &q in &skill.queues {
                    if let Some((key, c)) = self.queues[q as usize]
                        .waiting
                        .peek_skipping(|_, c| c == exclude)
                        && best.is_none_or(|(k, _, _)| key < k)
                    {
                        best = Some((key, c, q));
                    }
                }
            }
            let Some((_, c, q)) = best else { break };
            let pos = self.chats[c as usize].heap_pos;
            self.queues[q as usize]
                .waiting
                .remove_at(pos, &mut ChatPositions(&mut self.chats));
            self.note_answer(now, q as usize);
            self.give(now, c as usize, a, out);
        }
        self.refresh_agent(a);
    }

    /// After agent `a` lost a chat or an offer: idle clock, drain completion, heaps, refill.
    #[inline(always)]
    fn slot_freed(&mut self, now: Time, a: usize, exclude: u32, out: &mut impl Decisions) {
        let agent = &mut self.agents[a];
        agent.idle_since = now;
        if agent.status == AgentStatus::Draining && agent.load() == 0 {
            agent.status = AgentStatus::Offline;
            out.push(Decision::AgentOffline {
                agent: AgentId(a as u32),
            });
        }
        self.pull(now, a, exclude, out);
    }

    /// Takes chat `c` off its agent (active or pending), returning the agent.
    #[inline(always)]
    fn detach(&mut self, c: usize, out: &mut impl Decisions) -> usize {
        let a = self.chats[c].agent as usize;
        let was_active = self.chats[c].state == ChatState::Active;
        let agent = &mut self.agents[a];
        if was_active {
            agent.active -= 1;
            let active = agent.active;
            self.notify_load(AgentId(a as u32), active, out);
        } else {
            agent.pending -= 1;
        }
        a
    }

    /// Reports an agent's new number of active chats, if notices are on.
    #[inline(always)]
    fn notify_load(&self, agent: AgentId, active: u32, out: &mut impl Decisions) {
        if self.load_notices {
            out.push(Decision::LoadChanged { agent, active });
        }
    }

    // ----- EWT -----

    #[inline(always)]
    fn note_answer(&mut self, now: Time, q: usize) {
        let queue = &mut self.queues[q];
        let gap = now.saturating_sub(queue.gap_anchor);
        queue.answer_gap = Some(ewma(queue.answer_gap, gap));
        queue.gap_anchor = queue.gap_anchor.max(now);
    }

    #[inline(always)]
    fn estimate(&self, now: Time, q: usize, position: u32) -> Time {
        let queue = &self.queues[q];
        let ahead = u64::from(position.saturating_sub(1));
        if let Some(gap) = queue.answer_gap {
            let since = now.saturating_sub(queue.gap_anchor);
            return ahead
                .saturating_mul(gap)
                .saturating_add(gap.saturating_sub(since));
        }
        match queue.handle_time.or(queue.handle_time_hint) {
            Some(aht) => {
                let slots = self.skills[queue.skill as usize].available_slots.max(1);
                u64::from(position).saturating_mul(aht) / slots
            }
            None => 0,
        }
    }

    fn position_of(&self, c: usize) -> u32 {
        let chat = &self.chats[c];
        let Some((key, _)) = self.queues[chat.queue as usize].waiting.get(chat.heap_pos) else {
            return 0;
        };
        let ahead = self.queues[chat.queue as usize].waiting.count_below(&key);
        u32::try_from(ahead + 1).unwrap_or(u32::MAX)
    }

    // ----- inputs -----

    /// Changes an agent's status. `Available` (even when already available) is a routing pass:
    /// the agent takes waiting chats at once. `Offline` or `Draining` with chats or offers open
    /// makes the agent `Draining`; it becomes `Offline` (with [`Decision::AgentOffline`]) when
    /// the last one ends. `Draining` with nothing open goes offline at once.
    pub fn set_status(
        &mut self,
        now: Time,
        agent: AgentId,
        status: AgentStatus,
        out: &mut impl Decisions,
    ) -> Result<(), RouteError> {
        let a = self.agent_index(agent)?;
        self.count_slots(a, false);
        let old = self.agents[a].status;
        let load = self.agents[a].load();
        let new = match status {
            AgentStatus::Available | AgentStatus::Away => status,
            AgentStatus::Offline | AgentStatus::Draining if load > 0 => AgentStatus::Draining,
            AgentStatus::Offline | AgentStatus::Draining => AgentStatus::Offline,
        };
        let entry = &mut self.agents[a];
        entry.status = new;
        if new == AgentStatus::Available && old != AgentStatus::Available {
            entry.idle_since = now;
            entry.misses = 0;
        }
        self.count_slots(a, true);
        if status == AgentStatus::Draining && new == AgentStatus::Offline && old != new {
            out.push(Decision::AgentOffline { agent });
        }
        self.pull(now, a, NONE, out);
        Ok(())
    }

    /// Changes an agent's concurrency cap. It may not go below the chats and offers the agent
    /// holds now ([`RouteError::CapBelowLoad`]); a higher cap takes waiting chats at once.
    pub fn set_cap(
        &mut self,
        now: Time,
        agent: AgentId,
        cap: u32,
        out: &mut impl Decisions,
    ) -> Result<(), RouteError> {
        let a = self.agent_index(agent)?;
        if cap > MAX_CAP {
            return Err(RouteError::InvalidCap {
                agent: self.agents[a].name.clone(),
                cap,
            });
        }
        let load = self.agents[a].load();
        if cap < load {
            return Err(RouteError::CapBelowLoad { agent, cap, load });
        }
        self.count_slots(a, false);
        self.agents[a].cap = cap;
        self.count_slots(a, true);
        self.pull(now, a, NONE, out);
        Ok(())
    }

    /// The id [`Router::arrive`] will give the next chat, so that a caller can file what it
    /// knows of the customer under that id before the decisions about the chat come.
    #[inline(always)]
    pub fn next_chat(&self) -> ChatId {
        match self.free_chats.last() {
            Some(&index) => self.chat_id(index),
            None => ChatId {
                index: u32::try_from(self.chats.len()).unwrap_or(NONE),
                generation: Chat::vacant().generation,
            },
        }
    }

    /// A chat arrives in `queue` with its own `priority` (added to the queue's). It goes to the
    /// best ready agent at once, or waits; if it would have to wait in a full queue it is
    /// created `Rejected` (and [`Decision::Rejected`] is emitted).
    pub fn arrive(
        &mut self,
        now: Time,
        queue: QueueId,
        priority: i32,
        out: &mut impl Decisions,
    ) -> Result<ChatId, RouteError> {
        let q = queue.0 as usize;
        let Some(queue_entry) = self.queues.get(q) else {
            return Err(RouteError::UnknownQueue(queue));
        };
        let total_priority = queue_entry.priority.saturating_add(priority);
        let chat = self.next_chat();
        if chat.index == NONE {
            return Err(RouteError::Capacity { kind: "chats" });
        }
        if self.free_chats.pop().is_none() {
            self.chats.push(Chat::vacant());
        }
        self.next_seq += 1;
        let (c, generation) = (chat.index as usize, chat.generation);
        self.chats[c] = Chat {
            generation,
            live: true,
            state: ChatState::Queued,
            queue: q as u32,
            own_priority: priority,
            priority: total_priority,
            created_at: now,
            queued_at: now,
            seq: self.next_seq,
            ..Chat::vacant()
        };
        self.counts.created += 1;
        self.counts.queued += 1;
        match self.best_agent(q, NONE) {
            Some(a) => {
                self.give(now, c, a, out);
                self.refresh_agent(a);
            }
            None => {
                let full = self.queues[q]
                    .max_len
                    .is_some_and(|max| self.queues[q].waiting.len() >= max as usize);
                if full {
                    self.set_state(c, ChatState::Rejected);
                    self.chats[c].closed_at = now;
                    self.report_end(c, Decision::Rejected { chat, queue }, out);
                } else {
                    self.enqueue(now, c, NONE, true, out);
                }
            }
        }
        Ok(chat)
    }

    /// The agent accepts its open offer of the chat; the chat becomes active. Fails with
    /// [`RouteError::OfferExpired`] at or after the deadline (the pending timeout will re-route
    /// it) or when this agent's offer has already lapsed.
    pub fn accept(
        &mut self,
        now: Time,
        chat: ChatId,
        agent: AgentId,
        out: &mut impl Decisions,
    ) -> Result<(), RouteError> {
        let c = self.chat_index(chat)?;
        let a = self.agent_index(agent)?;
        self.check_offer(c, chat, a, agent, "accept", Some(now))?;
        self.set_state(c, ChatState::Active);
        self.chats[c].answered_at = now;
        let entry = &mut self.agents[a];
        entry.pending -= 1;
        entry.active += 1;
        entry.misses = 0;
        let active = entry.active;
        out.push(Decision::Assigned { chat, agent });
        self.notify_load(agent, active, out);
        // Load (active + pending) is unchanged, so the agent's heap keys are too.
        Ok(())
    }

    /// Checks that chat `c` is offered to agent `a`; with `expires_at`, also that the offer is
    /// still open at that time.
    fn check_offer(
        &self,
        c: usize,
        chat: ChatId,
        a: usize,
        agent: AgentId,
        action: &'static str,
        expires_at: Option<Time>,
    ) -> Result<(), RouteError> {
        let entry = &self.chats[c];
        if entry.state == ChatState::Offered && entry.agent == a as u32 {
            if expires_at.is_some_and(|now| now >= entry.deadline) {
                return Err(RouteError::OfferExpired { chat, agent });
            }
            return Ok(());
        }
        if entry.missed_by == a as u32 {
            return Err(RouteError::OfferExpired { chat, agent });
        }
        if entry.state == ChatState::Offered {
            return Err(RouteError::NotOfferedToAgent { chat, agent });
        }
        Err(RouteError::InvalidState {
            chat,
            state: entry.state,
            action,
        })
    }

    /// The agent declines its open offer: a miss. The chat is re-offered at once to another
    /// agent (never this one), or waits; see the module docs for the skip rule.
    pub fn decline(
        &mut self,
        now: Time,
        chat: ChatId,
        agent: AgentId,
        out: &mut impl Decisions,
    ) -> Result<(), RouteError> {
        let c = self.chat_index(chat)?;
        let a = self.agent_index(agent)?;
        self.check_offer(c, chat, a, agent, "decline", None)?;
        self.miss(now, c, out);
        Ok(())
    }

    /// The offer's timer fired. A stale timer (the chat was answered, re-offered, ended or
    /// released since) is ignored with `Ok`. Otherwise it is a miss, like a decline.
    pub fn offer_timeout(
        &mut self,
        now: Time,
        chat: ChatId,
        offer: OfferSeq,
        out: &mut impl Decisions,
    ) -> Result<(), RouteError> {
        let Some(entry) = self.chats.get(chat.index as usize) else {
            return Err(RouteError::UnknownChat(chat));
        };
        if !entry.live && entry.generation == chat.generation {
            // A slot never used with this generation: no such chat.
            return Err(RouteError::UnknownChat(chat));
        }
        if chat.generation > entry.generation {
            return Err(RouteError::UnknownChat(chat));
        }
        if !entry.live
            || entry.generation != chat.generation
            || entry.state != ChatState::Offered
            || entry.offer != offer.0
        {
            return Ok(());
        }
        self.miss(now, chat.index as usize, out);
        Ok(())
    }

    fn miss(&mut self, now: Time, c: usize, out: &mut impl Decisions) {
        let a = self.detach(c, out);
        self.chats[c].missed_by = a as u32;
        let agent = &mut self.agents[a];
        agent.misses += 1;
        if let AcceptMode::Offer {
            misses_before_away, ..
        } = self.config.accept
            && misses_before_away > 0
            && agent.misses >= misses_before_away
            && agent.status == AgentStatus::Available
        {
            self.count_slots(a, false);
            self.agents[a].status = AgentStatus::Away;
            out.push(Decision::AgentAway {
                agent: AgentId(a as u32),
            });
        }
        let agent = &mut self.agents[a];
        agent.idle_since = now;
        if agent.status == AgentStatus::Draining && agent.load() == 0 {
            agent.status = AgentStatus::Offline;
            out.push(Decision::AgentOffline {
                agent: AgentId(a as u32),
            });
        }
        self.refresh_agent(a);
        self.place(now, c, a as u32, false, out);
        self.pull(now, a, c as u32, out);
    }

    /// Records the agent's first message in an active chat (later calls keep the first time).
    pub fn first_response(
        &mut self,
        now: Time,
        chat: ChatId,
        _out: &mut impl Decisions,
    ) -> Result<(), RouteError> {
        let c = self.chat_index(chat)?;
        let entry = &mut self.chats[c];
        if entry.state != ChatState::Active {
            return Err(RouteError::InvalidState {
                chat,
                state: entry.state,
                action: "respond to",
            });
        }
        if entry.first_response_at == NEVER {
            entry.first_response_at = now;
        }
        Ok(())
    }

    /// The agent closes an active chat with a resolution code and optional CSAT; its slot is
    /// refilled at once.
    pub fn close(
        &mut self,
        now: Time,
        chat: ChatId,
        resolution: u8,
        csat: Option<u8>,
        out: &mut impl Decisions,
    ) -> Result<(), RouteError> {
        let c = self.chat_index(chat)?;
        let state = self.chats[c].state;
        if state != ChatState::Active {
            return Err(RouteError::InvalidState {
                chat,
                state,
                action: "close",
            });
        }
        self.finish(now, c, resolution, csat, out);
        Ok(())
    }

    #[inline(always)]
    /// Closes active chat `c` and refills its agent's slot.
    fn finish(
        &mut self,
        now: Time,
        c: usize,
        resolution: u8,
        csat: Option<u8>,
        out: &mut impl Decisions,
    ) {
        // Written out rather than through `detach` and `set_state`: the chat is known to be
        // active, and one pass over it keeps this hot path short.
        let entry = &mut self.chats[c];
        debug_assert_eq!(entry.state, ChatState::Active);
        let a = entry.agent as usize;
        let chat = ChatId {
            index: c as u32,
            generation: entry.generation,
        };
        let (q, answered_at) = (entry.queue as usize, entry.answered_at);
        entry.state = ChatState::Closed;
        entry.closed_at = now;
        entry.resolution = Some(resolution);
        entry.csat = csat;
        self.counts.active -= 1;
        self.counts.closed += 1;
        let agent = &mut self.agents[a];
        agent.active -= 1;
        let active = agent.active;
        let agent = AgentId(a as u32);
        self.report_end(c, Decision::Closed { chat, agent }, out);
        self.notify_load(agent, active, out);
        if let Some(answered) = when(answered_at) {
            let queue = &mut self.queues[q];
            queue.handle_time = Some(ewma(queue.handle_time, now.saturating_sub(answered)));
        }
        self.slot_freed(now, a, NONE, out);
    }

    /// The customer leaves: a queued or offered chat is abandoned (an offer's slot is freed, and
    /// it is no miss); an active chat is closed with [`RESOLUTION_CUSTOMER_LEFT`].
    pub fn leave(
        &mut self,
        now: Time,
        chat: ChatId,
        out: &mut impl Decisions,
    ) -> Result<(), RouteError> {
        let c = self.chat_index(chat)?;
        match self.chats[c].state {
            ChatState::Queued => {
                let q = self.chats[c].queue as usize;
                let pos = self.chats[c].heap_pos;
                self.queues[q]
                    .waiting
                    .remove_at(pos, &mut ChatPositions(&mut self.chats));
                self.abandon(now, c, out);
            }
            ChatState::Offered => {
                let a = self.detach(c, out);
                self.abandon(now, c, out);
                self.slot_freed(now, a, NONE, out);
            }
            ChatState::Active => self.finish(now, c, RESOLUTION_CUSTOMER_LEFT, None, out),
            state => {
                return Err(RouteError::InvalidState {
                    chat,
                    state,
                    action: "leave",
                });
            }
        }
        Ok(())
    }

    #[inline(always)]
    fn abandon(&mut self, now: Time, c: usize, out: &mut impl Decisions) {
        self.set_state(c, ChatState::Abandoned);
        let entry = &mut self.chats[c];
        entry.agent = NONE;
        entry.skipped = NONE;
        entry.closed_at = now;
        let chat = self.chat_id(c as u32);
        self.report_end(c, Decision::Abandoned { chat }, out);
    }

    /// Moves an active chat. To a queue: it waits there (keeping its original place with
    /// [`TransferPlace::Keep`], re-stamped with `Reset`), routed at once to another agent if one
    /// is ready; the transferring agent is skipped like after a miss. A full target queue with
    /// no agent ready fails with [`RouteError::QueueFull`]. To an agent: offered or assigned to
    /// that agent, who must be available with a free slot ([`RouteError::AgentUnavailable`]);
    /// its skills are not checked, since the sender named it. The chat keeps its queue.
    pub fn transfer(
        &mut self,
        now: Time,
        chat: ChatId,
        to: TransferTarget,
        out: &mut impl Decisions,
    ) -> Result<(), RouteError> {
        let c = self.chat_index(chat)?;
        let state = self.chats[c].state;
        if state != ChatState::Active {
            return Err(RouteError::InvalidState {
                chat,
                state,
                action: "transfer",
            });
        }
        let from = self.chats[c].agent;
        match to {
            TransferTarget::Queue(queue) => {
                let q = queue.0 as usize;
                let Some(target) = self.queues.get(q) else {
                    return Err(RouteError::UnknownQueue(queue));
                };
                if let Some(max_len) = target.max_len
                    && target.waiting.len() >= max_len as usize
                    && self.best_agent(q, from).is_none()
                {
                    return Err(RouteError::QueueFull { queue, max_len });
                }
                let priority = target.priority;
                out.push(Decision::Transferred { chat, to });
                let a = self.detach(c, out);
                self.next_seq += 1;
                let seq = self.next_seq;
                let entry = &mut self.chats[c];
                entry.transfers += 1;
                entry.queue = q as u32;
                entry.priority = priority.saturating_add(entry.own_priority);
                if self.config.transfer_place == TransferPlace::Reset {
                    entry.queued_at = now;
                    entry.seq = seq;
                }
                self.refresh_agent(a);
                self.place(now, c, a as u32, true, out);
                self.slot_freed(now, a, c as u32, out);
            }
            TransferTarget::Agent(agent) => {
                let b = self.agent_index(agent)?;
                if b as u32 == from {
                    return Err(RouteError::TransferToSelf { chat, agent });
                }
                let target = &self.agents[b];
                let reason = match target.status {
                    AgentStatus::Available if target.load() < target.cap => None,
                    AgentStatus::Available => Some("its cap is full"),
                    AgentStatus::Away => Some("it is away"),
                    AgentStatus::Offline => Some("it is offline"),
                    AgentStatus::Draining => Some("it is draining"),
                };
                if let Some(reason) = reason {
                    return Err(RouteError::AgentUnavailable { agent, reason });
                }
                out.push(Decision::Transferred { chat, to });
                let a = self.detach(c, out);
                self.chats[c].transfers += 1;
                self.give(now, c, b, out);
                self.refresh_agent(b);
                self.slot_freed(now, a, NONE, out);
            }
        }
        Ok(())
    }

    /// Forgets a terminal chat and frees its slot for reuse; its id becomes unknown. Counts
    /// keep it.
    pub fn release(&mut self, chat: ChatId) -> Result<(), RouteError> {
        let c = self.chat_index(chat)?;
        let state = self.chats[c].state;
        if !self.forget(c) {
            return Err(RouteError::InvalidState {
                chat,
                state,
                action: "release",
            });
        }
        Ok(())
    }

    /// Frees chat `c`'s slot for reuse, counting it released, if it has ended (else false and
    /// nothing changes); its id becomes unknown.
    #[inline(always)]
    fn forget(&mut self, c: usize) -> bool {
        let entry = &mut self.chats[c];
        match entry.state {
            ChatState::Closed => self.released.closed += 1,
            ChatState::Abandoned => self.released.abandoned += 1,
            ChatState::Rejected => self.released.rejected += 1,
            _ => return false,
        }
        // A dead slot is never read until `arrive` rewrites it whole: only the liveness and the
        // generation (which invalidates old ids) change here.
        entry.generation = entry.generation.wrapping_add(1);
        entry.live = false;
        self.free_chats.push(c as u32);
        true
    }

    /// Reports the end of chat `c` (closed, abandoned or rejected) and, for a sink that keeps
    /// nothing of ended chats, releases it at once.
    #[inline(always)]
    fn report_end<D: Decisions>(&mut self, c: usize, decision: Decision, out: &mut D) {
        out.push(decision);
        if D::RELEASE_ENDED {
            let ended = self.forget(c);
            debug_assert!(ended, "chat {c} reported ended while still open");
        }
    }

    // ----- queries -----

    /// A snapshot of a chat, or `None` if unknown or released.
    pub fn chat(&self, chat: ChatId) -> Option<ChatView> {
        let c = self.chat_index(chat).ok()?;
        let entry = &self.chats[c];
        let agent_of = |a: u32| (a != NONE).then_some(AgentId(a));
        let offered = entry.state == ChatState::Offered;
        Some(ChatView {
            state: entry.state,
            queue: QueueId(entry.queue),
            agent: agent_of(entry.agent),
            priority: entry.priority,
            created_at: entry.created_at,
            queued_at: entry.queued_at,
            offered_at: when(entry.offered_at),
            answered_at: when(entry.answered_at),
            first_response_at: when(entry.first_response_at),
            closed_at: when(entry.closed_at),
            transfers: entry.transfers,
            shown_ewt: when(entry.shown_ewt),
            resolution: entry.resolution,
            csat: entry.csat,
            offer: offered.then_some(OfferSeq(entry.offer)),
            offer_deadline: offered.then_some(entry.deadline),
            skipped_agent: agent_of(entry.skipped),
        })
    }

    /// A snapshot of an agent, or `None` if unknown.
    pub fn agent(&self, agent: AgentId) -> Option<AgentView> {
        let entry = self.agents.get(agent.0 as usize)?;
        Some(AgentView {
            name: entry.name.clone(),
            status: entry.status,
            cap: entry.cap,
            active: entry.active,
            pending_offers: entry.pending,
            idle_since: entry.idle_since,
            misses: entry.misses,
        })
    }

    /// 1-based place of a queued chat in its queue, by routing order (O(log n) while the queue is
    /// in order, O(queue length) otherwise).
    pub fn position(&self, chat: ChatId) -> Option<u32> {
        let c = self.chat_index(chat).ok()?;
        (self.chats[c].state == ChatState::Queued).then(|| self.position_of(c))
    }

    /// The estimated remaining wait of a queued chat (see the module docs for the estimator).
    pub fn estimated_wait(&self, now: Time, chat: ChatId) -> Option<Time> {
        let c = self.chat_index(chat).ok()?;
        let entry = &self.chats[c];
        (entry.state == ChatState::Queued)
            .then(|| self.estimate(now, entry.queue as usize, self.position_of(c)))
    }

    /// How many chats are in each state.
    pub fn counts(&self) -> StateCounts {
        self.counts
    }

    /// Chats waiting in the queue (0 for an unknown queue).
    pub fn queue_len(&self, q: QueueId) -> usize {
        self.queues
            .get(q.0 as usize)
            .map_or(0, |queue| queue.waiting.len())
    }

    /// The queue with this name.
    pub fn queue_id(&self, name: &str) -> Option<QueueId> {
        self.queue_names.get(name).map(|&q| QueueId(q))
    }

    /// The agent with this name.
    pub fn agent_id(&self, name: &str) -> Option<AgentId> {
        self.agent_names.get(name).map(|&a| AgentId(a))
    }

    /// The queue's name.
    pub fn queue_name(&self, q: QueueId) -> Option<&str> {
        self.queues
            .get(q.0 as usize)
            .map(|queue| queue.name.as_str())
    }

    /// Number of queues added.
    pub fn num_queues(&self) -> usize {
        self.queues.len()
    }

    /// Number of agents added.
    pub fn num_agents(&self) -> usize {
        self.agents.len()
    }

    /// One past the highest chat slot index in use so far (size for driver-side slabs).
    pub fn chat_capacity(&self) -> usize {
        self.chats.len()
    }

    /// Full O(n) audit of every invariant; `Err` names the first one broken.
    pub fn check_invariants(&self) -> Result<(), String> {
        let mut recount = StateCounts::default();
        let mut active = vec![0u32; self.agents.len()];
        let mut pending = vec![0u32; self.agents.len()];
        let mut waiting = vec![0usize; self.queues.len()];
        for (c, chat) in self.chats.iter().enumerate().filter(|(_, chat)| chat.live) {
            let id = self.chat_id(c as u32);
            let queue = self
                .queues
                .get(chat.queue as usize)
                .ok_or(format!("{id}: bad queue"))?;
            let in_heap = chat.heap_pos != NOT_IN_HEAP;
            let has_agent = chat.agent != NONE;
            match chat.state {
                ChatState::Queued => {
                    recount.queued += 1;
                    waiting[chat.queue as usize] += 1;
                    if has_agent {
                        return Err(format!("{id} is queued but has an agent"));
                    }
                    let entry = queue.waiting.get(chat.heap_pos);
                    if entry != Some((self.chat_key(chat), c as u32)) {
                        return Err(format!(
                            "{id} is queued but not in its queue heap with its key"
                        ));
                    }
                }
                ChatState::Offered | ChatState::Active => {
                    let slot = if chat.state == ChatState::Active {
                        &mut active
                    } else {
                        &mut pending
                    };
                    *slot
                        .get_mut(chat.agent as usize)
                        .ok_or(format!("{id} has no agent"))? += 1;
                    if chat.state == ChatState::Active {
                        recount.active += 1;
                    } else {
                        recount.offered += 1;
                    }
                }
                ChatState::Closed => recount.closed += 1,
                ChatState::Abandoned => recount.abandoned += 1,
                ChatState::Rejected => recount.rejected += 1,
            }
            if chat.state != ChatState::Queued && (in_heap || chat.skipped != NONE) {
                return Err(format!(
                    "{id} is {} but sits in a queue heap or skips",
                    chat.state
                ));
            }
            if matches!(chat.state, ChatState::Abandoned | ChatState::Rejected) && has_agent {
                return Err(format!("{id} is {} but has an agent", chat.state));
            }
        }
        recount.closed += self.released.closed;
        recount.abandoned += self.released.abandoned;
        recount.rejected += self.released.rejected;
        recount.created = self.counts.created;
        if recount != self.counts {
            return Err(format!(
                "counts {:?} but recounted {:?}",
                self.counts, recount
            ));
        }
        if self.counts.total_in_states() != self.counts.created {
            return Err(format!("conservation broken: {:?}", self.counts));
        }
        let mut ready_per_skill = vec![0usize; self.skills.len()];
        let mut slots_per_skill = vec![0u64; self.skills.len()];
        for (a, agent) in self.agents.iter().enumerate() {
            let name = &agent.name;
            if agent.active != active[a] || agent.pending != pending[a] {
                return Err(format!(
                    "agent {name} records {}+{} chats but holds {}+{}",
                    agent.active, agent.pending, active[a], pending[a]
                ));
            }
            if agent.load() > agent.cap {
                return Err(format!(
                    "agent {name} holds {} above cap {}",
                    agent.load(),
                    agent.cap
                ));
            }
            if agent.status == AgentStatus::Offline && agent.load() > 0 {
                return Err(format!("agent {name} is offline with chats"));
            }
            if agent.status == AgentStatus::Draining && agent.load() == 0 {
                return Err(format!("agent {name} is draining with nothing left"));
            }
            let ready = agent.is_ready();
            for slot in self.skill_slots(a) {
                let s = &self.agent_skills[slot];
                if s.agent != a as u32 {
                    return Err(format!("agent {name} owns another agent's skill entry"));
                }
                let skill = self.skills.get(s.skill as usize).ok_or("bad skill")?;
                if agent.status == AgentStatus::Available {
                    slots_per_skill[s.skill as usize] += u64::from(agent.cap);
                }
                if ready {
                    ready_per_skill[s.skill as usize] += 1;
                    let expected = (self.agent_key(a, s.proficiency), slot as u32);
                    if skill.ready.get(s.pos) != Some(expected) {
                        return Err(format!(
                            "ready agent {name} missing from skill {}",
                            skill.name
                        ));
                    }
                    for &q in &skill.queues {
                        for &(_, c) in self.queues[q as usize].waiting.iter() {
                            if self.chats[c as usize].skipped != a as u32 {
                                return Err(format!(
                                    "agent {name} has a free slot beside waiting {} in queue {}",
                                    self.chat_id(c),
                                    self.queues[q as usize].name
                                ));
                            }
                        }
                    }
                } else if s.pos != NOT_IN_HEAP {
                    return Err(format!(
                        "agent {name} is not ready but in skill {}",
                        skill.name
                    ));
                }
            }
        }
        for (s, skill) in self.skills.iter().enumerate() {
            if skill.ready.len() != ready_per_skill[s] {
                return Err(format!("skill {} heap holds extra agents", skill.name));
            }
            if skill.available_slots != slots_per_skill[s] {
                return Err(format!("skill {} counts wrong available slots", skill.name));
            }
            skill
                .ready
                .audit(|slot| self.agent_skills[slot as usize].pos)?;
        }
        for (q, queue) in self.queues.iter().enumerate() {
            if queue.waiting.len() != waiting[q] {
                return Err(format!("queue {} heap holds extra chats", queue.name));
            }
            queue.waiting.audit(|c| self.chats[c as usize].heap_pos)?;
        }
        Ok(())
    }
}
