//! An indexed binary min-heap over a `Vec`: every item knows its position (kept by the caller
//! through [`Positions`]), so an item can be removed or re-keyed in O(log n) without a search.
//! Unlike a `BTreeSet` it allocates nothing once the vector has reached its high-water mark,
//! which keeps routing allocation-free in steady state.

/// Marks an item as not in any heap.
pub(crate) const NOT_IN_HEAP: u32 = u32::MAX;

/// Where the caller records each item's position in the heap.
pub(crate) trait Positions {
    /// Item `item` now sits at `pos` (or [`NOT_IN_HEAP`]).
    fn set(&mut self, item: u32, pos: u32);
}

/// A min-heap of `(key, item)` pairs, ordered by key, then item.
#[derive(Debug, Clone)]
pub(crate) struct IndexedHeap<K> {
    entries: Vec<(K, u32)>,
}

impl<K> Default for IndexedHeap<K> {
    fn default() -> Self {
        IndexedHeap {
            entries: Vec::new(),
        }
    }
}

impl<K: Ord + Copy> IndexedHeap<K> {
    /// Number of items.
    #[inline(always)]
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    /// All entries, in heap order (not sorted).
    pub(crate) fn entries(&self) -> &[(K, u32)] {
        &self.entries
    }

    /// The smallest entry.
    #[inline(always)]
    pub(crate) fn peek(&self) -> Option<(K, u32)> {
        self.entries.first().copied()
    }

    /// The smallest entry for which `skip(key, item)` is false, assuming at most one entry is
    /// skipped: if the root is skipped, the answer is the smaller of its children.
    #[inline(always)]
    pub(crate) fn peek_skipping(&self, skip: impl Fn(&K, u32) -> bool) -> Option<(K, u32)> {
        let root = self.peek()?;
        if !skip(&root.0, root.1) {
            return Some(root);
        }
        match (self.entries.get(1), self.entries.get(2)) {
            (Some(a), Some(b)) => Some(if b < a { *b } else { *a }),
            (Some(a), None) => Some(*a),
            _ => None,
        }
    }

    /// The entry at `pos`.
    #[inline(always)]
    pub(crate) fn get(&self, pos: u32) -> Option<(K, u32)> {
        self.entries.get(pos as usize).copied()
    }

    /// Inserts `item` with `key`.
    #[inline(always)]
    pub(crate) fn push(&mut self, key: K, item: u32, positions: &mut impl Positions) {
        let pos = self.entries.len();
        self.entries.push((key, item));
        self.sift_up_from(pos, (key, item), positions);
    }

    /// Removes the entry at `pos`, returning it.
    #[inline(always)]
    pub(crate) fn remove_at(
        &mut self,
        pos: u32,
        positions: &mut impl Positions,
    ) -> Option<(K, u32)> {
        let pos = pos as usize;
        if pos >= self.entries.len() {
            return None;
        }
        let last = self.entries.pop()?;
        if pos == self.entries.len() {
            positions.set(last.1, NOT_IN_HEAP);
            return Some(last);
        }
        // The last entry fills the hole, moving up or down from there.
        let removed = self.entries[pos];
        positions.set(removed.1, NOT_IN_HEAP);
        if pos > 0 && last < self.entries[(pos - 1) / 2] {
            self.sift_up_from(pos, last, positions);
        } else {
            self.sift_down_from(pos, last, positions);
        }
        Some(removed)
    }

    /// Gives the entry at `pos` a new key and restores the heap order.
    #[inline(always)]
    pub(crate) fn update_at(&mut self, pos: u32, key: K, positions: &mut impl Positions) {
        let pos = pos as usize;
        let Some(&old) = self.entries.get(pos) else {
            return;
        };
        let entry = (key, old.1);
        if entry < old {
            self.sift_up_from(pos, entry, positions);
        } else if old < entry {
            self.sift_down_from(pos, entry, positions);
        }
    }

    /// Places `entry` at the hole `pos` or above it, moving larger parents down.
    #[inline(always)]
    fn sift_up_from(&mut self, mut pos: usize, entry: (K, u32), positions: &mut impl Positions) {
        while pos > 0 {
            let parent = (pos - 1) / 2;
            let above = self.entries[parent];
            if entry < above {
                self.entries[pos] = above;
                positions.set(above.1, pos as u32);
                pos = parent;
            } else {
                break;
            }
        }
        self.entries[pos] = entry;
        positions.set(entry.1, pos as u32);
    }

    /// Places `entry` at the hole `pos` or below it, moving smaller children up.
    #[inline(always)]
    fn sift_down_from(&mut self, mut pos: usize, entry: (K, u32), positions: &mut impl Positions) {
        let len = self.entries.len();
        loop {
            let left = 2 * pos + 1;
            if left >= len {
                break;
            }
            let right = left + 1;
            let child = if right < len && self.entries[right] < self.entries[left] {
                right
            } else {
                left
            };
            let below = self.entries[child];
            if below < entry {
                self.entries[pos] = below;
                positions.set(below.1, pos as u32);
                pos = child;
            } else {
                break;
            }
        }
        self.entries[pos] = entry;
        positions.set(entry.1, pos as u32);
    }

    /// Checks the heap order and that `position_of` agrees with every entry's place.
    pub(crate) fn audit(&self, position_of: impl Fn(u32) -> u32) -> Result<(), String> {
        for (pos, (key, item)) in self.entries.iter().enumerate() {
            if position_of(*item) != pos as u32 {
                return Err(format!(
                    "heap item {item} at {pos} records another position"
                ));
            }
            if pos > 0 && (*key, *item) < self.entries[(pos - 1) / 2] {
                return Err(format!("heap order broken at position {pos}"));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Pos(Vec<u32>);
    impl Positions for Pos {
        fn set(&mut self, item: u32, pos: u32) {
            self.0[item as usize] = pos;
        }
    }

    #[test]
    fn pops_in_key_order_with_updates_and_removals() {
        let mut heap = IndexedHeap::default();
        let mut pos = Pos(vec![NOT_IN_HEAP; 64]);
        let keys: Vec<u32> = (0..64u32).map(|i| (i * 37) % 64).collect();
        for (item, key) in keys.iter().enumerate() {
            heap.push(*key, item as u32, &mut pos);
        }
        heap.audit(|i| pos.0[i as usize]).unwrap();
        // Re-key item 5 to the smallest and remove item 9 from the middle.
        heap.update_at(pos.0[5], 0, &mut pos);
        let p9 = pos.0[9];
        assert_eq!(heap.remove_at(p9, &mut pos).map(|e| e.1), Some(9));
        heap.audit(|i| pos.0[i as usize]).unwrap();
        let mut popped = Vec::new();
        while let Some((key, item)) = heap.peek() {
            popped.push((key, item));
            heap.remove_at(0, &mut pos);
        }
        assert_eq!(popped.len(), 63);
        assert!(popped.windows(2).all(|w| w[0].0 <= w[1].0));
        assert_eq!(popped[0].0, 0);
        assert!(pos.0.iter().all(|p| *p == NOT_IN_HEAP));
    }

    #[test]
    fn peek_skipping_returns_the_runner_up() {
        let mut heap = IndexedHeap::default();
        let mut pos = Pos(vec![NOT_IN_HEAP; 8]);
        for (item, key) in [(0u32, 5u32), (1, 1), (2, 3), (3, 2)] {
            heap.push(key, item, &mut pos);
        }
        assert_eq!(heap.peek_skipping(|_, item| item == 1), Some((2, 3)));
        assert_eq!(heap.peek_skipping(|_, item| item == 0), Some((1, 1)));
    }
}
