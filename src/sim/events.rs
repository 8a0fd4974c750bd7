//! The event queue: an 8-ary heap keyed by (time, sequence). The sequence number makes order
//! total and deterministic for events at the same instant. Cancelled timers are not removed;
//! their handlers check a generation or the chat's state and ignore stale events.

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
    /// The earliest of a paced agent's chats is done (ignored if the agent's chats changed
    /// since): one event per agent, not per chat, since every chat's completion moves whenever
    /// the agent's pace does.
    PacedComplete {
        /// The agent.
        agent: u32,
        /// The agent's completion generation at scheduling time.
        generation: u32,
    },
    /// A planning interval starts: staffing changes.
    IntervalStart {
        /// Interval index.
        interval: u32,
    },
    /// A group's agents on duty change within an interval (a roster's breaks).
    StaffingStep {
        /// Agent group index.
        group: u16,
        /// Agents on duty from now on.
        agents: u32,
    },
    /// An agent that went away after missed offers becomes available again.
    AgentBack {
        /// The agent.
        agent: AgentId,
    },
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    /// (time, seq) as one integer: one branch-free comparison orders two entries.
    key: u128,
    event: Event,
}

impl Entry {
    #[inline(always)]
    fn key(&self) -> u128 {
        self.key
    }

    #[inline(always)]
    fn time(&self) -> Time {
        (self.key >> 64) as Time
    }
}

/// Children per node. Eight cut the depth of a binary heap by three: a pop walks down one or
/// two levels for the few dozen events of a typical floor, and the children's minimum is a
/// tree of independent comparisons.
const ARITY: usize = 8;

/// Pending events in time order: an 8-ary min-heap on (time, seq).
///
/// Hand-written rather than `BinaryHeap` so that a pop moves the hole to a leaf choosing the
/// smallest child without branches (the choice is a coin flip the predictor cannot learn), then
/// sifts the last entry up from there, which rarely takes more than a step. Keys are unique, so
/// the order events come out in does not depend on the heap's layout.
#[derive(Debug, Clone, Default)]
pub(crate) struct EventQueue {
    heap: Vec<Entry>,
    seq: u64,
}

/// The smaller of two (key, index) pairs, without a branch.
#[inline(always)]
fn min_by_key(a: (u128, usize), b: (u128, usize)) -> (u128, usize) {
    if b.0 < a.0 { b } else { a }
}

impl EventQueue {
    /// Schedules `event` at `time`.
    #[inline(always)]
    pub(crate) fn push(&mut self, time: Time, event: Event) {
        self.seq += 1;
        let entry = Entry {
            key: (u128::from(time) << 64) | u128::from(self.seq),
            event,
        };
        let hole = self.heap.len();
        self.heap.push(entry);
        Self::sift_up(&mut self.heap, hole, entry);
    }

    /// Schedules `event` `delay` after `now`. A time past the end of the clock stays at its end,
    /// which the run never reaches (a sampled duration's tail can be that long).
    #[inline(always)]
    pub(crate) fn push_after(&mut self, now: Time, delay: Time, event: Event) {
        self.push(now.saturating_add(delay), event);
    }

    /// Places `entry` at `hole` or above it, moving larger parents down.
    #[inline(always)]
    fn sift_up(heap: &mut [Entry], mut hole: usize, entry: Entry) {
        let key = entry.key();
        while hole > 0 {
            let parent = (hole - 1) / ARITY;
            let above = heap[parent];
            if above.key() <= key {
                break;
            }
            heap[hole] = above;
            hole = parent;
        }
        heap[hole] = entry;
    }

    /// Removes and returns the earliest event.
    #[inline(always)]
    pub(crate) fn pop(&mut self) -> Option<(Time, Event)> {
        let last = self.heap.pop()?;
        let heap = &mut self.heap[..];
        let Some(&top) = heap.first() else {
            return Some((last.time(), last.event));
        };
        // The hole left by the root sinks along the smallest children to a leaf.
        let mut hole = 0;
        loop {
            let first = ARITY * hole + 1;
            let child = if let Some(group) = heap.get(first..first + ARITY) {
                let k = |i: usize| (group[i].key(), first + i);
                let m = |i: usize| {
                    min_by_key(min_by_key(k(i), k(i + 1)), min_by_key(k(i + 2), k(i + 3)))
                };
                min_by_key(m(0), m(4)).1
            } else if let Some(group) = heap.get(first..) {
                let k = |i: usize| (group[i].key(), first + i);
                let mut best = (u128::MAX, usize::MAX);
                for i in 0..group.len() {
                    best = min_by_key(best, k(i));
                }
                if best.1 == usize::MAX {
                    break;
                }
                best.1
            } else {
                break;
            };
            heap[hole] = heap[child];
            hole = child;
        }
        Self::sift_up(heap, hole, last);
        Some((top.time(), top.event))
    }

    /// The time of the earliest event.
    #[inline]
    pub(crate) fn peek_time(&self) -> Option<Time> {
        self.heap.first().map(Entry::time)
    }

    /// True when nothing is pending.
    #[cfg(test)]
    pub(crate) fn is_empty(&self) -> bool {
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

    #[test]
    fn interleaved_pushes_and_pops_come_out_sorted() {
        // Pseudo-random times with many ties; pops interleaved with pushes, against a sorted
        // reference of (time, insertion order).
        let mut q = EventQueue::default();
        let mut reference = Vec::new();
        let mut state = 12345u64;
        let mut popped = Vec::new();
        let mut floor = 0;
        for i in 0..5000u32 {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let time = floor + (state >> 33) % 50;
            q.push(time, Event::IntervalStart { interval: i });
            reference.push((time, i));
            if state.is_multiple_of(3) {
                let (t, e) = q.pop().expect("not empty");
                floor = t;
                popped.push((t, e));
            }
        }
        while let Some(x) = q.pop() {
            popped.push(x);
        }
        assert!(q.is_empty());
        // Every pop is the earliest pending (time, seq): the popped sequence sorted by time
        // keeps insertion order within a time, and times never go back.
        assert!(popped.windows(2).all(|w| w[0].0 <= w[1].0));
        reference.sort();
        let ids = |v: &[(Time, Event)]| -> Vec<(Time, u32)> {
            v.iter()
                .map(|(t, e)| match e {
                    Event::IntervalStart { interval } => (*t, *interval),
                    _ => unreachable!(),
                })
                .collect()
        };
        assert_eq!(ids(&popped), reference);
    }
}
