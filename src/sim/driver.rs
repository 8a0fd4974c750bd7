//! One replication: the event loop that drives the routing core through a day in virtual time.
//!
//! Customers arrive per queue from exact piecewise-Poisson streams; every attribute a customer
//! brings (bot outcome, work content, patience, first-response delay, transfer) is drawn at
//! arrival from that queue's own stream, so the same customers arrive whatever the staffing
//! (common random numbers). Agent-side randomness (accept delays) has a stream of its own.
//! Work progresses at rate 1/f(n) while an agent holds n chats; completions are rescheduled when n
//! changes, and superseded completion events are skipped by generation.
//!
//! The engine owns the router and a [`Floor`]: everything the router's decisions act on (records,
//! events, agents, tallies). The floor is the router's [`Decisions`] sink, so each decision is
//! applied where the router makes it, with no buffer and no dispatch on its kind.

use rand::RngExt;

use crate::metrics::{AgentTally, QueueTally};
use crate::model::{ArrivalProcess, SimRng, saturating_u64, stream};
use crate::routing::{
    AgentConfig, AgentId, AgentStatus, ChatId, ChatState, Decision, Decisions, OfferSeq, QueueId,
    Router, SECOND, Time, TransferTarget,
};

use super::events::{Event, EventQueue};
use super::{Observer, SimError};
use crate::scenario::{Scenario, to_secs, to_time};

/// No chat yet (bot stage) or no longer (released): the router never issues this id.
const NO_CHAT: ChatId = ChatId {
    index: u32::MAX,
    generation: u32::MAX,
};

/// A customer from arrival to the end of their chat. Once queued, it lives at its chat's slot
/// index (the router's slots are dense and reused), so a chat finds its record without a map.
#[derive(Debug, Clone, Copy)]
struct Record {
    /// The chat in the router, or [`NO_CHAT`].
    chat: ChatId,
    queue: u16,
    /// The tally of the customer's queue in the interval they arrived in (an index into
    /// [`ReplicationTallies::queues`]).
    tally: u32,
    counted: bool,
    transferred: bool,
    transfer_pending: bool,
    responded: bool,
    bot_resolves: bool,
    arrived_at: Time,
    queued_at: Time,
    answered_at: Time,
    /// Work left in the current leg, microseconds at concurrency 1.
    work: f64,
    /// Work content of the leg after a transfer.
    work_after_transfer: f64,
    /// Patience and first-response delay, each valid only with its flag (flags rather than
    /// `Option`s keep the record within 128 bytes, which it is copied in as a whole).
    patience: Time,
    has_patience: bool,
    first_response: Time,
    has_first_response: bool,
    /// Time the work left was last brought up to date.
    last_update: Time,
    generation: u32,
    /// Estimated wait shown when the chat first queued, valid with its flag.
    shown_ewt: Time,
    has_shown_ewt: bool,
    offer: OfferSeq,
    /// The agent holding the current offer.
    offered_to: u32,
    agent: u32,
    csat_draw: f64,
}

/// An empty place among the records, and a customer's state before anything happened.
const VACANT: Record = Record {
    chat: NO_CHAT,
    queue: 0,
    tally: 0,
    counted: false,
    transferred: false,
    transfer_pending: false,
    responded: false,
    bot_resolves: false,
    arrived_at: 0,
    queued_at: 0,
    answered_at: 0,
    work: 0.0,
    work_after_transfer: 0.0,
    patience: 0,
    has_patience: false,
    first_response: 0,
    has_first_response: false,
    last_update: 0,
    generation: 0,
    shown_ewt: 0,
    has_shown_ewt: false,
    offer: OfferSeq(0),
    offered_to: u32::MAX,
    agent: u32::MAX,
    csat_draw: 0.0,
};

/// Simulator-side state of one agent.
#[derive(Debug, Clone)]
struct AgentState {
    group: u16,
    on_duty: bool,
    /// Whether the group works at pace 1 whatever the number of chats.
    flat: bool,
    /// Chats being worked, at most the cap.
    n: u32,
    /// Their records, kept only where the pace depends on their number (a flat-pace agent
    /// never needs to find its other chats).
    chats: Vec<u32>,
    /// Number of chats the current completion times were computed for.
    scheduled_n: u32,
    dirty: bool,
}

/// The levels of one agent group and their integrals over time since the last commit to the
/// tallies, exact in level x microseconds. A level held from `t0` to `t1` integrates to
/// `level * t1 - level * t0`, so each change by `d` at `t` adds `-d * t` and a commit at `t`
/// adds `level * t`: one product per change, with no span to track. Times are clamped to
/// `[warmup, horizon]`, which leaves out whatever happens outside it. Commits happen at
/// interval starts, so the integrals always belong to one interval, `interval`.
#[derive(Debug, Clone, Copy, Default)]
struct GroupLevel {
    on_duty: u32,
    busy_slots: u32,
    with_chat: u32,
    /// The (clamped) time of the last change, up to which a mid-interval commit integrates.
    since: Time,
    interval: usize,
    staffed_area: i128,
    busy_area: i128,
    with_chat_area: i128,
}

