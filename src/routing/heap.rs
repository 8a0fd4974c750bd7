//! An indexed min-priority queue of `(key, item)` pairs: every item knows its position (kept by
//! the caller through [`Positions`]), so an item can be removed or re-keyed without a search.
//!
//! It keeps one of two layouts. While items come in key order and leave from the front, which is
//! how a FIFO queue or a pool of agents ordered by idle time behaves, the entries sit sorted in a
//! ring buffer: in at the back and out at the front in O(1), with no comparisons beyond one. The
//! first step out of that pattern (a chat of higher priority, a removal from the middle, an agent
//! re-keyed past a neighbour) turns the ring into a binary heap, which a sorted array already is,
//! in one O(n) pass that sets every position; the queue goes back to the ring when at most one
//! entry is left. Both layouts allocate nothing once their buffers have reached their high-water
//! marks, which keeps routing allocation-free in steady state.

/// Marks an item as not in any heap.
pub(crate) const NOT_IN_HEAP: u32 = u32::MAX;

/// Ring positions are absolute indices modulo 2^31, so they never meet [`NOT_IN_HEAP`].
const RING_MASK: u32 = (1 << 31) - 1;

/// Where the caller records each item's position in the heap.
pub(crate) trait Positions {
    /// Item `item` now sits at `pos` (or [`NOT_IN_HEAP`]).
    fn set(&mut self, item: u32, pos: u32);
}

/// The ring layout's buffer: a vector whose first `start` entries have left. Leaving from the
/// front moves `start`; the dead prefix is dropped when it outgrows the live entries (each entry
/// moves at most once per departure before it, so O(1) amortized), or at once when the run
/// empties.
#[derive(Debug, Clone)]
struct Run<K> {
    entries: Vec<(K, u32)>,
    start: usize,
}

impl<K> Default for Run<K> {
    fn default() -> Self {
        Run {
            entries: Vec::new(),
            start: 0,
        }
    }
}

impl<K: Copy> Run<K> {
    #[inline(always)]
    fn live(&self) -> &[(K, u32)] {
        self.entries.get(self.start..).unwrap_or_default()
    }

    #[inline(always)]
    fn live_mut(&mut self) -> &mut [(K, u32)] {
        self.entries.get_mut(self.start..).unwrap_or_default()
    }

    #[inline(always)]
    fn len(&self) -> usize {
        self.entries.len() - self.start
    }

    #[inline(always)]
    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    #[inline(always)]
    fn front(&self) -> Option<&(K, u32)> {
        self.entries.get(self.start)
    }

    #[inline(always)]
    fn get(&self, offset: usize) -> Option<&(K, u32)> {
        self.entries.get(self.start + offset)
    }

    #[inline(always)]
    fn back(&self) -> Option<&(K, u32)> {
        self.live().last()
    }

    #[inline(always)]
    fn push_back(&mut self, entry: (K, u32)) {
        self.entries.push(entry);
    }

    #[inline(always)]
    fn pop_front(&mut self) -> Option<(K, u32)> {
        let front = *self.front()?;
        self.start += 1;
        if self.start == self.entries.len() {
            self.clear();
        } else if self.start >= 32 && self.start >= self.len() {
            self.entries.drain(..self.start);
            self.start = 0;
        }
        Some(front)
    }

    #[inline(always)]
    fn pop_back(&mut self) -> Option<(K, u32)> {
        if self.is_empty() {
            return None;
        }
        self.entries.pop()
    }

    #[inline(always)]
    fn clear(&mut self) {
        self.entries.clear();
        self.start = 0;
    }
}

/// A min-queue of `(key, item)` pairs, ordered by key, then item.
#[derive(Debug, Clone)]
pub(crate) struct IndexedHeap<K> {
    /// Heap layout: a binary min-heap (empty in the ring layout).
    heap: Vec<(K, u32)>,
    /// Ring layout: the entries in ascending order (empty in the heap layout).
    ring: Run<K>,
    /// Position of the ring's front.
    head: u32,
    in_ring: bool,
}

impl<K> Default for IndexedHeap<K> {
    fn default() -> Self {
        IndexedHeap {
            heap: Vec::new(),
            ring: Run::default(),
            head: 0,
            in_ring: true,
        }
    }
}

impl<K: Ord + Copy> IndexedHeap<K> {
    /// Number of items.
    #[inline(always)]
    pub(crate) fn len(&self) -> usize {
        if self.in_ring {
            self.ring.len()
        } else {
            self.heap.len()
        }
    }

