//! The early verdict's confidences.

use super::*;

/// Four replications of an interval where every queue meets its targets with room to spare
/// and group 0's occupancy is `occupancy[k]` in replication `k` (the other groups are at
/// half their limit).
fn replications(t: &IntervalTargets, occupancy: &[f64]) -> Vec<IntervalCounts> {
    let met = QueueCounts {
        offered: 100,
        answered: 100,
        answered_within: 100,
        abandoned: 0,
        unresolved: 0,
        wait_sum_answered: 100.0,
    };
    occupancy
        .iter()
        .map(|&busy| IntervalCounts {
            queues: vec![met; t.queues.len()],
            groups: (0..t.groups.len())
                .map(|g| GroupCounts {
                    staffed_slot_secs: 1000.0,
                    busy_slot_secs: 1000.0 * if g == 0 { busy } else { 0.4 },
                })
                .collect(),
        })
        .collect()
}

#[test]
fn a_miss_settles_at_the_confidence_asked_and_a_pass_always_at_99_percent() {
    let profile = crate::profile::default_profile().unwrap();
    let t = IntervalTargets::of(&profile);
    let limit = t.groups[0].expect("the default profile limits occupancy");
    let judged = |occupancy: &[f64], miss: f64| {
        let reps = replications(&t, occupancy);
        judge_early(&reps, None, 20, &t, (false, miss)).map(|v| v.feasible)
    };
    // Three points above the limit on average, two apart from one replication to the next:
    // a likely miss, not yet a certain one.
    let above = [limit + 0.01, limit + 0.05, limit + 0.02, limit + 0.04];
    assert_eq!(judged(&above, MISS_CONFIDENCE), None);
    assert_eq!(judged(&above, CHEAP_MISS_CONFIDENCE), Some(false));
    // The same distance below the limit: a pass is never settled on less than 99%.
    let below = above.map(|o| 2.0 * limit - o);
    assert_eq!(judged(&below, MISS_CONFIDENCE), None);
    assert_eq!(judged(&below, CHEAP_MISS_CONFIDENCE), None);
    // Far from the limit both settle at once.
    assert_eq!(judged(&[0.5; 4], MISS_CONFIDENCE), Some(true));
    let far_above = [limit + 0.1; 4].map(|o| o.min(1.0));
    assert_eq!(judged(&far_above, MISS_CONFIDENCE), Some(false));
}
