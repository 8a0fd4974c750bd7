//! A customer's record from arrival to the end of their chat, and where the day files it: at
//! its chat's slot index, so a decision about a chat finds its customer without a map.

use crate::metrics::QueueTally;
use crate::routing::{ChatId, OfferSeq, Time};

use super::super::Observer;
use super::DayState;

/// No chat yet (bot stage) or no longer (released): the router never issues this id.
pub(super) const NO_CHAT: ChatId = ChatId {
    index: u32::MAX,
    generation: u32::MAX,
};

/// A customer from arrival to the end of their chat. Once queued, it lives at its chat's slot
/// index (the router's slots are dense and reused), so a chat finds its record without a map.
#[derive(Debug, Clone, Copy)]
pub(super) struct Record {
    /// The chat in the router, or [`NO_CHAT`].
    pub(super) chat: ChatId,
    pub(super) queue: u16,
    /// The tally of the customer's queue in the interval they arrived in (an index into
    /// [`ReplicationTallies::queues`]).
    pub(super) tally: u32,
    pub(super) counted: bool,
    pub(super) transferred: bool,
    pub(super) transfer_pending: bool,
    pub(super) responded: bool,
    pub(super) bot_resolves: bool,
    pub(super) arrived_at: Time,
    pub(super) queued_at: Time,
    pub(super) answered_at: Time,
    /// Work left in the current leg, microseconds at concurrency 1.
    pub(super) work: f64,
    /// Work content of the leg after a transfer.
    pub(super) work_after_transfer: f64,
    /// Patience and first-response delay, each valid only with its flag (flags rather than
    /// `Option`s keep the record within 128 bytes, which it is copied in as a whole).
    pub(super) patience: Time,
    pub(super) has_patience: bool,
    /// Whether the patience event is scheduled (see `DayState::arm_patience`).
    pub(super) patience_armed: bool,
    pub(super) first_response: Time,
    pub(super) has_first_response: bool,
    /// Time the work left was last brought up to date.
    pub(super) last_update: Time,
    pub(super) generation: u32,
    /// Estimated wait shown when the chat first queued, valid with its flag.
    pub(super) shown_ewt: Time,
    pub(super) has_shown_ewt: bool,
    pub(super) offer: OfferSeq,
    /// The agent holding the current offer.
    pub(super) offered_to: u32,
    pub(super) agent: u32,
    pub(super) csat_draw: f64,
}

/// An empty place among the records, and a customer's state before anything happened.
pub(super) const VACANT: Record = Record {
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
    patience_armed: false,
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

impl<O: Observer> DayState<'_, O> {
    /// The tally a record counts in.
    #[inline(always)]
    pub(super) fn tally(&mut self, index: u32) -> &mut QueueTally {
        &mut self.tallies.queues[index as usize]
    }

    /// The place of the record of `chat`, about to be filed (the vector grows to the router's
    /// high-water mark of chats).
    #[inline(always)]
    pub(super) fn record_slot(&mut self, chat: ChatId) -> &mut Record {
        let slot = chat.index();
        if slot >= self.records.len() {
            self.records.resize(slot + 1, VACANT);
        }
        &mut self.records[slot]
    }

    /// The record of a live chat (its slot index), or `None` for a chat that has ended.
    #[inline(always)]
    pub(super) fn record_of(&self, chat: ChatId) -> Option<u32> {
        let rec = self.records.get(chat.index())?;
        (rec.chat == chat).then_some(chat.index() as u32)
    }

    /// Forgets the record of an ended chat (the router has forgotten the chat).
    #[inline(always)]
    pub(super) fn free_record(&mut self, r: u32) {
        self.records[r as usize].chat = NO_CHAT;
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
