//! The event queue: a binary heap keyed by (time, sequence). The sequence number makes order
//! total and deterministic for events at the same instant. Cancelled timers are not removed;
//! their handlers check a generation or the chat's state and ignore stale events.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use crate::routing::{AgentId, ChatId, OfferSeq, Time};

/// What happens at an instant of simulated time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// The next customer of a queue arrives.
    Arrival {
        /// Queue index.
        queue: u16,
    },
    /// A customer's bot stage ends: resolved by the bot, or into the queue.
    BotDone {
        /// The simulator's customer record.
        record: u32,
    },
    /// A customer's patience runs out (ignored unless still queued or offered).
    Patience {
        /// The chat.
        chat: ChatId,
    },
    /// The agent holding an offer accepts it after its sampled accept delay.
    AcceptDue {
        /// The chat.
        chat: ChatId,
        /// Which offer of the chat.
        offer: OfferSeq,
    },
    /// An offer's accept deadline.
    OfferTimeout {
        /// The chat.
        chat: ChatId,
        /// Which offer of the chat.
        offer: OfferSeq,
    },
    /// The agent sends the first message.
    FirstResponse {
        /// The chat.
        chat: ChatId,
    },
    /// The chat's work is done (ignored if its completion was rescheduled since).
    Complete {
        /// The chat.
        chat: ChatId,
        /// Service generation at scheduling time.
        generation: u32,
    },
    /// A planning interval starts: staffing changes.
    IntervalStart {
        /// Interval index.
        interval: u32,
    },
    /// An agent that went away after missed offers becomes available again.
    AgentBack {
        /// The agent.
        agent: AgentId,
    },
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    time: Time,
    seq: u64,
    event: Event,
}

impl PartialEq for Entry {
    fn eq(&self, other: &Self) -> bool {
        (self.time, self.seq) == (other.time, other.seq)
    }
}
impl Eq for Entry {}
impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Entry {
    /// Reversed, so that the max-heap pops the earliest (time, seq) first.
    fn cmp(&self, other: &Self) -> Ordering {
        (other.time, other.seq).cmp(&(self.time, self.seq))
    }
}

/// Pending events in time order.
#[derive(Debug, Clone, Default)]
pub struct EventQueue {
    heap: BinaryHeap<Entry>,
    seq: u64,
}

impl EventQueue {
    /// Schedules `event` at `time`.
    #[inline]
    pub fn push(&mut self, time: Time, event: Event) {
        self.seq += 1;
        self.heap.push(Entry {
            time,
            seq: self.seq,
            event,
        });
    }

    /// Removes and returns the earliest event.
    #[inline]
    pub fn pop(&mut self) -> Option<(Time, Event)> {
        self.heap.pop().map(|e| (e.time, e.event))
    }

    /// The time of the earliest event.
    pub fn peek_time(&self) -> Option<Time> {
        self.heap.peek().map(|e| e.time)
    }

    /// Number of pending events.
    pub fn len(&self) -> usize {
        self.heap.len()
    }

    /// True when nothing is pending.
    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_stay_small() {
        // Heap moves dominate the event loop: keep an entry within half a cache line.
        assert!(
            std::mem::size_of::<Entry>() <= 32,
            "{}",
            std::mem::size_of::<Entry>()
        );
    }

    #[test]
    fn pops_in_time_then_insertion_order() {
        let mut q = EventQueue::default();
        q.push(5, Event::Arrival { queue: 0 });
        q.push(3, Event::Arrival { queue: 1 });
        q.push(5, Event::Arrival { queue: 2 });
        q.push(1, Event::IntervalStart { interval: 0 });
        let order: Vec<_> = std::iter::from_fn(|| q.pop()).collect();
        assert_eq!(
            order,
            vec![
                (1, Event::IntervalStart { interval: 0 }),
                (3, Event::Arrival { queue: 1 }),
                (5, Event::Arrival { queue: 0 }),
                (5, Event::Arrival { queue: 2 }),
            ]
        );
    }
}
