//! Agents on duty and the levels of each group (agents staffed, slots busy, agents with a
//! chat), integrated exactly over time into the groups' tallies interval by interval.

use crate::routing::{AgentConfig, AgentId, AgentStatus, Router, SECOND, Time};
use crate::scenario::{AgentGroup, Scenario};

use super::super::events::Event;
use super::super::{Observer, SimError};
use super::{DayState, Engine};

/// Simulator-side state of one agent.
#[derive(Debug, Clone)]
pub(super) struct AgentState {
    pub(super) group: u16,
    pub(super) on_duty: bool,
    /// Whether the group works at pace 1 whatever the number of chats.
    pub(super) flat: bool,
    /// Chats being worked, at most the cap.
    pub(super) n: u32,
    /// Where their records are kept: `DayState::held[held_at..held_at + n]`, only where the
    /// pace depends on their number (a flat-pace agent never needs to find its other chats).
    pub(super) held_at: u32,
    /// Number of chats the current completion times were computed for.
    pub(super) scheduled_n: u32,
    /// A paced agent's chat whose completion is scheduled: the record of the one with the
    /// least work left.
    pub(super) next: u32,
    /// Generation of a paced agent's completion event; a later one voids it.
    pub(super) completion: u32,
    pub(super) dirty: bool,
}

/// The levels of one agent group and their integrals over time since the last commit to the
/// tallies, exact in level x microseconds. A level held from `t0` to `t1` integrates to
/// `level * t1 - level * t0`, so each change by `d` at `t` adds `-d * t` and a commit at `t`
/// adds `level * t`: one product per change, with no span to track. Times are clamped to
/// `[warmup, horizon]`, which leaves out whatever happens outside it. Commits happen at
/// interval starts, so the integrals always belong to one interval, `interval`.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct GroupLevel {
    pub(super) on_duty: u32,
    pub(super) busy_slots: u32,
    pub(super) with_chat: u32,
    /// The (clamped) time of the last change, up to which a mid-interval commit integrates.
    pub(super) since: Time,
    pub(super) interval: usize,
    pub(super) staffed_area: i128,
    pub(super) busy_area: i128,
    pub(super) with_chat_area: i128,
}

impl GroupLevel {
    /// Adds the levels times `t` (`sign` 1) or takes them away (`sign` -1).
    #[inline(always)]
    pub(super) fn charge(&mut self, t: i64, sign: i128) {
        let t = i128::from(t) * sign;
        self.staffed_area += i128::from(self.on_duty) * t;
        self.busy_area += i128::from(self.busy_slots) * t;
        self.with_chat_area += i128::from(self.with_chat) * t;
    }

    /// An on-duty agent went from `old_n` to `new_n` chats at `t`: each level that changes by
    /// `d` is charged `-d * t`.
    #[inline(always)]
    pub(super) fn agent_changed(&mut self, t: i64, old_n: u32, new_n: u32) {
        let busy = i64::from(new_n) - i64::from(old_n);
        let with_chat = i64::from(new_n > 0) - i64::from(old_n > 0);
        self.busy_area -= i128::from(busy) * i128::from(t);
        self.with_chat_area -= i128::from(with_chat) * i128::from(t);
        self.busy_slots = self.busy_slots + new_n - old_n;
        self.with_chat = self.with_chat + u32::from(new_n > 0) - u32::from(old_n > 0);
        self.since = t as Time;
    }
}

/// The agents a replication creates for `group`: its peak staffing, or its pool if larger.
/// Agent ids run through the groups in order, `agents_created` of each.
pub(crate) fn agents_created(group: &AgentGroup) -> u32 {
    group
        .staffing
        .iter()
        .chain(group.steps.iter().map(|s| &s.1))
        .copied()
        .max()
        .unwrap_or(0)
        .max(group.pool)
}

/// The agents of a scenario as the simulator holds them.
pub(super) struct CreatedAgents {
    /// Each agent's state, off duty.
    pub(super) states: Vec<AgentState>,
    /// The router's ids per group.
    pub(super) ids: Vec<Vec<AgentId>>,
    /// Slots for the records of chats held by paced agents: `cap` per such agent.
    pub(super) held_slots: usize,
}