impl GroupLevel {
    /// Adds the levels times `t` (`sign` 1) or takes them away (`sign` -1).
    #[inline(always)]
    fn charge(&mut self, t: i64, sign: i128) {
        let t = i128::from(t) * sign;
        self.staffed_area += i128::from(self.on_duty) * t;
        self.busy_area += i128::from(self.busy_slots) * t;
        self.with_chat_area += i128::from(self.with_chat) * t;
    }

    /// An on-duty agent went from `old_n` to `new_n` chats at `t`: each level that changes by
    /// `d` is charged `-d * t`.
    #[inline(always)]
    fn agent_changed(&mut self, t: i64, old_n: u32, new_n: u32) {
        let busy = i64::from(new_n) - i64::from(old_n);
        let with_chat = i64::from(new_n > 0) - i64::from(old_n > 0);
        self.busy_area -= i128::from(busy) * i128::from(t);
        self.with_chat_area -= i128::from(with_chat) * i128::from(t);
        self.busy_slots = self.busy_slots + new_n - old_n;
        self.with_chat = self.with_chat + u32::from(new_n > 0) - u32::from(old_n > 0);
        self.since = t as Time;
    }
}

/// Tallies of one replication.
#[derive(Debug, Clone)]
pub struct ReplicationTallies {
    /// `queues[interval * queue_count + queue]`.
    pub queues: Vec<QueueTally>,
    /// `agents[interval * group_count + group]`.
    pub agents: Vec<AgentTally>,
    /// Events processed.
    pub events: u64,
    /// Customers that arrived.
    pub chats: u64,
}

/// The state of one replication; cloning it forks the day at the current instant.
#[derive(Clone)]
pub struct Engine<'s, O: Observer = ()> {
    router: Router,
    /// What the router's decisions act on.
    floor: Floor<'s, O>,
    queue_ids: Vec<QueueId>,
    /// Customers in the bot stage, and the free places among them.
    bot_stage: Vec<Record>,
    free_bot_stage: Vec<u32>,
    group_agents: Vec<Vec<AgentId>>,
    staffing: Vec<Vec<u32>>,
    arrivals: Vec<ArrivalProcess>,
    /// Next arrival per queue in seconds (exact, for the stream's continuity) and as time;
    /// arrivals stay out of the event heap: each queue's stream is already in time order.
    next_arrival_secs: Vec<f64>,
    next_arrival: Vec<Time>,
    /// The earliest of `next_arrival` and its queue.
    soonest_arrival: (Time, usize),
    queue_rngs: Vec<SimRng>,
}

/// The simulator's side of a replication: customers' records, pending events, agents' chats,
/// group levels and tallies. It is the router's decision sink: [`Decisions::push`] applies a
/// decision at once, and the router forgets ended chats itself.
#[derive(Clone)]
struct Floor<'s, O: Observer> {
    sc: &'s Scenario,
    now: Time,
    events: EventQueue,
    /// Customers with a chat, at the chat's slot index.
    records: Vec<Record>,
    agents: Vec<AgentState>,
    levels: Vec<GroupLevel>,
    /// Agents whose completions must be rescheduled once the current input is applied.
    dirty: Vec<u32>,
    agent_rng: SimRng,
    /// The interval `[start, end)` last looked up and its index: events mostly fall in the
    /// interval of the previous one, which spares a division.
    interval_span: (Time, Time, usize),
    /// End of the last interval.
    horizon: Time,
    tallies: ReplicationTallies,
    observer: O,
}

impl<O: Observer> Decisions for Floor<'_, O> {
    const RELEASE_ENDED: bool = true;

    #[inline(always)]
    fn push(&mut self, decision: Decision) {
        self.observer.decision(self.now, &decision);
        self.apply(decision);
    }
}

impl<'s> Engine<'s, ()> {
    /// A replication of `scenario` at time zero with no observer.
    pub fn new(scenario: &'s Scenario, replication: u32) -> Result<Self, SimError> {
        Engine::with_observer(scenario, replication, ())
    }
}

