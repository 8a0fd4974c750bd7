//! The load test's KPIs against the server's own `/v1/stats`, queue by queue and figure by
//! figure. Both read the same chats off the same server clock and tally them with the same
//! ledger (`QueueTally`), so they must agree: exactly where both count events, within the
//! rounding of the chat views' timestamps where a figure is built from times.

use chatcap::Cli;
use clap::Parser;
use serde_json::Value;

use super::{GOOSE, PROFILE, TOKEN, count, num, start};

/// Counts of chat events, and shares computed from those counts alone: both sides tally the
/// same events, so these are equal to the last bit.
const COUNTED: [&str; 12] = [
    "arrivals",
    "offered",
    "answered",
    "abandoned",
    "rejected",
    "service_level",
    "service_level_answered",
    "abandon_rate",
    "prob_wait",
    "fcr",
    "transfer_rate",
    "bot_resolved",
];

/// Means of spans between two server timestamps, profile seconds. The server tallies a span
/// from its microsecond clock; the load test reads the chat view's `*_at` as Unix seconds in
/// an f64 (about 0.24 µs apart at today's epoch) and multiplies by the time scale 60, so a
/// span may differ by about 1e-5 profile seconds. 1e-3 s allows that a hundredfold and is
/// still far below any figure here (seconds to minutes).
const TIMED: [&str; 6] = [
    "asa_secs",
    "mean_wait_secs",
    "frt_secs",
    "aht_secs",
    "art_secs",
    "ewt_mae_secs",
];
const TIME_TOLERANCE_SECS: f64 = 1e-3;

/// Percentiles from HDR histograms of 1% precision: a wait that the timestamp rounding moves
/// across a bucket edge moves a percentile by one bucket, so they agree within 2%.
const PERCENTILES: [&str; 3] = ["wait_p50_secs", "wait_p90_secs", "frt_p90_secs"];

/// Too few agents for the load and a short support queue: chats are answered, abandoned
/// (patience), rejected (support full) and transferred (to sales, whose queue has no cap), so
/// every figure compared has events behind it.
fn overloaded_profile() -> String {
    let mut profile = PROFILE.to_string();
    for (from, to) in [
        (
            "transfer = { share = 0.1, to = \"sales\" }",
            "transfer = { share = 0.4, to = \"sales\" }\nmax_queue = 3",
        ),
        ("replications = 30", "replications = 2"),
    ] {
        assert!(profile.contains(from), "the e2e profile lost {from:?}");
        profile = profile.replace(from, to);
    }
    profile
}

#[test]
fn loadtest_and_server_agree_on_every_kpi_queue_by_queue() {
    let _goose = GOOSE.lock().unwrap_or_else(|p| p.into_inner());
    let dir = tempfile::tempdir().expect("temp dir");
    let profile_path = dir.path().join("overloaded.toml");
    std::fs::write(&profile_path, overloaded_profile()).expect("write profile");
    let summary_path = dir.path().join("summary.json");
    let server = start(&profile_path, 60.0);
    let cli = Cli::parse_from([
        "chatcap",
        "--format",
        "json",
        "--out",
        summary_path.to_str().expect("utf-8 path"),
        "--quiet",
        "loadtest",
        "--host",
        &server.base,
        "--profile",
        profile_path.to_str().expect("utf-8 path"),
        "--duration",
        "8s",
        "--time-scale",
        "60",
        "--agents",
        "8",
        "--agent-token",
        TOKEN,
        "--drain",
        "12s",
    ]);
    chatcap::run(cli, &mut Vec::new()).expect("the load test runs");
    let stats = server.stats();
    server.stop();
    let summary: Value =
        serde_json::from_slice(&std::fs::read(&summary_path).expect("summary written"))
            .expect("summary is JSON");
    assert_eq!(summary["run"]["ended_by"], "drained");
    assert_eq!(summary["chats"]["conserved"], true, "{}", summary["chats"]);

    for queue in ["sales", "support"] {
        let ours = &summary["measured"]["queues"][queue];
        let theirs = &stats["queues"][queue];
        for key in COUNTED {
            assert_eq!(
                num(&ours[key]),
                num(&theirs[key]),
                "{queue} {key}: load test vs server"
            );
        }
        for key in TIMED {
            let (a, b) = (num(&ours[key]), num(&theirs[key]));
            assert!(
                (a - b).abs() <= TIME_TOLERANCE_SECS,
                "{queue} {key}: load test {a} vs server {b}"
            );
        }
        for key in PERCENTILES {
            let (a, b) = (num(&ours[key]), num(&theirs[key]));
            assert!(
                (a - b).abs() <= 0.02 * b.abs() + TIME_TOLERANCE_SECS,
                "{queue} {key}: load test {a} vs server {b}"
            );
        }
        // The load test's agents close without a score: no CSAT on either side.
        assert!(theirs["csat"].is_null(), "{queue} csat {}", theirs["csat"]);
        assert!(ours.get("csat").is_none(), "{queue}: {ours}");
    }

    // Every kind of event compared happened: the agreement is not one of zeros.
    let total = |key: &str| {
        ["sales", "support"]
            .iter()
            .map(|q| num(&stats["queues"][*q][key]))
            .sum::<f64>()
    };
    for key in ["answered", "abandoned", "rejected"] {
        assert!(total(key) > 0.0, "no chat {key}");
    }
    assert!(num(&stats["queues"]["support"]["transfer_rate"]) > 0.0);
    assert!(count(&summary["offers"]["transfers"]) > 0);
}
