//! Four shard processes against one server, merged: the merged counts equal the server's and
//! the one-process schedule's, merged percentiles are those of the shards' raw histograms
//! added, and a threshold that must fail fails in the merge.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use chatcap::Cli;
use chatcap::loadtest::{AgentsChoice, LoadPlan, PlanInputs, Shard, ShardResult};
use chatcap::profile;
use clap::Parser;
use hdrhistogram::Histogram;
use serde_json::Value;

use super::{Child, GOOSE, PROFILE, TOKEN, count, start};

const SHARDS: u32 = 4;

/// Starts shard `k` of [`SHARDS`] as its own process.
fn spawn_shard(k: u32, base: &str, profile: &Path, at: &str, dir: &Path) -> Child {
    let path = |name: String| dir.join(name).to_str().expect("utf-8 path").to_string();
    let shard = format!("{k}/{SHARDS}");
    let args = [
        "--quiet",
        "--format",
        "json",
        "--out",
        &path(format!("summary{k}.json")),
        "loadtest",
        "--host",
        base,
        "--profile",
        profile.to_str().expect("utf-8 path"),
        "--duration",
        "10s",
        "--time-scale",
        "60",
        "--agents",
        "24",
        "--agent-token",
        TOKEN,
        "--drain",
        "12s",
        "--shard",
        &shard,
        "--start-at",
        at,
        "--result",
        &path(format!("result{k}.json")),
    ];
    Child(
        std::process::Command::new(env!("CARGO_BIN_EXE_chatcap"))
            .args(args)
            .stdout(std::process::Stdio::null())
            .stderr(std::fs::File::create(dir.join(format!("stderr{k}"))).expect("file"))
            .spawn()
            .expect("start a shard"),
    )
}

/// Waits for every child, at most `limit` in all; their exit codes.
fn wait_all(children: &mut [Child], limit: Duration) -> Vec<Option<i32>> {
    let started = Instant::now();
    children
        .iter_mut()
        .map(|c| {
            loop {
                if let Some(status) = c.0.try_wait().expect("wait") {
                    break status.code();
                }
                assert!(started.elapsed() < limit, "a shard ran past {limit:?}");
                std::thread::sleep(Duration::from_millis(50));
            }
        })
        .collect()
}

/// The instant `secs` seconds from now, RFC 3339.
fn instant_in(secs: u64) -> String {
    let at = std::time::SystemTime::now() + Duration::from_secs(secs);
    jiff::Timestamp::try_from(at)
        .expect("a timestamp")
        .to_string()
}

/// The p50/p90/p99 (ms) of histograms added together, as the summary rounds them.
fn percentiles(hists: &[Histogram<u64>]) -> [f64; 3] {
    let mut all = Histogram::<u64>::new_with_bounds(1, 600_000_000, 3).expect("histogram");
    for h in hists {
        all.add(h).expect("same bounds");
    }
    [0.5, 0.9, 0.99].map(|q| all.value_at_quantile(q) as f64 / 1000.0)
}