impl<'s, O: Observer> Engine<'s, O> {
    /// A replication of `scenario` at time zero reporting to `observer`.
    pub fn with_observer(
        sc: &'s Scenario,
        replication: u32,
        observer: O,
    ) -> Result<Self, SimError> {
        let mut router = Router::new(sc.router);
        // Agents' loads are tracked here: the notices are made only for an observer.
        router.set_load_notices(O::LOAD_NOTICES);
        let mut queue_ids = Vec::with_capacity(sc.queues.len());
        for q in &sc.queues {
            queue_ids.push(router.add_queue(q.config())?);
        }
        let mut agents = Vec::new();
        let mut group_agents = Vec::with_capacity(sc.groups.len());
        for (g, group) in sc.groups.iter().enumerate() {
            let peak = group
                .staffing
                .iter()
                .copied()
                .max()
                .unwrap_or(0)
                .max(group.pool);
            let mut ids = Vec::with_capacity(peak as usize);
            for k in 0..peak {
                let id = router.add_agent(AgentConfig {
                    name: format!("{}-{}", group.name, k + 1),
                    skills: group.skills.clone(),
                    cap: group.cap,
                })?;
                debug_assert_eq!(id.0 as usize, agents.len());
                agents.push(AgentState {
                    group: g as u16,
                    on_duty: false,
                    flat: group.flat_slowdown,
                    n: 0,
                    chats: if group.flat_slowdown {
                        Vec::new()
                    } else {
                        Vec::with_capacity(group.cap as usize)
                    },
                    scheduled_n: 0,
                    dirty: false,
                });
                ids.push(id);
            }
            group_agents.push(ids);
        }
        let queue_rngs: Vec<SimRng> = (0..sc.queues.len())
            .map(|q| stream(sc.seed, replication, 1 + q as u64))
            .collect();
        let mut volume_rng = stream(sc.seed, replication, u64::MAX);
        let arrivals = sc
            .queues
            .iter()
            .map(|q| {
                let mut process = q.arrivals.clone();
                process.mix_volume(q.volume_cv, &mut volume_rng);
                process
            })
            .collect();
        let floor = Floor {
            sc,
            now: 0,
            events: EventQueue::default(),
            records: Vec::new(),
            agents,
            levels: vec![GroupLevel::default(); sc.groups.len()],
            dirty: Vec::with_capacity(16),
            agent_rng: stream(sc.seed, replication, 0),
            interval_span: (0, 0, 0),
            horizon: sc.horizon(),
            tallies: ReplicationTallies {
                queues: vec![QueueTally::default(); sc.intervals * sc.queues.len()],
                agents: vec![AgentTally::default(); sc.intervals * sc.groups.len()],
                events: 0,
                chats: 0,
            },
            observer,
        };
        let mut engine = Engine {
            router,
            floor,
            queue_ids,
            bot_stage: Vec::new(),
            free_bot_stage: Vec::new(),
            group_agents,
            staffing: sc.groups.iter().map(|g| g.staffing.clone()).collect(),
            arrivals,
            next_arrival_secs: vec![f64::INFINITY; sc.queues.len()],
            next_arrival: vec![Time::MAX; sc.queues.len()],
            soonest_arrival: (Time::MAX, 0),
            queue_rngs,
        };
        for q in 0..sc.queues.len() {
            engine.draw_next_arrival(q, 0.0);
        }
        if sc.intervals > 0 {
            engine
                .floor
                .events
                .push(0, Event::IntervalStart { interval: 0 });
        }
        Ok(engine)
    }

    /// Current simulated time.
    pub fn now(&self) -> Time {
        self.floor.now
    }

    /// The tallies so far (chats count once they have left the queue).
    pub fn tallies(&self) -> &ReplicationTallies {
        &self.floor.tallies
    }

    /// The routing core, for inspection.
    pub fn router(&self) -> &Router {
        &self.router
    }

    /// Empties the tallies of the intervals before `interval`, so that copies of the engine
    /// (a planner exploring staffings from here) do not carry them. Chats of those intervals
    /// still in the system no longer count anywhere.
    pub fn discard_tallies_before(&mut self, interval: usize) {
        let (nq, ng) = (self.floor.sc.queues.len(), self.floor.sc.groups.len());
        let tallies = &mut self.floor.tallies;
        let queues = (interval * nq).min(tallies.queues.len());
        tallies.queues[..queues].fill_with(QueueTally::default);
        let agents = (interval * ng).min(tallies.agents.len());
        tallies.agents[..agents].fill_with(AgentTally::default);
    }

    /// Changes the agents on duty of `group` in `interval` (takes effect when that interval
    /// starts, so change only intervals that have not started yet).
    pub fn set_staffing(
        &mut self,
        group: usize,
        interval: usize,
        agents: u32,
    ) -> Result<(), SimError> {
        let have = self.group_agents.get(group).map_or(0, |a| a.len()) as u32;
        if agents > have {
            return Err(SimError::Staffing(format!(
                "agent group {group}: {agents} agents requested but only {have} were created; \
                 size the scenario's staffing for the peak"
            )));
        }
        if let Some(slot) = self
            .staffing
            .get_mut(group)
            .and_then(|s| s.get_mut(interval))
        {
            *slot = agents;
        }
        Ok(())
    }

    /// Runs every event before `until` (or all of them with `Time::MAX`).
    pub fn run_until(&mut self, until: Time) -> Result<(), SimError> {
        loop {
            let next_event = self.floor.events.peek_time().unwrap_or(Time::MAX);
            let (next_arrival, queue) = self.soonest_arrival;
            // At the same instant an arrival goes first.
            let time = next_event.min(next_arrival);
            if time == Time::MAX || time >= until {
                break;
            }
            self.floor.now = time;
            self.floor.tallies.events += 1;
            if next_arrival <= next_event {
                self.floor.observer.event(
                    time,
                    &Event::Arrival {
                        queue: queue as u16,
                    },
                );
                self.arrive(queue)?;
            } else {
                let Some((_, event)) = self.floor.events.pop() else {
                    break;
                };
                self.floor.observer.event(time, &event);
                self.handle(event)?;
            }
            self.floor.reschedule_dirty();
        }
        // Leave the tallies complete up to the last change (a planner reads them between runs).
        for g in 0..self.floor.levels.len() {
            let (since, interval) = (self.floor.levels[g].since, self.floor.levels[g].interval);
            self.floor.close_level(g, since);
            self.floor.open_level(g, since, interval);
        }
        Ok(())
    }

