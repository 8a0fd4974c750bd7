//! Coverage of the fit's confidence intervals on histories from chatcap's own simulator: many
//! seeds of the eight-week round trip (`fit_roundtrip.rs`), each interval checked against the
//! truth, and the share that covers it compared with the 95% the intervals state. One lucky
//! seed says nothing about an interval; a hundred say whether it is honest.

use serde_json::Value;

use super::fit_roundtrip::{TRUTHS, Truth, round_trip};

/// The intervals of one fit and whether each holds its true value: handle mean, the factors at
/// levels 2 and 3, patience mean.
fn hits(t: &Truth, json: &Value) -> [bool; 4] {
    let covers = |v: &Value, low: &str, high: &str, x: f64| {
        let (lo, hi) = (v[low].as_f64().unwrap(), v[high].as_f64().unwrap());
        lo <= x && x <= hi
    };
    let q = &json["queues"]["support"];
    let levels = &json["groups"][0]["slowdown"];
    [
        covers(
            &q["handle_time"],
            "mean_ci_low",
            "mean_ci_high",
            t.handle_mean,
        ),
        covers(&levels[1], "ci_low", "ci_high", t.factors[1]),
        covers(&levels[2], "ci_low", "ci_high", t.factors[2]),
        covers(
            &q["patience"],
            "mean_ci_low",
            "mean_ci_high",
            t.patience_mean,
        ),
    ]
}

/// The round trip's two truths, 100 seeds each: every one of the four intervals covers its
/// truth 89 to 100 times (the 99% binomial band of 95% in 100).
#[test]
fn round_trip_intervals_cover_the_truth_at_their_stated_rate() {
    const NAMES: [&str; 4] = ["handle mean", "factor 2", "factor 3", "patience mean"];
    for truth in TRUTHS {
        let mut covered = [0u32; 4];
        for seed in 0..100 {
            let dir = tempfile::tempdir().unwrap();
            let t = Truth {
                seed: 10_000 + seed,
                ..truth
            };
            let (json, _) = round_trip(dir.path(), &t);
            for (c, hit) in covered.iter_mut().zip(hits(&t, &json)) {
                *c += hit as u32;
            }
        }
        eprintln!("{}: {:?} of 100", truth.handle, covered);
        for (name, c) in NAMES.iter().zip(covered) {
            assert!(
                (89..=100).contains(&c),
                "{}: {name} covered {c} of 100",
                truth.handle
            );
        }
    }
}
