//! One replication: the event loop that drives the routing core through a day in virtual time.
//!
//! The [`Engine`] owns the router and a [`DayState`]: everything the router's decisions act on
//! (customers' records, pending events, agents' work, group levels, tallies). The day state is
//! the router's decision sink, so each decision is applied where the router makes it, with no
//! buffer and no dispatch on its kind. The code is split by event family:
//!
//! - this file: the engine, its loop and the dispatch of events;
//! - `arrivals.rs`: arrivals, the customers' draws and the bot stage;
//! - `decisions.rs`: the router's decisions (offers, answers, ends, transfers);
//! - `work.rs`: chats in progress, completions and their rescheduling under slowdown;
//! - `levels.rs`: agents on and off duty and the groups' integrated levels;
//! - `record.rs`: a customer's record and where it is filed.
//! - `fork.rs`: forks that leave out the tallies that can no longer change.
//!
//! Everything on the per-event path is marked for inlining into the loop, so splitting it into
//! files costs nothing at run time.

mod arrivals;
mod decisions;
mod fork;
mod levels;
mod record;
mod work;

use crate::metrics::{AgentTally, QueueTally};
use crate::model::{ArrivalProcess, SimRng, stream};
use crate::routing::{AgentId, AgentStatus, ChatState, QueueId, Router, Time};

use super::events::{Event, EventQueue};
use super::{Observer, SimError};
use crate::scenario::Scenario;
pub(crate) use levels::agents_created;
use levels::{AgentState, GroupLevel};
use record::{NO_CHAT, Record};

/// Tallies of one replication.
#[derive(Debug, Clone, Default)]
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
    day: DayState<'s, O>,
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
    /// Intervals whose tallies this engine does not carry: 0, but for a fork
    /// ([`Engine::fork`]).
    tallies_from: usize,
}