    /// Draws queue `q`'s next arrival after `after_secs` and updates the soonest arrival.
    #[inline(always)]
    fn draw_next_arrival(&mut self, q: usize, after_secs: f64) {
        let next = self.arrivals[q].next_after(after_secs, &mut self.queue_rngs[q]);
        self.next_arrival_secs[q] = next.unwrap_or(f64::INFINITY);
        self.next_arrival[q] = next.map_or(Time::MAX, |t| to_time(t).max(self.floor.now));
        if let [only] = self.next_arrival[..] {
            self.soonest_arrival = (only, 0);
            return;
        }
        let mut soonest = (Time::MAX, 0);
        for (i, &t) in self.next_arrival.iter().enumerate() {
            if t < soonest.0 {
                soonest = (t, i);
            }
        }
        self.soonest_arrival = soonest;
    }

    /// Runs the day to the end, draining every chat, and returns the tallies.
    pub fn finish(mut self) -> Result<(ReplicationTallies, O), SimError> {
        self.run_until(Time::MAX)?;
        let mut floor = self.floor;
        let sc = floor.sc;
        for g in 0..floor.levels.len() {
            floor.close_level(g, floor.horizon);
        }
        // Chats still live when no event is left waited for an agent who never came.
        for rec in &floor.records {
            if rec.chat != NO_CHAT && rec.counted && !rec.transferred {
                floor.tallies.queues[rec.tally as usize].record_stranded();
            }
        }
        let nq = sc.queues.len();
        for (i, t) in floor.tallies.queues.iter_mut().enumerate() {
            if sc.queues[i % nq].first_response.is_none() {
                t.record_first_responses_at_answers();
            }
        }
        Ok((floor.tallies, floor.observer))
    }

    fn handle(&mut self, event: Event) -> Result<(), SimError> {
        let now = self.floor.now;
        let floor = &mut self.floor;
        match event {
            Event::Arrival { queue } => self.arrive(queue as usize)?,
            Event::BotDone { record } => {
                let r = self.bot_stage[record as usize];
                self.free_bot_stage.push(record);
                if r.bot_resolves {
                    if r.counted {
                        floor
                            .tally(r.tally)
                            .record_bot_resolution(to_secs(now - r.arrived_at));
                    }
                } else {
                    let chat = self.router.next_chat();
                    *floor.record_slot(chat) = Record {
                        chat,
                        queued_at: now,
                        ..r
                    };
                    self.enter_queue(chat)?;
                }
            }
            Event::Patience { chat } => {
                // A transferred chat already reached an agent once: it does not abandon.
                if floor
                    .record_of(chat)
                    .is_some_and(|r| !floor.records[r as usize].transferred)
                    && let Some(view) = self.router.chat(chat)
                    && matches!(view.state, ChatState::Queued | ChatState::Offered)
                {
                    self.router.leave(now, chat, floor)?;
                }
            }
            Event::AcceptDue { chat, offer } => {
                if let Some(r) = floor.record_of(chat)
                    && floor.records[r as usize].offer == offer
                {
                    // The offer may have ended meanwhile (abandon, timeout): nothing to accept.
                    let agent = AgentId(floor.records[r as usize].offered_to);
                    let _ = self.router.accept(now, chat, agent, floor);
                }
            }
            Event::OfferTimeout { chat, offer } => {
                if floor.record_of(chat).is_some() {
                    let _ = self.router.offer_timeout(now, chat, offer, floor);
                }
            }
            Event::FirstResponse { chat } => {
                if let Some(r) = floor.record_of(chat) {
                    let _ = self.router.first_response(now, chat, floor);
                    floor.record_first_response(r);
                }
            }
            Event::Complete { chat, generation } => {
                if let Some(r) = floor.record_of(chat) {
                    let rec = &mut floor.records[r as usize];
                    if rec.generation == generation {
                        if rec.transfer_pending {
                            rec.transfer_pending = false;
                            let to = floor.sc.queues[rec.queue as usize]
                                .transfer
                                .map_or(0, |t| t.1);
                            let target = TransferTarget::Queue(self.queue_ids[to]);
                            self.router.transfer(now, chat, target, floor)?;
                        } else {
                            self.router.close(now, chat, 0, None, floor)?;
                        }
                    }
                }
            }
            Event::IntervalStart { interval } => self.start_interval(interval as usize)?,
            Event::AgentBack { agent } => {
                let state = &floor.agents[agent.0 as usize];
                if state.on_duty
                    && self
                        .router
                        .agent(agent)
                        .is_some_and(|a| a.status == AgentStatus::Away)
                {
                    self.router
                        .set_status(now, agent, AgentStatus::Available, floor)?;
                }
            }
        }
        Ok(())
    }

