//! Tests of the indexed heap in both layouts: key order under updates and removals, peeking past
//! an item, a property test against a sorted reference, layout switches and ring compaction.

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

#[derive(Debug, Clone)]
enum Op {
    /// Push a free item with a key this far above the largest present (negative: below).
    Push(i8),
    /// Remove the item at this index of the present ones (sorted by item).
    Remove(u8),
    /// Remove the smallest entry, as routing does.
    PopFront,
    /// Re-key the item at this index of the present ones.
    Update(u8, u8),
}

fn op() -> impl proptest::strategy::Strategy<Value = Op> {
    use proptest::prelude::*;
    prop_oneof![
        6 => (-3i8..6).prop_map(Op::Push),
        1 => any::<u8>().prop_map(Op::Remove),
        4 => Just(Op::PopFront),
        2 => (any::<u8>(), 0u8..40).prop_map(|(i, k)| Op::Update(i, k)),
    ]
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig { cases: 500, ..Default::default() })]

    /// Against a sorted reference through both layouts and the switches between them:
    /// positions, order, minimum, lookups and counts after every step.
    #[test]
    fn matches_a_sorted_reference(ops in proptest::collection::vec(op(), 1..300)) {
        const ITEMS: u32 = 64;
        let mut heap = IndexedHeap::default();
        let mut pos = Pos(vec![NOT_IN_HEAP; ITEMS as usize]);
        let mut reference: std::collections::BTreeSet<(i32, u32)> = Default::default();
        for op in ops {
            let present: Vec<(i32, u32)> = {
                let mut v: Vec<_> = reference.iter().copied().collect();
                v.sort_by_key(|e| e.1);
                v
            };
            match op {
                Op::Push(step) => {
                    let Some(item) = (0..ITEMS).find(|i| pos.0[*i as usize] == NOT_IN_HEAP) else {
                        continue;
                    };
                    let top = reference.iter().next_back().map_or(0, |e| e.0);
                    let key = top + i32::from(step);
                    heap.push(key, item, &mut pos);
                    reference.insert((key, item));
                }
                Op::Remove(i) => {
                    if present.is_empty() { continue; }
                    let entry = present[i as usize % present.len()];
                    let removed = heap.remove_at(pos.0[entry.1 as usize], &mut pos);
                    proptest::prop_assert_eq!(removed, Some(entry));
                    reference.remove(&entry);
                }
                Op::PopFront => {
                    let Some(first) = reference.pop_first() else { continue };
                    proptest::prop_assert_eq!(heap.peek(), Some(first));
                    let removed = heap.remove_at(pos.0[first.1 as usize], &mut pos);
                    proptest::prop_assert_eq!(removed, Some(first));
                }
                Op::Update(i, key) => {
                    if present.is_empty() { continue; }
                    let entry = present[i as usize % present.len()];
                    let key = i32::from(key) - 10;
                    heap.update_at(pos.0[entry.1 as usize], key, &mut pos);
                    reference.remove(&entry);
                    reference.insert((key, entry.1));
                }
            }
            if let Err(e) = heap.audit(|i| pos.0[i as usize]) {
                return Err(proptest::test_runner::TestCaseError::fail(e));
            }
            proptest::prop_assert_eq!(heap.len(), reference.len());
            proptest::prop_assert_eq!(heap.peek(), reference.iter().next().copied());
            for &(key, item) in &reference {
                proptest::prop_assert_eq!(heap.get(pos.0[item as usize]), Some((key, item)));
                let below = reference.iter().filter(|e| e.0 < key).count();
                proptest::prop_assert_eq!(heap.count_below(&key), below);
            }
            let second = reference.iter().nth(1).copied();
            let first_item = reference.iter().next().map(|e| e.1);
            proptest::prop_assert_eq!(
                heap.peek_skipping(|_, item| Some(item) == first_item),
                second
            );
            for item in 0..ITEMS {
                let here = reference.iter().any(|e| e.1 == item);
                proptest::prop_assert_eq!(pos.0[item as usize] != NOT_IN_HEAP, here);
            }
        }
    }
}

/// In key order the ring takes everything; one entry out of order makes a heap, and the
/// queue goes back to the ring once it has drained.
#[test]
fn layouts_switch_as_the_pattern_changes() {
    let mut heap = IndexedHeap::default();
    let mut pos = Pos(vec![NOT_IN_HEAP; 8]);
    for item in 0..4u32 {
        heap.push(10 + item, item, &mut pos);
    }
    assert!(heap.in_ring);
    heap.push(5, 4, &mut pos);
    assert!(!heap.in_ring);
    heap.audit(|i| pos.0[i as usize]).unwrap();
    while let Some((_, item)) = heap.peek() {
        heap.remove_at(pos.0[item as usize], &mut pos);
        heap.audit(|i| pos.0[i as usize]).unwrap();
    }
    assert!(heap.in_ring);
}

/// A long-lived FIFO: the ring drops its dead prefix as it goes, and positions stay valid.
#[test]
fn ring_compacts_under_a_steady_fifo() {
    let mut heap = IndexedHeap::default();
    let mut pos = Pos(vec![NOT_IN_HEAP; 256]);
    let mut next = 0u32;
    for _ in 0..100 {
        heap.push(next, next % 256, &mut pos);
        next += 1;
    }
    for round in 0..2000u32 {
        let (key, item) = heap.peek().unwrap();
        assert_eq!(key, round);
        assert_eq!(
            heap.remove_at(pos.0[item as usize], &mut pos),
            Some((key, item))
        );
        heap.push(next, next % 256, &mut pos);
        next += 1;
        // An entry in the middle is found through its position.
        let middle = (round + 50) % 256;
        assert_eq!(heap.get(pos.0[middle as usize]), Some((round + 50, middle)));
    }
    assert!(heap.in_ring);
    assert!(
        heap.ring.start < 2 * heap.len(),
        "dead prefix kept: {}",
        heap.ring.start
    );
    heap.audit(|i| pos.0[i as usize]).unwrap();
}
