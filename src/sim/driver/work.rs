//! Work in progress: each chat's work content progresses at rate 1/f(n) while its agent holds
//! n chats, so completions move when n changes. Every chat of an agent moves at the same pace,
//! so the order they finish in does not change: a paced agent has one completion event, for
//! the chat with the least work left, rescheduled when n changes (one push per change instead
//! of one per chat held). Superseded completion events are skipped by generation. A completion
//! closes the chat or transfers it.

use crate::model::saturating_u64;
use crate::routing::{ChatId, RouteError, Time, TransferTarget};

use super::super::events::Event;
use super::super::{Observer, SimError};
use super::record::NO_CHAT;
use super::{DayState, Engine};

impl<O: Observer> Engine<'_, O> {
    /// A chat's work is done (unless `generation` was superseded): it is closed, or
    /// transferred when the customer drew a transfer.
    #[inline(always)]
    pub(super) fn complete(&mut self, chat: ChatId, generation: u32) -> Result<(), SimError> {
        match self.day.record_of(chat) {
            Some(r) if self.day.records[r as usize].generation == generation => {
                self.finish_work(chat, r)
            }
            _ => Ok(()),
        }
    }

    /// The earliest chat of paced agent `agent` is done (unless `generation` was superseded).
    #[inline(always)]
    pub(super) fn paced_complete(&mut self, agent: u32, generation: u32) -> Result<(), SimError> {
        let state = &self.day.agents[agent as usize];
        if state.completion != generation {
            return Ok(());
        }
        let r = state.next;
        let chat = self.day.records[r as usize].chat;
        self.finish_work(chat, r)
    }

    /// Record `r`'s chat's work is done: it is closed, or transferred when the customer drew a
    /// transfer.
    #[inline(always)]
    fn finish_work(&mut self, chat: ChatId, r: u32) -> Result<(), SimError> {
        let now = self.day.now;
        let day = &mut self.day;
        let rec = &mut day.records[r as usize];
        if rec.transfer_pending {
            rec.transfer_pending = false;
            let to = day.sc.queues[rec.queue as usize]
                .transfer
                .map_or(0, |t| t.1);
            let target = TransferTarget::Queue(self.queue_ids[to]);
            match self.router.transfer(now, chat, target, day) {
                // A full target queue refuses the transfer and the chat stays with its agent,
                // who finishes it, as an agent of `chatcap serve` would.
                Err(RouteError::QueueFull { .. }) => self.router.close(now, chat, 0, None, day)?,
                done => done?,
            }
        } else {
            self.router.close(now, chat, 0, None, day)?;
        }
        Ok(())
    }
}

impl<O: Observer> DayState<'_, O> {
    #[inline(always)]
    pub(super) fn reschedule_dirty(&mut self) {
        while let Some(agent) = self.dirty.pop() {
            self.reschedule(agent);
        }
    }

    #[inline(always)]
    pub(super) fn mark_dirty(&mut self, agent: u32) {
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
    pub(super) fn add_chat(&mut self, agent: u32, r: u32) {
        let state = &mut self.agents[agent as usize];
        state.n += 1;
        if !state.flat {
            debug_assert!(
                state.n <= self.sc.groups[state.group as usize].cap,
                "agent {agent} holds more chats than its cap"
            );
            self.held[(state.held_at + state.n - 1) as usize] = r;
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
    pub(super) fn remove_chat(&mut self, agent: u32, r: u32) {
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
            let at = state.held_at as usize;
            let held = &mut self.held[at..at + state.n as usize];
            let Some(pos) = held.iter().position(|&c| c == r) else {
                return;
            };
            held[pos] = held[held.len() - 1];
            state.n -= 1;
            let rec = &mut self.records[r as usize];
            rec.generation = rec.generation.wrapping_add(1);
            self.mark_dirty(agent);
        }
    }

    /// Brings an agent's chats up to date after its number of chats changed: work done so far
    /// at the old pace, completion at the new pace. (Agents of flat-pace groups are kept up to
    /// date as chats come and go, and are never marked.)
    #[inline]
    fn reschedule(&mut self, agent: u32) {
        let state = &mut self.agents[agent as usize];
        state.dirty = false;
        let old_n = state.scheduled_n;
        let new_n = state.n;
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
    pub(super) fn schedule_completion(&mut self, r: u32) {
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

    /// [`Self::reschedule`] for a group whose pace depends on the number of chats: every chat's
    /// work is brought up to date at the old pace, and the agent's one completion event is set
    /// for the chat that finishes first at the new pace (the first held among equals, the
    /// order a completion per chat would have been taken in).
    #[inline]
    fn reschedule_paced(&mut self, agent: u32, old_n: u32, new_n: u32) {
        let now = self.now;
        let state = &mut self.agents[agent as usize];
        let group = &self.sc.groups[state.group as usize];
        let old_f = group.slowdown.get(old_n as usize).copied().unwrap_or(1.0);
        let new_f = group.slowdown.get(new_n as usize).copied().unwrap_or(1.0);
        let mut first: Option<(Time, u32)> = None;
        let at = state.held_at as usize;
        for &r in &self.held[at..at + new_n as usize] {
            let rec = &mut self.records[r as usize];
            let elapsed = (now - rec.last_update) as f64;
            rec.work = (rec.work - elapsed / old_f).max(0.0);
            rec.last_update = now;
            let work = saturating_u64(rec.work * new_f + 0.5);
            if rec.chat != NO_CHAT && first.is_none_or(|(w, _)| work < w) {
                first = Some((work, r));
            }
        }
        state.completion = state.completion.wrapping_add(1);
        if let Some((work, r)) = first {
            state.next = r;
            let complete = Event::PacedComplete {
                agent,
                generation: state.completion,
            };
            self.events.push_after(now, work, complete);
        }
    }
}