    #[inline(always)]
    fn arrive(&mut self, q: usize) -> Result<(), SimError> {
        let now = self.floor.now;
        let sc = self.floor.sc;
        let model = &sc.queues[q];
        self.draw_next_arrival(q, self.next_arrival_secs[q]);
        let interval = self
            .floor
            .interval_at(now)
            .min(sc.intervals.saturating_sub(1));
        let rng = &mut self.queue_rngs[q];
        let aht = model
            .aht_by_interval
            .get(interval)
            .copied()
            .unwrap_or(model.handle.mean());
        let work = model.handle.sample_with_mean(rng, aht);
        let patience = model.patience.as_ref().map(|p| to_time(p.sample(rng)));
        let first_response = model
            .first_response
            .as_ref()
            .map(|f| to_time(f.sample(rng)));
        let (bot_resolves, bot_time) = match &model.bot {
            Some((share, time)) => (rng.random::<f64>() < *share, Some(time.sample(rng))),
            None => (false, None),
        };
        let (transfer_pending, work_after_transfer) = match model.transfer {
            Some((share, to)) => {
                let transfer = rng.random::<f64>() < share;
                let target = &sc.queues[to];
                let aht = target
                    .aht_by_interval
                    .get(interval)
                    .copied()
                    .unwrap_or(target.handle.mean());
                (transfer, target.handle.sample_with_mean(rng, aht))
            }
            None => (false, 0.0),
        };
        let csat_draw = if model.csat.is_some() {
            rng.random::<f64>()
        } else {
            1.0
        };
        let counted = now >= sc.warmup;
        // Tallies number fewer than 2^32: each takes hundreds of bytes.
        let tally = (interval * sc.queues.len() + q) as u32;
        self.floor.tallies.chats += 1;
        if counted {
            self.floor.tally(tally).record_arrival();
        }
        let record = |chat: ChatId| Record {
            chat,
            queue: q as u16,
            tally,
            counted,
            transfer_pending,
            bot_resolves,
            arrived_at: now,
            queued_at: now,
            work: work * SECOND as f64,
            work_after_transfer: work_after_transfer * SECOND as f64,
            patience: patience.unwrap_or(0),
            has_patience: patience.is_some(),
            first_response: first_response.unwrap_or(0),
            has_first_response: first_response.is_some(),
            last_update: now,
            csat_draw,
            ..VACANT
        };
        match bot_time {
            Some(secs) => {
                let slot = match self.free_bot_stage.pop() {
                    Some(slot) => {
                        self.bot_stage[slot as usize] = record(NO_CHAT);
                        slot
                    }
                    None => {
                        self.bot_stage.push(record(NO_CHAT));
                        (self.bot_stage.len() - 1) as u32
                    }
                };
                self.floor
                    .events
                    .push_after(now, to_time(secs), Event::BotDone { record: slot });
            }
            None => {
                // Built in place: the record is the largest write of an arrival.
                let chat = self.router.next_chat();
                *self.floor.record_slot(chat) = record(chat);
                self.enter_queue(chat)?;
            }
        }
        Ok(())
    }

    /// Puts a customer's chat into its queue. The customer's record is already filed at the
    /// chat's slot ([`Router::next_chat`]), so the decisions about the chat find it there.
    #[inline(always)]
    fn enter_queue(&mut self, chat: ChatId) -> Result<(), SimError> {
        let floor = &mut self.floor;
        let now = floor.now;
        let slot = chat.index();
        let rec = &floor.records[slot];
        let (queue, patience) = (rec.queue, rec.has_patience.then_some(rec.patience));
        if rec.counted {
            let tally = rec.tally;
            floor.tally(tally).record_queue_entry();
        }
        if let Some(patience) = patience {
            floor
                .events
                .push_after(now, patience, Event::Patience { chat });
        }
        let queue = self.queue_ids[queue as usize];
        match self.router.arrive(now, queue, 0, floor) {
            Ok(arrived) => {
                debug_assert_eq!(arrived, chat, "the router gave another id than announced");
                Ok(())
            }
            Err(e) => {
                floor.free_record(slot as u32);
                Err(e.into())
            }
        }
    }

    fn start_interval(&mut self, interval: usize) -> Result<(), SimError> {
        let floor = &mut self.floor;
        let now = floor.now;
        if interval + 1 < floor.sc.intervals {
            let next = floor.sc.interval * (interval as Time + 1);
            floor.events.push(
                next,
                Event::IntervalStart {
                    interval: interval as u32 + 1,
                },
            );
        }
        for g in 0..self.group_agents.len() {
            floor.close_level(g, now);
            let target = self.staffing[g].get(interval).copied().unwrap_or(0) as usize;
            for (k, &agent) in self.group_agents[g].iter().enumerate() {
                let on = k < target;
                let state = &mut floor.agents[agent.0 as usize];
                if on == state.on_duty {
                    continue;
                }
                state.on_duty = on;
                let n = state.n;
                let level = &mut floor.levels[g];
                if on {
                    level.on_duty += 1;
                    level.busy_slots += n;
                    level.with_chat += u32::from(n > 0);
                    self.router
                        .set_status(now, agent, AgentStatus::Available, floor)?;
                } else {
                    level.on_duty -= 1;
                    level.busy_slots -= n;
                    level.with_chat -= u32::from(n > 0);
                    self.router
                        .set_status(now, agent, AgentStatus::Draining, floor)?;
                }
            }
            floor.open_level(g, now, interval);
        }
        Ok(())
    }
}

