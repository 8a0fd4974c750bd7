//! Estimated wait: the per-queue moving averages behind the wait shown to a customer, and a
//! queued chat's position.

use super::{Router, Time, ewma};

impl Router {
    #[inline(always)]
    pub(super) fn note_answer(&mut self, now: Time, q: usize) {
        let queue = &mut self.queues[q];
        let gap = now.saturating_sub(queue.gap_anchor);
        queue.answer_gap = Some(ewma(queue.answer_gap, gap));
        queue.gap_anchor = queue.gap_anchor.max(now);
    }

    #[inline(always)]
    pub(super) fn estimate(&self, now: Time, q: usize, position: u32) -> Time {
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

    /// 1-based place of queued chat `c` in its queue, by routing order.
    #[inline]
    pub(super) fn position_of(&self, c: usize) -> u32 {
        let chat = &self.chats[c];
        let Some((key, _)) = self.queues[chat.queue as usize].waiting.get(chat.heap_pos) else {
            return 0;
        };
        let ahead = self.queues[chat.queue as usize].waiting.count_below(&key);
        u32::try_from(ahead + 1).unwrap_or(u32::MAX)
    }
}
