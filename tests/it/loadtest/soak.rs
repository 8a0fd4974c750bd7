//! A soak run (ignored by default): about 2,000 chats in the system for ten wall minutes
//! against a server of its own process, whose memory must level off.

use std::time::{Duration, Instant};

use chatcap::Cli;
use clap::Parser;
use serde_json::Value;

use super::{Child, GOOSE, count, num};

/// About 2,000 chats in the system for 10 wall minutes: 3.3 chats per profile second with a
/// 10-minute handle time at time scale 10 (33 chats per wall second, a minute each), 700 agents
/// with 3 slots. The server runs as its own process so its memory can be read from /proc.
const SOAK_PROFILE: &str = r#"
name = "soak"
interval = "30m"
intervals = 4

[targets]
threshold = "30s"

[routing]
accept = { timeout = "30s", misses_before_away = 3 }

[simulation]
replications = 10
seed = 5

[[queues]]
name = "chat"
volume = 6000
handle_time = { dist = "lognormal", mean = "10m", cv = 0.5 }
patience = { dist = "exponential", mean = "5m" }
accept_delay = { dist = "exponential", mean = "5s" }
first_response = { dist = "lognormal", mean = "20s", cv = 0.5 }

[[agents]]
name = "agent"
skills = ["chat"]
concurrency = 3
"#;

fn vm_rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

#[test]
#[ignore = "soak: about 14 minutes; run with --ignored --nocapture"]
fn soak_two_thousand_chats_in_the_system_for_ten_minutes() {
    use std::io::{BufRead, BufReader};
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};

    let _goose = GOOSE.lock().unwrap_or_else(|p| p.into_inner());
    let dir = tempfile::tempdir().expect("temp dir");
    let profile_path = dir.path().join("soak.toml");
    std::fs::write(&profile_path, SOAK_PROFILE).expect("write profile");
    let summary_path = dir.path().join("soak.json");
    let mut child = Child(
        std::process::Command::new(env!("CARGO_BIN_EXE_chatcap"))
            .args(["serve", "--bind", "127.0.0.1:0", "--time-scale", "10"])
            .arg("--profile")
            .arg(&profile_path)
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("start chatcap serve"),
    );
    let pid = child.0.id();
    let mut line = String::new();
    BufReader::new(child.0.stderr.take().expect("stderr"))
        .read_line(&mut line)
        .expect("server banner");
    let base = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap_or_else(|| panic!("no address in {line:?}"))
        .to_string();

    // Sample the server's memory and live/retained records every 30 s.
    let stop = Arc::new(AtomicBool::new(false));
    let sampler = {
        let (stop, base) = (stop.clone(), base.clone());
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("sampler runtime");
            let client = reqwest::Client::new();
            let started = Instant::now();
            let mut samples = Vec::new();
            let mut next = Duration::ZERO;
            while !stop.load(Ordering::SeqCst) && started.elapsed() < Duration::from_secs(1200) {
                if started.elapsed() >= next {
                    next += Duration::from_secs(30);
                    let stats: Option<Value> = rt.block_on(async {
                        client
                            .get(format!("{base}/v1/stats"))
                            .timeout(Duration::from_secs(10))
                            .send()
                            .await
                            .ok()?
                            .json()
                            .await
                            .ok()
                    });
                    let rss = vm_rss_kib(pid).unwrap_or(0);
                    let (live, retained) = stats.map_or((0, 0), |s| {
                        let c = &s["chats"];
                        let live = ["queued", "offered", "active"]
                            .iter()
                            .map(|k| c[k].as_u64().unwrap_or(0))
                            .sum::<u64>();
                        (live, s["retained"]["chats"].as_u64().unwrap_or(0))
                    });
                    println!(
                        "soak t={:>4}s server RSS {:>7.1} MiB, chats in system {live:>5}, retained chat records {retained:>6}",
                        started.elapsed().as_secs(),
                        rss as f64 / 1024.0
                    );
                    samples.push((started.elapsed().as_secs(), rss, live));
                }
                std::thread::sleep(Duration::from_millis(200));
            }
            samples
        })
    };

    let cli = Cli::parse_from([
        "chatcap",
        "--format",
        "json",
        "--out",
        summary_path.to_str().expect("utf-8 path"),
        "--quiet",
        "loadtest",
        "--host",
        &base,
        "--profile",
        profile_path.to_str().expect("utf-8 path"),
        "--duration",
        "600s",
        "--time-scale",
        "10",
        "--agents",
        "700",
        "--customers",
        "3500",
        "--drain",
        "180s",
        "--status-every",
        "120s",
        "--threshold",
        "lost<1",
    ]);
    let started = Instant::now();
    let outcome = chatcap::run(cli, &mut Vec::new());
    let wall = started.elapsed();
    stop.store(true, Ordering::SeqCst);
    let samples = sampler.join().expect("sampler");
    drop(child);
    outcome.expect("the soak run keeps every rule");

    let summary: Value =
        serde_json::from_slice(&std::fs::read(&summary_path).expect("summary written"))
            .expect("summary is JSON");
    let chats = &summary["chats"];
    let http = &summary["http"];
    println!("soak wall {:.0} s, chats {chats}", wall.as_secs_f64());
    println!(
        "soak HTTP {} requests, {:.0} req/s, p50 {} ms, p99 {} ms, max {} ms, errors {}",
        http["requests"],
        num(&http["rps"]),
        http["all"]["p50_ms"],
        http["all"]["p99_ms"],
        http["all"]["max_ms"],
        http["failures"]
    );
    println!(
        "soak arrival lag {}, route latency {}",
        summary["arrival_lag"], summary["route_latency"]
    );
    let sl = summary["comparison"]
        .as_array()
        .expect("comparison")
        .iter()
        .find(|r| r["figure"] == "service_level")
        .expect("row")
        .clone();
    println!("soak service level {sl}");
    assert_eq!(count(&chats["lost"]), 0);
    assert_eq!(chats["conserved"], true);
    let peak_live = samples.iter().map(|s| s.2).max().unwrap_or(0);
    assert!(peak_live > 1500, "peak chats in system {peak_live}");
    // Memory levels off: the last sample under load is within 1.5x of the one at 5 minutes.
    let at = |secs: u64| {
        samples
            .iter()
            .find(|s| s.0 >= secs)
            .map(|s| s.1)
            .expect("sample")
    };
    let (early, late) = (at(300), at(570));
    assert!(
        late as f64 <= 1.5 * early as f64,
        "server RSS grew from {early} KiB to {late} KiB"
    );
}