impl<O: Observer> Floor<'_, O> {
    /// The index of the interval holding `t` (`t / interval`, counted past the horizon too).
    #[inline(always)]
    fn interval_at(&mut self, t: Time) -> usize {
        let (start, end, index) = self.interval_span;
        if t >= start && t < end {
            return index;
        }
        let len = self.sc.interval;
        let index = (t / len) as usize;
        let start = index as Time * len;
        self.interval_span = (start, start.saturating_add(len), index);
        index
    }

    #[inline(always)]
    fn tally(&mut self, index: u32) -> &mut QueueTally {
        &mut self.tallies.queues[index as usize]
    }

    /// The place of the record of `chat`, about to be filed (the vector grows to the router's
    /// high-water mark of chats).
    #[inline(always)]
    fn record_slot(&mut self, chat: ChatId) -> &mut Record {
        let slot = chat.index();
        if slot >= self.records.len() {
            self.records.resize(slot + 1, VACANT);
        }
        &mut self.records[slot]
    }

    /// The record of a live chat (its slot index), or `None` for a chat that has ended.
    #[inline(always)]
    fn record_of(&self, chat: ChatId) -> Option<u32> {
        let rec = self.records.get(chat.index())?;
        (rec.chat == chat).then_some(chat.index() as u32)
    }

    /// Forgets the record of an ended chat (the router has forgotten the chat).
    #[inline(always)]
    fn free_record(&mut self, r: u32) {
        self.records[r as usize].chat = NO_CHAT;
    }

    /// Records the first agent message of a chat, once. Queues without a first-response model
    /// answer with a message (FRT = wait): their FRT figures are copied from the waits at the end.
    #[inline(always)]
    fn record_first_response(&mut self, r: u32) {
        // A delay is drawn at arrival exactly when the customer's queue models one.
        if self.records[r as usize].has_first_response {
            self.record_modelled_first_response(r);
        }
    }

    fn record_modelled_first_response(&mut self, r: u32) {
        let rec = &mut self.records[r as usize];
        if std::mem::replace(&mut rec.responded, true) {
            return;
        }
        if rec.counted && !rec.transferred {
            let tally = rec.tally;
            let frt = to_secs(self.now - rec.queued_at);
            self.tally(tally).record_first_response(frt);
        }
    }

    /// Brings the completions of the agents marked during the last input up to date.
    #[inline(always)]
    fn reschedule_dirty(&mut self) {
        while let Some(agent) = self.dirty.pop() {
            self.reschedule(agent);
        }
    }

    /// Applies one decision of the router (which never calls back: the router is busy).
    #[inline(always)]
    fn apply(&mut self, decision: Decision) {
        let now = self.now;
        match decision {
            Decision::Offered {
                chat,
                agent,
                offer,
                deadline,
            } => {
                let Some(r) = self.record_of(chat) else {
                    return;
                };
                self.records[r as usize].offer = offer;
                self.records[r as usize].offered_to = agent.0;
                self.events
                    .push(deadline, Event::OfferTimeout { chat, offer });
                let q = self.records[r as usize].queue as usize;
                let delay = match &self.sc.queues[q].accept_delay {
                    Some(d) => to_time(d.sample(&mut self.agent_rng)),
                    None => 0,
                };
                if delay < deadline.saturating_sub(now) {
                    self.events
                        .push_after(now, delay, Event::AcceptDue { chat, offer });
                }
            }
            Decision::Assigned { chat, agent } => {
                let Some(r) = self.record_of(chat) else {
                    return;
                };
                let rec = &mut self.records[r as usize];
                rec.answered_at = now;
                rec.last_update = now;
                rec.agent = agent.0;
                if !rec.transferred {
                    let first_response = rec.has_first_response.then_some(rec.first_response);
                    if rec.counted {
                        let shown = rec.has_shown_ewt.then_some(rec.shown_ewt);
                        let (tally, queue, queued_at) = (rec.tally, rec.queue, rec.queued_at);
                        if now == queued_at && shown.is_none() {
                            // Answered on arrival, the common case of a staffed queue.
                            self.tally(tally).record_immediate_answer();
                        } else {
                            let wait = to_secs(now - queued_at);
                            let threshold = self.sc.queues[queue as usize].threshold_secs;
                            let t = self.tally(tally);
                            t.record_answer(wait, threshold);
                            if let Some(shown) = shown {
                                t.record_shown_wait(to_secs(shown), wait);
                            }
                        }
                    }
                    // Without a first-response model (no delay drawn) the answer is the first
                    // message: its FRT is the wait, copied from the waits at the end.
                    if let Some(delay) = first_response {
                        self.events
                            .push_after(now, delay, Event::FirstResponse { chat });
                    }
                }
                self.add_chat(agent.0, r);
            }
            Decision::Rejected { chat, .. } => {
                let Some(r) = self.record_of(chat) else {
                    return;
                };
                let rec = &self.records[r as usize];
                if rec.counted {
                    let tally = rec.tally;
                    self.tally(tally).record_rejection();
                }
                self.free_record(r);
            }
            Decision::Abandoned { chat } => {
                let Some(r) = self.record_of(chat) else {
                    return;
                };
                let rec = &self.records[r as usize];
                let (tally, queue, agent) = (rec.tally, rec.queue, rec.agent);
                if rec.counted && !rec.transferred {
                    let wait = to_secs(now - rec.queued_at);
                    let short = self.sc.queues[queue as usize].short_abandon_secs;
                    self.tally(tally).record_abandon(wait, short);
                }
                if agent != u32::MAX {
                    self.remove_chat(agent, r);
                }
                self.free_record(r);
            }
            Decision::Closed { chat, .. } => {
                let Some(r) = self.record_of(chat) else {
                    return;
                };
                // A chat closed before its first-response time had its first message at close.
                self.record_first_response(r);
                let agent = self.records[r as usize].agent;
                self.remove_chat(agent, r);
                let rec = &self.records[r as usize];
                if rec.counted {
                    let (tally, queue, transferred) = (rec.tally, rec.queue, rec.transferred);
                    let (arrived_at, queued_at, answered_at) =
                        (rec.arrived_at, rec.queued_at, rec.answered_at);
                    let model = &self.sc.queues[queue as usize];
                    let csat = model.csat.as_ref().and_then(|c| {
                        (rec.csat_draw < c.response_share)
                            .then(|| c.score_after(to_secs(answered_at.max(queued_at) - queued_at)))
                    });
                    let t = self.tally(tally);
                    t.record_handling(to_secs(now - answered_at));
                    t.record_close(to_secs(now - arrived_at), transferred, csat);
                }
                self.free_record(r);
            }
            Decision::Transferred { chat, .. } => {
                let Some(r) = self.record_of(chat) else {
                    return;
                };
                let agent = self.records[r as usize].agent;
                self.remove_chat(agent, r);
                let rec = &self.records[r as usize];
                if rec.counted {
                    let (tally, answered_at) = (rec.tally, rec.answered_at);
                    let t = self.tally(tally);
                    t.record_transfer();
                    t.record_handling(to_secs(now - answered_at));
                }
                let rec = &mut self.records[r as usize];
                rec.transferred = true;
                rec.agent = u32::MAX;
                rec.work = rec.work_after_transfer;
                rec.generation = rec.generation.wrapping_add(1);
            }
            Decision::AgentAway { agent } => {
                self.events
                    .push_after(now, self.sc.away_return, Event::AgentBack { agent });
            }
            Decision::Queued {
                chat,
                estimated_wait,
                ..
            } => {
                if let Some(r) = self.record_of(chat) {
                    let rec = &mut self.records[r as usize];
                    if !rec.transferred && !rec.has_shown_ewt {
                        rec.shown_ewt = estimated_wait;
                        rec.has_shown_ewt = true;
                    }
                }
            }
            Decision::LoadChanged { .. } | Decision::AgentOffline { .. } => {}
        }
    }

    #[inline(always)]
    fn mark_dirty(&mut self, agent: u32) {
        let state = &mut self.agents[agent as usize];
        if !state.dirty {
            state.dirty = true;
            self.dirty.push(agent);
        }
    }

    /// `agent` takes record `r`'s chat. A flat-pace agent is brought up to date at once (every
    /// factor is 1, so only the new chat needs a completion); any other is marked, and
    /// rescheduled once when the decisions of this input are applied.
    #[inline(always)]
    fn add_chat(&mut self, agent: u32, r: u32) {
        let state = &mut self.agents[agent as usize];
        state.n += 1;
        if !state.flat {
            state.chats.push(r);
            self.mark_dirty(agent);
            return;
        }
        let (old_n, new_n) = (state.scheduled_n, state.n);
        state.scheduled_n = new_n;
        let (on_duty, group) = (state.on_duty, state.group);
        self.schedule_completion(r);
        if on_duty {
            self.level_changed(group, old_n, new_n);
        }
    }

    /// `agent` no longer holds record `r`'s chat, whose pending completion is void.
    #[inline(always)]
    fn remove_chat(&mut self, agent: u32, r: u32) {
        let Some(state) = self.agents.get_mut(agent as usize) else {
            return;
        };
        // The record names the agent holding its chat, so a flat-pace agent only counts.
        if state.flat {
            debug_assert!(state.n > 0, "agent {agent} loses a chat it does not hold");
            if state.n == 0 {
                return;
            }
            state.n -= 1;
            let (old_n, new_n) = (state.scheduled_n, state.n);
            state.scheduled_n = new_n;
            let (on_duty, group) = (state.on_duty, state.group);
            let rec = &mut self.records[r as usize];
            rec.generation = rec.generation.wrapping_add(1);
            if on_duty {
                self.level_changed(group, old_n, new_n);
            }
        } else {
            let Some(pos) = state.chats.iter().position(|&c| c == r) else {
                return;
            };
            state.chats.swap_remove(pos);
            state.n -= 1;
            let rec = &mut self.records[r as usize];
            rec.generation = rec.generation.wrapping_add(1);
            self.mark_dirty(agent);
        }
    }

    /// Brings an agent's chats up to date after its number of chats changed: work done so far
    /// at the old pace, completion at the new pace. (Agents of flat-pace groups are kept up to
    /// date as chats come and go, and are never marked.)
    fn reschedule(&mut self, agent: u32) {
        let state = &mut self.agents[agent as usize];
        state.dirty = false;
        let old_n = state.scheduled_n;
        let new_n = state.n;
        debug_assert_eq!(new_n as usize, state.chats.len());
        state.scheduled_n = new_n;
        let (on_duty, group) = (state.on_duty, state.group);
        self.reschedule_paced(agent, old_n, new_n);
        if on_duty {
            self.level_changed(group, old_n, new_n);
        }
    }

    /// Schedules the completion of record `r`'s chat after the work it brings, at pace 1 (no
    /// time has elapsed since it was answered, so no work is done yet).
    #[inline(always)]
    fn schedule_completion(&mut self, r: u32) {
        let now = self.now;
        let rec = &mut self.records[r as usize];
        rec.generation = rec.generation.wrapping_add(1);
        if rec.chat != NO_CHAT {
            let work = saturating_u64(rec.work + 0.5);
            let complete = Event::Complete {
                chat: rec.chat,
                generation: rec.generation,
            };
            self.events.push_after(now, work, complete);
        }
    }

    /// Updates the levels of an on-duty agent's group after it went from `old_n` to `new_n`
    /// chats.
    #[inline(always)]
    fn level_changed(&mut self, group: u16, old_n: u32, new_n: u32) {
        if old_n != new_n {
            let t = self.clamped(self.now);
            self.levels[group as usize].agent_changed(t, old_n, new_n);
        }
    }

    /// [`Self::reschedule`] for a group whose pace depends on the number of chats: every chat's
    /// work is brought up to date at the old pace and its completion set at the new one.
    fn reschedule_paced(&mut self, agent: u32, old_n: u32, new_n: u32) {
        let now = self.now;
        let state = &self.agents[agent as usize];
        let group = &self.sc.groups[state.group as usize];
        let old_f = group.slowdown.get(old_n as usize).copied().unwrap_or(1.0);
        let new_f = group.slowdown.get(new_n as usize).copied().unwrap_or(1.0);
        for &r in &state.chats {
            let rec = &mut self.records[r as usize];
            let elapsed = (now - rec.last_update) as f64;
            rec.work = (rec.work - elapsed / old_f).max(0.0);
            rec.last_update = now;
            rec.generation = rec.generation.wrapping_add(1);
            let work = saturating_u64(rec.work * new_f + 0.5);
            if rec.chat != NO_CHAT {
                self.events.push_after(
                    now,
                    work,
                    Event::Complete {
                        chat: rec.chat,
                        generation: rec.generation,
                    },
                );
            }
        }
    }

    /// `t` within `[warmup, horizon]`, where the levels count (as a signed number, for the
    /// products of [`GroupLevel`]).
    #[inline(always)]
    fn clamped(&self, t: Time) -> i64 {
        let t = t.max(self.sc.warmup).min(self.horizon);
        i64::try_from(t).unwrap_or(i64::MAX)
    }

    /// Integrates a group's levels up to `t` and moves the integrals into the tally of their
    /// interval, in seconds.
    fn close_level(&mut self, g: usize, t: Time) {
        let t = self.clamped(t);
        let sc = self.sc;
        let level = &mut self.levels[g];
        level.charge(t, 1);
        let areas = [level.staffed_area, level.busy_area, level.with_chat_area];
        level.staffed_area = 0;
        level.busy_area = 0;
        level.with_chat_area = 0;
        if areas == [0; 3] {
            return;
        }
        let secs = |area: i128| area as f64 / SECOND as f64;
        let index = level.interval * sc.groups.len() + g;
        if let Some(tally) = self.tallies.agents.get_mut(index) {
            let staffed = secs(areas[0]);
            tally.staffed_secs += staffed;
            tally.staffed_slot_secs += staffed * f64::from(sc.groups[g].cap);
            tally.busy_slot_secs += secs(areas[1]);
            tally.with_chat_secs += secs(areas[2]);
        }
    }

    /// Starts integrating a group's levels from `t`, in `interval`.
    fn open_level(&mut self, g: usize, t: Time, interval: usize) {
        let t = self.clamped(t);
        let level = &mut self.levels[g];
        level.charge(t, -1);
        level.since = t as Time;
        level.interval = interval;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_stay_within_two_cache_lines() {
        // Records are copied whole when a chat enters its queue.
        assert!(
            std::mem::size_of::<Record>() <= 128,
            "{}",
            std::mem::size_of::<Record>()
        );
    }
}
