//! Cheap forks of a replication deep into a long horizon.
//!
//! Cloning an engine copies its tallies of every interval so far, histograms included: a week
//! of a large center is megabytes per replication, which a planner forking the replications at
//! every interval would copy again and again. The tallies of an interval no live customer
//! arrived in and no group's open level belongs to can no longer change, so a fork leaves them
//! out, and restoring the fork later takes them back from the engine it was made of.

use super::{Engine, NO_CHAT, Observer, ReplicationTallies};

impl<O: Observer + Clone> Engine<'_, O> {
    /// The first interval whose tallies can still change: that of the earliest customer still
    /// in the system and of each group's open level, at most `upto`.
    fn open_from(&self, upto: usize) -> usize {
        let nq = self.day.sc.queues.len().max(1);
        let mut free = vec![false; self.bot_stage.len()];
        for &slot in &self.free_bot_stage {
            free[slot as usize] = true;
        }
        let in_bot = self.bot_stage.iter().zip(&free).filter(|(_, f)| !**f);
        let live = self.day.records.iter().filter(|r| r.chat != NO_CHAT);
        let customers = live
            .chain(in_bot.map(|(r, _)| r))
            .map(|r| r.tally as usize / nq);
        let levels = self.day.levels.iter().map(|l| l.interval);
        customers.chain(levels).fold(upto, usize::min)
    }

    /// A copy of the engine at this instant, as [`Clone`] makes, that carries only the tallies
    /// that can still change and those from interval `keep_from` on; the others read as empty
    /// until [`Engine::restore`] takes them back. Far into a horizon it costs a fraction of a
    /// clone.
    pub fn fork(&mut self, keep_from: usize) -> Self {
        let from = self.open_from(keep_from);
        let (nq, ng) = (self.day.sc.queues.len(), self.day.sc.groups.len());
        let whole = std::mem::take(&mut self.day.tallies);
        let mut fork = self.clone();
        fork.day.tallies = ReplicationTallies {
            queues: emptied_before(&whole.queues, from * nq),
            agents: emptied_before(&whole.agents, from * ng),
            events: whole.events,
            chats: whole.chats,
        };
        fork.tallies_from = from.max(self.tallies_from);
        self.day.tallies = whole;
        fork
    }

    /// Becomes `fork` again, a fork made earlier of this engine ([`Engine::fork`]), with the
    /// tallies the fork left out taken from this engine: they have not changed since.
    pub fn restore(&mut self, fork: &Self) {
        let (nq, ng) = (self.day.sc.queues.len(), self.day.sc.groups.len());
        let mut whole = std::mem::take(&mut self.day.tallies);
        let own = self.tallies_from;
        *self = fork.clone();
        let from = fork.tallies_from;
        let settled_queues = (from * nq).min(whole.queues.len());
        let settled_agents = (from * ng).min(whole.agents.len());
        let tallies = &mut self.day.tallies;
        tallies.queues[..settled_queues].swap_with_slice(&mut whole.queues[..settled_queues]);
        tallies.agents[..settled_agents].swap_with_slice(&mut whole.agents[..settled_agents]);
        self.tallies_from = own;
    }
}

/// A copy of `tallies` with its first `at` entries left empty.
fn emptied_before<T: Clone + Default>(tallies: &[T], at: usize) -> Vec<T> {
    let at = at.min(tallies.len());
    let mut out = Vec::with_capacity(tallies.len());
    out.resize_with(at, T::default);
    out.extend_from_slice(&tallies[at..]);
    out
}