/// Creates every agent of every group in `router` (the peak staffing, or the group's pool if
/// larger), off duty. The records of the chats a paced agent holds live in slots of one shared
/// array rather than a list per agent, so that copying a replication (a planner's fork) costs
/// no allocation per agent.
pub(super) fn create_agents(sc: &Scenario, router: &mut Router) -> Result<CreatedAgents, SimError> {
    let mut agents = Vec::new();
    let mut held_slots = 0u32;
    let mut group_agents = Vec::with_capacity(sc.groups.len());
    for (g, group) in sc.groups.iter().enumerate() {
        let peak = agents_created(group);
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
                held_at: held_slots,
                scheduled_n: 0,
                next: 0,
                completion: 0,
                dirty: false,
            });
            if !group.flat_slowdown {
                held_slots = held_slots.checked_add(group.cap).ok_or_else(|| {
                    SimError::Staffing("too many chat slots for the agents' caps".into())
                })?;
            }
            ids.push(id);
        }
        group_agents.push(ids);
    }
    Ok(CreatedAgents {
        states: agents,
        ids: group_agents,
        held_slots: held_slots as usize,
    })
}

impl<O: Observer> Engine<'_, O> {
    /// Starts `interval`: schedules the next start, commits the groups' levels of the interval
    /// that ends, and brings agents on or off duty as its staffing says (agents going off duty
    /// finish their chats first).
    pub(super) fn start_interval(&mut self, interval: usize) -> Result<(), SimError> {
        let now = self.day.now;
        let sc = self.day.sc;
        if interval + 1 < sc.intervals {
            let next = sc.interval * (interval as Time + 1);
            self.day.events.push(
                next,
                Event::IntervalStart {
                    interval: interval as u32 + 1,
                },
            );
        }
        let end = now.saturating_add(sc.interval);
        for g in 0..self.group_agents.len() {
            self.day.close_level(g, now);
            let target = self.staffing[g].get(interval).copied().unwrap_or(0) as usize;
            self.set_on_duty(g, target)?;
            self.day.open_level(g, now, interval);
            let steps = &sc.groups[g].steps;
            let first = steps.partition_point(|s| s.0 <= now);
            for &(t, agents) in steps[first..].iter().take_while(|s| s.0 < end) {
                let group = g as u16;
                self.day
                    .events
                    .push(t, Event::StaffingStep { group, agents });
            }
        }
        Ok(())
    }

    /// Brings the first `target` agents of group `g` on duty and the others off (agents going
    /// off duty finish their chats first), keeping the group's levels; the caller integrates
    /// the levels around the change.
    pub(super) fn set_on_duty(&mut self, g: usize, target: usize) -> Result<(), SimError> {
        let day = &mut self.day;
        let now = day.now;
        for (k, &agent) in self.group_agents[g].iter().enumerate() {
            let on = k < target;
            let state = &mut day.agents[agent.0 as usize];
            if on == state.on_duty {
                continue;
            }
            state.on_duty = on;
            let n = state.n;
            let level = &mut day.levels[g];
            if on {
                level.on_duty += 1;
                level.busy_slots += n;
                level.with_chat += u32::from(n > 0);
                day.observer
                    .agent_status(now, agent, AgentStatus::Available);
                self.router
                    .set_status(now, agent, AgentStatus::Available, day)?;
            } else {
                level.on_duty -= 1;
                level.busy_slots -= n;
                level.with_chat -= u32::from(n > 0);
                day.observer.agent_status(now, agent, AgentStatus::Draining);
                self.router
                    .set_status(now, agent, AgentStatus::Draining, day)?;
            }
        }
        Ok(())
    }
}

impl<O: Observer> DayState<'_, O> {
    /// Updates the levels of an on-duty agent's group after it went from `old_n` to `new_n`
    /// chats.
    #[inline(always)]
    pub(super) fn level_changed(&mut self, group: u16, old_n: u32, new_n: u32) {
        if old_n != new_n {
            let t = self.clamped(self.now);
            self.levels[group as usize].agent_changed(t, old_n, new_n);
        }
    }

    /// `t` within `[warmup, horizon]`, where the levels count (as a signed number, for the
    /// products of [`GroupLevel`]).
    #[inline(always)]
    pub(super) fn clamped(&self, t: Time) -> i64 {
        let t = t.max(self.sc.warmup).min(self.horizon);
        i64::try_from(t).unwrap_or(i64::MAX)
    }

    /// Integrates a group's levels up to `t` and moves the integrals into the tally of their
    /// interval, in seconds.
    pub(super) fn close_level(&mut self, g: usize, t: Time) {
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
            let cap = sc.groups[g].cap;
            tally.record_levels(secs(areas[0]), cap, secs(areas[1]), secs(areas[2]));
        }
    }

    /// Starts integrating a group's levels from `t`, in `interval`.
    pub(super) fn open_level(&mut self, g: usize, t: Time, interval: usize) {
        let t = self.clamped(t);
        let level = &mut self.levels[g];
        level.charge(t, -1);
        level.since = t as Time;
        level.interval = interval;
    }
}