/// The simulator's side of a replication: customers' records, pending events, agents' chats,
/// group levels and tallies. It is the router's decision sink: [`Decisions::push`] applies a
/// decision at once, and the router forgets ended chats itself.
#[derive(Clone)]
struct DayState<'s, O: Observer> {
    sc: &'s Scenario,
    now: Time,
    events: EventQueue,
    /// Customers with a chat, at the chat's slot index.
    records: Vec<Record>,
    agents: Vec<AgentState>,
    /// The records of the chats paced agents hold ([`AgentState::held_at`]).
    held: Vec<u32>,
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
        let created = levels::create_agents(sc, &mut router)?;
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
        let day = DayState::new(
            sc,
            replication,
            created.states,
            created.held_slots,
            observer,
        );
        let mut engine = Engine {
            router,
            day,
            queue_ids,
            bot_stage: Vec::new(),
            free_bot_stage: Vec::new(),
            group_agents: created.ids,
            staffing: sc.groups.iter().map(|g| g.staffing.clone()).collect(),
            arrivals,
            next_arrival_secs: vec![f64::INFINITY; sc.queues.len()],
            next_arrival: vec![Time::MAX; sc.queues.len()],
            soonest_arrival: (Time::MAX, 0),
            queue_rngs,
            tallies_from: 0,
        };
        for q in 0..sc.queues.len() {
            engine.draw_next_arrival(q, 0.0);
        }
        if sc.intervals > 0 {
            engine
                .day
                .events
                .push(0, Event::IntervalStart { interval: 0 });
        }
        Ok(engine)
    }

    /// Current simulated time.
    pub fn now(&self) -> Time {
        self.day.now
    }

    /// The tallies so far (chats count once they have left the queue).
    pub fn tallies(&self) -> &ReplicationTallies {
        &self.day.tallies
    }

    /// The routing core, for inspection.
    pub fn router(&self) -> &Router {
        &self.router
    }

    /// Empties the tallies of the intervals before `interval`, so that copies of the engine
    /// (a planner exploring staffings from here) do not carry them. Chats of those intervals
    /// still in the system no longer count anywhere.
    pub fn discard_tallies_before(&mut self, interval: usize) {
        let (nq, ng) = (self.day.sc.queues.len(), self.day.sc.groups.len());
        let tallies = &mut self.day.tallies;
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
            let next_event = self.day.events.peek_time().unwrap_or(Time::MAX);
            let (next_arrival, queue) = self.soonest_arrival;
            // At the same instant an arrival goes first.
            let time = next_event.min(next_arrival);
            if time == Time::MAX || time >= until {
                break;
            }
            self.day.now = time;
            self.day.tallies.events += 1;
            if next_arrival <= next_event {
                self.day.observer.event(
                    time,
                    &Event::Arrival {
                        queue: queue as u16,
                    },
                );
                self.arrive(queue)?;
            } else {
                let Some((_, event)) = self.day.events.pop() else {
                    break;
                };
                self.day.observer.event(time, &event);
                self.handle(event)?;
            }
            self.day.reschedule_dirty();
        }
        // Leave the tallies complete up to the last change (a planner reads them between runs).
        for g in 0..self.day.levels.len() {
            let (since, interval) = (self.day.levels[g].since, self.day.levels[g].interval);
            self.day.close_level(g, since);
            self.day.open_level(g, since, interval);
        }
        Ok(())
    }

    /// Runs the day to the end, draining every chat, and returns the tallies.
    pub fn finish(mut self) -> Result<(ReplicationTallies, O), SimError> {
        self.run_until(Time::MAX)?;
        let mut day = self.day;
        let sc = day.sc;
        for g in 0..day.levels.len() {
            day.close_level(g, day.horizon);
        }
        // Chats still live when no event is left waited for an agent who never came.
        for rec in &day.records {
            if rec.chat != NO_CHAT && rec.counted && !rec.transferred {
                day.tallies.queues[rec.tally as usize].record_stranded();
            }
        }
        let nq = sc.queues.len();
        for (i, t) in day.tallies.queues.iter_mut().enumerate() {
            if sc.queues[i % nq].first_response.is_none() {
                t.record_first_responses_at_answers();
            }
        }
        Ok((day.tallies, day.observer))
    }

    /// Handles one event off the heap.
    fn handle(&mut self, event: Event) -> Result<(), SimError> {
        let now = self.day.now;
        let day = &mut self.day;
        match event {
            Event::Arrival { queue } => self.arrive(queue as usize)?,
            Event::BotDone { record } => self.bot_done(record)?,
            Event::Patience { chat } => {
                // A transferred chat already reached an agent once: it does not abandon.
                if day
                    .record_of(chat)
                    .is_some_and(|r| !day.records[r as usize].transferred)
                    && let Some(view) = self.router.chat(chat)
                    && matches!(view.state, ChatState::Queued | ChatState::Offered)
                {
                    self.router.leave(now, chat, day)?;
                }
            }
            Event::AcceptDue { chat, offer } => {
                if let Some(r) = day.record_of(chat)
                    && day.records[r as usize].offer == offer
                {
                    // The offer may have ended meanwhile (abandon, timeout): nothing to accept.
                    let agent = AgentId(day.records[r as usize].offered_to);
                    let _ = self.router.accept(now, chat, agent, day);
                }
            }
            Event::OfferTimeout { chat, offer } => {
                if day.record_of(chat).is_some() {
                    let _ = self.router.offer_timeout(now, chat, offer, day);
                }
            }
            Event::FirstResponse { chat } => {
                if let Some(r) = day.record_of(chat) {
                    let _ = self.router.first_response(now, chat, day);
                    day.record_first_response(r);
                }
            }
            Event::Complete { chat, generation } => self.complete(chat, generation)?,
            Event::PacedComplete { agent, generation } => self.paced_complete(agent, generation)?,
            Event::IntervalStart { interval } => self.start_interval(interval as usize)?,
            Event::StaffingStep { group, agents } => {
                let t = self.day.clamped(now);
                let level = &mut self.day.levels[group as usize];
                level.charge(t, 1);
                self.set_on_duty(group as usize, agents as usize)?;
                let level = &mut self.day.levels[group as usize];
                level.charge(t, -1);
                level.since = t as Time;
            }
            Event::AgentBack { agent } => {
                let state = &day.agents[agent.0 as usize];
                if state.on_duty
                    && self
                        .router
                        .agent(agent)
                        .is_some_and(|a| a.status == AgentStatus::Away)
                {
                    day.observer
                        .agent_status(now, agent, AgentStatus::Available);
                    self.router
                        .set_status(now, agent, AgentStatus::Available, day)?;
                }
            }
        }
        Ok(())
    }
}

impl<'s, O: Observer> DayState<'s, O> {
    /// The day at time zero: no customer yet, every agent off duty, `held_slots` slots for the
    /// chats paced agents hold.
    fn new(
        sc: &'s Scenario,
        replication: u32,
        agents: Vec<AgentState>,
        held_slots: usize,
        observer: O,
    ) -> Self {
        DayState {
            sc,
            now: 0,
            events: EventQueue::default(),
            records: Vec::new(),
            agents,
            held: vec![0; held_slots],
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
        }
    }

    /// The index of the interval holding `t` (`t / interval`, counted past the horizon too).
    #[inline(always)]
    pub(super) fn interval_at(&mut self, t: Time) -> usize {
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
}