    /// All entries, in no particular order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &(K, u32)> {
        self.ring.live().iter().chain(self.heap.iter())
    }

    /// Number of entries with a key below `key`: a binary search in the ring, a scan of the heap.
    pub(crate) fn count_below(&self, key: &K) -> usize {
        if self.in_ring {
            self.ring.live().partition_point(|(k, _)| k < key)
        } else {
            self.heap.iter().filter(|(k, _)| k < key).count()
        }
    }

    /// The smallest entry.
    #[inline(always)]
    pub(crate) fn peek(&self) -> Option<(K, u32)> {
        if self.in_ring {
            self.ring.front().copied()
        } else {
            self.heap.first().copied()
        }
    }

    /// The smallest entry for which `skip(key, item)` is false, assuming at most one entry is
    /// skipped: if the smallest is skipped, the answer is the second smallest (in the heap, the
    /// smaller of the root's children).
    #[inline(always)]
    pub(crate) fn peek_skipping(&self, skip: impl Fn(&K, u32) -> bool) -> Option<(K, u32)> {
        let root = self.peek()?;
        if !skip(&root.0, root.1) {
            return Some(root);
        }
        if self.in_ring {
            return self.ring.get(1).copied();
        }
        match (self.heap.get(1), self.heap.get(2)) {
            (Some(a), Some(b)) => Some(if b < a { *b } else { *a }),
            (Some(a), None) => Some(*a),
            _ => None,
        }
    }

    /// The ring offset of position `pos`, if it names an entry of the ring.
    #[inline(always)]
    fn ring_offset(&self, pos: u32) -> Option<usize> {
        if pos > RING_MASK {
            return None;
        }
        let offset = (pos.wrapping_sub(self.head) & RING_MASK) as usize;
        (offset < self.ring.len()).then_some(offset)
    }

    /// The position of ring offset `offset`.
    #[inline(always)]
    fn ring_pos(&self, offset: usize) -> u32 {
        self.head.wrapping_add(offset as u32) & RING_MASK
    }

    /// The entry at `pos`.
    #[inline(always)]
    pub(crate) fn get(&self, pos: u32) -> Option<(K, u32)> {
        if self.in_ring {
            self.ring_offset(pos).map(|offset| self.ring.live()[offset])
        } else {
            self.heap.get(pos as usize).copied()
        }
    }

    /// Inserts `item` with `key`.
    #[inline(always)]
    pub(crate) fn push(&mut self, key: K, item: u32, positions: &mut impl Positions) {
        let entry = (key, item);
        if self.in_ring {
            if self.ring.back().is_none_or(|back| *back <= entry) {
                let pos = self.ring_pos(self.ring.len());
                self.ring.push_back(entry);
                positions.set(item, pos);
                return;
            }
            self.leave_ring(positions);
        }
        let pos = self.heap.len();
        self.heap.push(entry);
        self.sift_up_from(pos, entry, positions);
    }

    /// Removes the entry at `pos`, returning it.
    #[inline(always)]
    pub(crate) fn remove_at(
        &mut self,
        pos: u32,
        positions: &mut impl Positions,
    ) -> Option<(K, u32)> {
        let pos = if self.in_ring {
            let offset = self.ring_offset(pos)?;
            let end = if offset == 0 {
                let front = self.ring.pop_front();
                self.head = self.ring_pos(1);
                front
            } else if offset + 1 == self.ring.len() {
                self.ring.pop_back()
            } else {
                // From the middle: the sorted ring becomes a heap, its offsets the positions.
                self.leave_ring(positions);
                None
            };
            if let Some(entry) = end {
                positions.set(entry.1, NOT_IN_HEAP);
                return Some(entry);
            }
            offset
        } else {
            pos as usize
        };
        let removed = self.remove_from_heap(pos, positions);
        if self.heap.len() <= 1 {
            self.enter_ring(positions);
        }
        removed
    }

    /// [`Self::remove_at`] in the heap layout.
    #[inline(always)]
    fn remove_from_heap(&mut self, pos: usize, positions: &mut impl Positions) -> Option<(K, u32)> {
        if pos >= self.heap.len() {
            return None;
        }
        let last = self.heap.pop()?;
        if pos == self.heap.len() {
            positions.set(last.1, NOT_IN_HEAP);
            return Some(last);
        }
        // The last entry fills the hole, moving up or down from there.
        let removed = self.heap[pos];
        positions.set(removed.1, NOT_IN_HEAP);
        if pos > 0 && last < self.heap[(pos - 1) / 2] {
            self.sift_up_from(pos, last, positions);
        } else {
            self.sift_down_from(pos, last, positions);
        }
        Some(removed)
    }

    /// Gives the entry at `pos` a new key and restores the order.
    #[inline(always)]
    pub(crate) fn update_at(&mut self, pos: u32, key: K, positions: &mut impl Positions) {
        let pos = if self.in_ring {
            let Some(offset) = self.ring_offset(pos) else {
                return;
            };
            let live = self.ring.live_mut();
            let entry = (key, live[offset].1);
            let after_previous = offset == 0 || live[offset - 1] <= entry;
            let before_next = live.get(offset + 1).is_none_or(|next| entry <= *next);
            if after_previous && before_next {
                live[offset] = entry;
                return;
            }
            self.leave_ring(positions);
            offset
        } else {
            pos as usize
        };
        let Some(&old) = self.heap.get(pos) else {
            return;
        };
        let entry = (key, old.1);
        if entry < old {
            self.sift_up_from(pos, entry, positions);
        } else if old < entry {
            self.sift_down_from(pos, entry, positions);
        }
    }

    /// Turns the ring into a heap: a sorted array is one, so the entries move over in order and
    /// each one's position becomes its index.
    #[cold]
    fn leave_ring(&mut self, positions: &mut impl Positions) {
        debug_assert!(self.heap.is_empty());
        self.heap.extend_from_slice(self.ring.live());
        self.ring.clear();
        for (i, &(_, item)) in self.heap.iter().enumerate() {
            positions.set(item, i as u32);
        }
        self.head = 0;
        self.in_ring = false;
    }

    /// Turns a heap of at most one entry back into the ring.
    #[inline(always)]
    fn enter_ring(&mut self, positions: &mut impl Positions) {
        debug_assert!(self.heap.len() <= 1 && self.ring.is_empty());
        self.head = 0;
        if let Some(entry) = self.heap.pop() {
            self.ring.push_back(entry);
            positions.set(entry.1, 0);
        }
        self.in_ring = true;
    }

    /// Places `entry` at the hole `pos` or above it, moving larger parents down.
    #[inline(always)]
    fn sift_up_from(&mut self, mut pos: usize, entry: (K, u32), positions: &mut impl Positions) {
        while pos > 0 {
            let parent = (pos - 1) / 2;
            let above = self.heap[parent];
            if entry < above {
                self.heap[pos] = above;
                positions.set(above.1, pos as u32);
                pos = parent;
            } else {
                break;
            }
        }
        self.heap[pos] = entry;
        positions.set(entry.1, pos as u32);
    }

    /// Places `entry` at the hole `pos` or below it, moving smaller children up.
    #[inline(always)]
    fn sift_down_from(&mut self, mut pos: usize, entry: (K, u32), positions: &mut impl Positions) {
        let len = self.heap.len();
        loop {
            let left = 2 * pos + 1;
            if left >= len {
                break;
            }
            let right = left + 1;
            let child = if right < len && self.heap[right] < self.heap[left] {
                right
            } else {
                left
            };
            let below = self.heap[child];
            if below < entry {
                self.heap[pos] = below;
                positions.set(below.1, pos as u32);
                pos = child;
            } else {
                break;
            }
        }
        self.heap[pos] = entry;
        positions.set(entry.1, pos as u32);
    }

    /// Checks the order of the layout in use and that `position_of` agrees with every entry's
    /// place.
    pub(crate) fn audit(&self, position_of: impl Fn(u32) -> u32) -> Result<(), String> {
        if self.in_ring {
            if !self.heap.is_empty() {
                return Err("ring layout with entries in the heap".into());
            }
            for (offset, entry) in self.ring.live().iter().enumerate() {
                if position_of(entry.1) != self.ring_pos(offset) {
                    return Err(format!(
                        "ring item {} at {offset} records another position",
                        entry.1
                    ));
                }
                if offset > 0 && *entry < self.ring.live()[offset - 1] {
                    return Err(format!("ring order broken at offset {offset}"));
                }
            }
            return Ok(());
        }
        if !self.ring.is_empty() {
            return Err("heap layout with entries in the ring".into());
        }
        for (pos, (key, item)) in self.heap.iter().enumerate() {
            if position_of(*item) != pos as u32 {
                return Err(format!(
                    "heap item {item} at {pos} records another position"
                ));
            }
            if pos > 0 && (*key, *item) < self.heap[(pos - 1) / 2] {
                return Err(format!("heap order broken at position {pos}"));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
