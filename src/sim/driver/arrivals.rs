//! Customers arriving: per queue from exact piecewise-Poisson streams kept out of the event heap
//! (each queue's stream is already in time order), through the bot stage, into their queue.
//!
//! Every attribute a customer brings (bot outcome, work content, patience, first-response delay,
//! transfer, survey draw) is drawn at arrival from that queue's own stream, so the same
//! customers arrive whatever the staffing (common random numbers).

use rand::RngExt;

use crate::routing::{ChatId, SECOND, Time};
use crate::scenario::{to_secs, to_time};

use super::super::events::Event;
use super::super::{Entry, Observer, SimError};
use super::Engine;
use super::record::{NO_CHAT, Record, VACANT};

/// What a customer brings, drawn at arrival from their queue's stream.
#[derive(Clone, Copy)]
struct Customer {
    /// Work content at concurrency 1, seconds.
    work: f64,
    patience: Option<Time>,
    first_response: Option<Time>,
    bot_resolves: bool,
    /// Time in the bot stage, seconds, when the queue has one.
    bot_time: Option<f64>,
    transfer_pending: bool,
    /// Work content of the leg after a transfer, seconds.
    work_after_transfer: f64,
    csat_draw: f64,
}

impl<O: Observer> Engine<'_, O> {
    /// Draws queue `q`'s next arrival after `after_secs` and updates the soonest arrival.
    #[inline(always)]
    pub(super) fn draw_next_arrival(&mut self, q: usize, after_secs: f64) {
        let next = self.arrivals[q].next_after(after_secs, &mut self.queue_rngs[q]);
        self.next_arrival_secs[q] = next.unwrap_or(f64::INFINITY);
        self.next_arrival[q] = next.map_or(Time::MAX, |t| to_time(t).max(self.day.now));
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

    /// A customer arrives at queue `q` now: counted, then sent to the bot or into the queue.
    #[inline(always)]
    pub(super) fn arrive(&mut self, q: usize) -> Result<(), SimError> {
        let now = self.day.now;
        let sc = self.day.sc;
        self.draw_next_arrival(q, self.next_arrival_secs[q]);
        let interval = self
            .day
            .interval_at(now)
            .min(sc.intervals.saturating_sub(1));
        let c = self.draw_customer(q, interval);
        let counted = now >= sc.warmup;
        // Tallies number fewer than 2^32: each takes hundreds of bytes.
        let tally = (interval * sc.queues.len() + q) as u32;
        self.day.tallies.chats += 1;
        if counted {
            self.day.tally(tally).record_arrival();
        }
        let record = |chat: ChatId| Record {
            chat,
            queue: q as u16,
            tally,
            counted,
            transfer_pending: c.transfer_pending,
            bot_resolves: c.bot_resolves,
            arrived_at: now,
            queued_at: now,
            work: c.work * SECOND as f64,
            work_after_transfer: c.work_after_transfer * SECOND as f64,
            patience: c.patience.unwrap_or(0),
            has_patience: c.patience.is_some(),
            first_response: c.first_response.unwrap_or(0),
            has_first_response: c.first_response.is_some(),
            last_update: now,
            csat_draw: c.csat_draw,
            ..VACANT
        };
        match c.bot_time {
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
                self.day
                    .observer
                    .arrived(now, q as u16, Entry::Bot { place: slot });
                self.day
                    .events
                    .push_after(now, to_time(secs), Event::BotDone { record: slot });
            }
            None => {
                // Built in place: the record is the largest write of an arrival.
                let chat = self.router.next_chat();
                *self.day.record_slot(chat) = record(chat);
                self.day
                    .observer
                    .arrived(now, q as u16, Entry::Queue { chat });
                self.enter_queue(chat)?;
            }
        }
        Ok(())
    }

    /// Draws what a customer of queue `q` arriving in `interval` brings, in a fixed order
    /// from the queue's stream.
    #[inline(always)]
    fn draw_customer(&mut self, q: usize, interval: usize) -> Customer {
        let sc = self.day.sc;
        let model = &sc.queues[q];
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
        Customer {
            work,
            patience,
            first_response,
            bot_resolves,
            bot_time,
            transfer_pending,
            work_after_transfer,
            csat_draw,
        }
    }

    /// The bot is done with the customer in bot-stage place `slot`: resolved, or on to the
    /// queue.
    #[inline(always)]
    pub(super) fn bot_done(&mut self, slot: u32) -> Result<(), SimError> {
        let now = self.day.now;
        let r = self.bot_stage[slot as usize];
        self.free_bot_stage.push(slot);
        if r.bot_resolves {
            self.day.observer.bot_done(now, slot, None);
            if r.counted {
                self.day
                    .tally(r.tally)
                    .record_bot_resolution(to_secs(now - r.arrived_at));
            }
        } else {
            let chat = self.router.next_chat();
            *self.day.record_slot(chat) = Record {
                chat,
                queued_at: now,
                ..r
            };
            self.day.observer.bot_done(now, slot, Some(chat));
            self.enter_queue(chat)?;
        }
        Ok(())
    }

    /// Puts a customer's chat into its queue. The customer's record is already filed at the
    /// chat's slot ([`crate::routing::Router::next_chat`]), so the decisions about the chat
    /// find it there. The customer's patience is armed by those decisions, only if the chat
    /// waits ([`DayState::arm_patience`]).
    #[inline(always)]
    fn enter_queue(&mut self, chat: ChatId) -> Result<(), SimError> {
        let day = &mut self.day;
        let now = day.now;
        let slot = chat.index();
        let rec = &day.records[slot];
        let queue = rec.queue;
        if rec.counted {
            let tally = rec.tally;
            day.tally(tally).record_queue_entry();
        }
        let queue = self.queue_ids[queue as usize];
        match self.router.arrive(now, queue, 0, day) {
            Ok(arrived) => {
                debug_assert_eq!(arrived, chat, "the router gave another id than announced");
                Ok(())
            }
            Err(e) => {
                day.free_record(slot as u32);
                Err(e.into())
            }
        }
    }
}