#[test]
fn shards_merge_into_the_one_process_run_and_the_servers_counts() {
    let _goose = GOOSE.lock().unwrap_or_else(|p| p.into_inner());
    let dir = tempfile::tempdir().expect("temp dir");
    let profile_path = dir.path().join("e2e.toml");
    std::fs::write(&profile_path, PROFILE).expect("write profile");
    let server = start(&profile_path, 60.0);

    let at = instant_in(8);
    let mut children: Vec<Child> = (1..=SHARDS)
        .map(|k| spawn_shard(k, &server.base, &profile_path, &at, dir.path()))
        .collect();
    let codes = wait_all(&mut children, Duration::from_secs(120));
    let server_stats = server.stats();
    server.stop();
    for (k, code) in codes.iter().enumerate() {
        let stderr = std::fs::read_to_string(dir.path().join(format!("stderr{}", k + 1)));
        assert_eq!(*code, Some(0), "shard {}: {stderr:?}", k + 1);
    }

    // The merge, in process, with a rule that cannot hold: exit code 1, the summary written.
    let files: Vec<PathBuf> = (1..=SHARDS)
        .map(|k| dir.path().join(format!("result{k}.json")))
        .collect();
    let merged_path = dir.path().join("merged.json");
    let mut args: Vec<String> = ["chatcap", "--format", "json", "--out"]
        .map(String::from)
        .to_vec();
    args.push(merged_path.to_str().expect("utf-8").to_string());
    args.extend(["loadtest", "merge"].map(String::from));
    args.extend(files.iter().map(|f| f.to_str().expect("utf-8").to_string()));
    args.extend(["--threshold", "lost<1", "--threshold", "http_p50<0.001ms"].map(String::from));
    let err = chatcap::run(Cli::parse_from(&args), &mut Vec::new()).expect_err("a rule fails");
    assert_eq!(err.exit_code(), 1, "{err}");
    assert!(err.to_string().contains("http_p50<0.001ms"), "{err}");
    let merged: Value =
        serde_json::from_slice(&std::fs::read(&merged_path).expect("merged summary"))
            .expect("JSON");
    let rules = merged["thresholds"].as_array().expect("rules");
    assert_eq!(rules[0]["passed"], true, "lost<1 holds: {rules:?}");
    assert_eq!(rules[1]["passed"], false);

    // A shard's own summary does not compare its part with the server's whole.
    let shard1: Value = serde_json::from_slice(
        &std::fs::read(dir.path().join("summary1.json")).expect("shard summary"),
    )
    .expect("JSON");
    assert!(shard1["chats"]["server"].is_null(), "{}", shard1["chats"]);
    let shard_warnings = shard1["warnings"].to_string();
    assert!(shard_warnings.contains("shard 1/4"), "{shard_warnings}");

    // Every shard must be there, once.
    let partial: Vec<(String, ShardResult)> = files[..3]
        .iter()
        .chain(&files[..1])
        .map(|f| {
            (
                f.display().to_string(),
                ShardResult::read(f).expect("a result"),
            )
        })
        .collect();
    let err = chatcap::loadtest::merge(&partial, &[]).expect_err("a shard twice");
    assert!(err.to_string().contains("are both shard 1/4"), "{err}");
    let err = chatcap::loadtest::merge(&partial[..3], &[]).expect_err("a shard missing");
    assert!(err.to_string().contains("shard 4/4 missing"), "{err}");

    // Merged counts equal the server's own, and nothing is lost.
    let chats = &merged["chats"];
    assert!(count(&chats["created"]) > 120, "{chats}");
    for key in ["created", "closed", "abandoned", "rejected"] {
        assert_eq!(
            count(&chats[key]),
            count(&server_stats["chats"][key]),
            "{key}: merged shards vs /v1/stats"
        );
    }
    assert_eq!(chats["conserved"], true, "{chats}");

    // The shards together played the one-process schedule: the same arrivals per queue, every
    // agent once.
    let results: Vec<ShardResult> = files
        .iter()
        .map(|f| ShardResult::read(f).expect("a result"))
        .collect();
    let profile = profile::load(&profile_path).expect("profile");
    let one = LoadPlan::new(
        profile,
        &PlanInputs {
            duration_secs: 10.0,
            time_scale: 60.0,
            start: None,
            agents: AgentsChoice::parse("24").expect("agents"),
            customers: None,
            seed: None,
            shard: Shard::WHOLE,
        },
    )
    .expect("plan");
    let mut per_queue = vec![0u64; one.profile.queues.len()];
    for a in &one.schedule {
        per_queue[a.queue as usize] += 1;
    }
    let arrivals: Vec<u64> = one
        .profile
        .queues
        .iter()
        .map(|q| {
            merged["measured"]["queues"][&q.name]["arrivals"]
                .as_f64()
                .expect("n") as u64
        })
        .collect();
    assert_eq!(
        arrivals, per_queue,
        "merged arrivals vs the one-process schedule"
    );
    let agents: u64 = results
        .iter()
        .map(|r| r.record.endpoints["agent_login"].requests)
        .sum();
    assert_eq!(
        agents as usize,
        one.agents.len(),
        "every agent logged in once"
    );
    assert_eq!(merged["staffing"]["agents"], one.agents.len());

    // Merged percentiles are those of the shards' raw histograms added together.
    let lags: Vec<Histogram<u64>> = results
        .iter()
        .map(|r| r.record.arrival_lag_us.clone())
        .collect();
    let [p50, p90, p99] = percentiles(&lags);
    let lag = &merged["arrival_lag"];
    assert_eq!(lag["count"], lags.iter().map(|h| h.len()).sum::<u64>());
    for (key, want) in [("p50_ms", p50), ("p90_ms", p90), ("p99_ms", p99)] {
        let got = lag[key].as_f64().expect("ms");
        assert!(
            (got - want).abs() < 1e-9,
            "arrival lag {key}: {got} vs {want}"
        );
    }
    let mut by_endpoint: BTreeMap<&str, Vec<Histogram<u64>>> = BTreeMap::new();
    for r in &results {
        for (name, e) in &r.record.endpoints {
            by_endpoint
                .entry(name)
                .or_default()
                .push(e.latency_us.clone());
        }
    }
    let create = percentiles(&by_endpoint["create_chat"]);
    let got = &merged["http"]["endpoints"]["create_chat"];
    assert!(
        (got["p99_ms"].as_f64().expect("ms") - create[2]).abs() < 1e-9,
        "{got}"
    );
}

#[test]
fn shards_and_merges_refuse_what_cannot_make_one_run() {
    let parse = |args: &[&str]| {
        let mut all = vec!["chatcap", "--quiet", "loadtest"];
        all.extend_from_slice(args);
        chatcap::run(Cli::parse_from(all), &mut Vec::new()).expect_err("refused")
    };
    let base = ["--host", "http://127.0.0.1:9", "--duration", "10s"];
    let with = |extra: &[&str]| parse(&[&base[..], extra].concat());
    let err = with(&["--shard", "2/4"]);
    assert!(err.to_string().contains("--start-at"), "{err}");
    assert_eq!(err.exit_code(), 2);
    let bad = Cli::try_parse_from([
        "chatcap",
        "loadtest",
        "--host",
        "h",
        "--duration",
        "1s",
        "--shard",
        "5/4",
    ]);
    assert!(bad.unwrap_err().to_string().contains("K/N"));

    let dir = tempfile::tempdir().expect("temp dir");
    let not_result = dir.path().join("x.json");
    std::fs::write(&not_result, r#"{"format": "something else"}"#).expect("write");
    let err = parse(&["merge", not_result.to_str().expect("utf-8")]);
    assert!(err.to_string().contains("--result"), "{err}");
    assert_eq!(err.exit_code(), 2);
}
