//! `chatcap loadtest` end to end against an in-process `chatcap serve` on 127.0.0.1.
//!
//! Goose keeps process-wide state (the killswitch, the Ctrl-C handler), so attacks in this
//! binary run one at a time under [`GOOSE`]. The main test runs ONE attack through
//! `chatcap::run` and checks everything on it: the books balance (load test, summary and
//! `/v1/stats` agree and nothing is lost), the measured service level lies within a stated
//! tolerance of the simulator's forecast, and a threshold that cannot hold makes exit code 1.
//! `kpis` compares the load test's figures with the server's queue by queue; `soak` is a long
//! run, ignored by default.

use std::path::Path;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use chatcap::Cli;
use chatcap::loadtest::Threshold;
use chatcap::profile;
use chatcap::server::{self, RunningServer, ServerConfig};
use clap::Parser;
use serde_json::Value;

mod kpis;
mod shards;
mod soak;
mod targets;

static GOOSE: Mutex<()> = Mutex::new(());

const TOKEN: &str = "loadtest-secret";

/// 10 profile minutes played at time scale 60: about 200 chats over two queues, 24 agents with
/// two slots each and a concurrency slowdown, offers with an accept delay, a first-response
/// delay, patience (abandons) and transfers between the queues.
const PROFILE: &str = r#"
name = "loadtest e2e"
interval = "30m"
intervals = 1

[targets]
threshold = "20s"

[routing]
accept = { timeout = "30s", misses_before_away = 3 }

[simulation]
replications = 30
seed = 11

[[queues]]
name = "sales"
volume = 450
handle_time = { dist = "lognormal", mean = "2m", cv = 0.5 }
patience = { dist = "exponential", mean = "2m" }
accept_delay = { dist = "exponential", mean = "3s" }
first_response = { dist = "deterministic", mean = "5s" }

[[queues]]
name = "support"
volume = 150
handle_time = { dist = "lognormal", mean = "2m", cv = 0.5 }
patience = { dist = "exponential", mean = "3m" }
accept_delay = { dist = "exponential", mean = "3s" }
transfer = { share = 0.1, to = "sales" }

[[agents]]
name = "team"
skills = ["sales", "support"]
concurrency = 2
slowdown = 0.2
"#;

struct Server {
    runtime: tokio::runtime::Runtime,
    server: RunningServer,
    base: String,
}

fn start(profile_path: &Path, time_scale: f64) -> Server {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("server runtime");
    let profile = profile::load(profile_path).expect("test profile is valid");
    let mut config = ServerConfig::new(profile);
    config.bind = "127.0.0.1:0".parse().expect("address");
    config.agent_token = Some(TOKEN.to_string());
    config.time_scale = time_scale;
    let server = runtime
        .block_on(server::bind(config))
        .expect("server binds");
    let base = format!("http://{}", server.local_addr());
    Server {
        runtime,
        server,
        base,
    }
}

impl Server {
    fn stats(&self) -> Value {
        let url = format!("{}/v1/stats", self.base);
        self.runtime.block_on(async {
            reqwest::Client::new()
                .get(url)
                .timeout(Duration::from_secs(10))
                .send()
                .await
                .expect("stats answers")
                .json::<Value>()
                .await
                .expect("stats json")
        })
    }

    fn stop(self) {
        self.server.shutdown();
        self.runtime
            .block_on(async {
                tokio::time::timeout(Duration::from_secs(10), self.server.join()).await
            })
            .expect("shutdown within 10 s")
            .expect("server stops cleanly");
    }
}

fn num(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("a number, got {v}"))
}

fn count(v: &Value) -> u64 {
    v.as_u64().unwrap_or_else(|| panic!("a count, got {v}"))
}

#[test]
fn loadtest_balances_the_books_matches_the_forecast_and_enforces_thresholds() {
    let _goose = GOOSE.lock().unwrap_or_else(|p| p.into_inner());
    let dir = tempfile::tempdir().expect("temp dir");
    let profile_path = dir.path().join("e2e.toml");
    std::fs::write(&profile_path, PROFILE).expect("write profile");
    let summary_path = dir.path().join("summary.json");
    let goose_report = dir.path().join("goose.json");
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
        "10s",
        "--time-scale",
        "60",
        "--agents",
        "24",
        "--agent-token",
        TOKEN,
        "--drain",
        "12s",
        "--threshold",
        "lost<1",
        "--threshold",
        "service_level>0.3",
        // No HTTP answer takes under a microsecond: this rule must fail.
        "--threshold",
        "http_p50<0.001ms",
        "--report-file",
        goose_report.to_str().expect("utf-8 path"),
    ]);
    let started = Instant::now();
    let mut stdout = Vec::new();
    let err = chatcap::run(cli, &mut stdout).expect_err("the impossible threshold fails");
    let wall = started.elapsed();
    assert_eq!(err.exit_code(), 1, "{err}");
    let message = err.to_string();
    assert!(
        message.contains("1 threshold(s) failed") && message.contains("http_p50<0.001ms"),
        "{message}"
    );
    assert!(stdout.is_empty(), "the summary went to --out");
    // A bound against hangs, not a speed check: 10 s of arrivals plus the drain and the hard
    // stop take about 17 s; only a run that fails to stop by itself gets near a minute.
    assert!(
        wall < Duration::from_secs(60),
        "the run did not stop by itself: {wall:?}"
    );

    let summary: Value =
        serde_json::from_slice(&std::fs::read(&summary_path).expect("summary written"))
            .expect("summary is JSON");
    let server_stats = server.stats();
    server.stop();

    // Thresholds: evaluated on the summary, the impossible one failed, the others held.
    let rules = summary["thresholds"].as_array().expect("thresholds");
    assert_eq!(rules.len(), 3);
    let passed = |expr: &str| {
        rules
            .iter()
            .find(|r| r["expr"] == expr)
            .unwrap_or_else(|| panic!("rule {expr}"))["passed"]
            .as_bool()
            .expect("bool")
    };
    assert!(passed("lost<1") && passed("service_level>0.3"));
    assert!(!passed("http_p50<0.001ms"));
    // The same verdict from the library's own evaluation of the produced value.
    let http_p50 = num(&summary["http"]["all"]["p50_ms"]) / 1000.0;
    assert!(
        !Threshold::parse("http_p50<0.001ms")
            .expect("rule")
            .evaluate(http_p50)
            .passed
    );

    // Conservation: every created chat is in exactly one state, counted alike by the load
    // test, by the summary's server snapshot, and by /v1/stats read here independently.
    let chats = &summary["chats"];
    let created = count(&chats["created"]);
    assert!(created > 120, "only {created} chats");
    let ended = count(&chats["closed"]) + count(&chats["abandoned"]) + count(&chats["rejected"]);
    for live in ["queued", "offered", "active"] {
        assert_eq!(count(&chats[live]), 0, "{live} left at the end");
        assert_eq!(count(&server_stats["chats"][live]), 0, "server {live}");
    }
    assert_eq!(ended, created, "every chat ended exactly once");
    assert_eq!(count(&chats["lost"]), 0);
    assert_eq!(count(&chats["create_failed"]), 0);
    assert_eq!(chats["conserved"], true, "{chats}");
    for key in ["created", "closed", "abandoned", "rejected"] {
        assert_eq!(
            count(&chats[key]),
            count(&server_stats["chats"][key]),
            "{key}: load test vs /v1/stats"
        );
        assert_eq!(chats[key], chats["server"][key], "{key}: summary snapshot");
    }
    assert_eq!(summary["run"]["ended_by"], "drained");

    // The measured figures come from the same chats the server tallies, with the same
    // definitions: they agree up to the microsecond rounding of the chats' timestamps. AHT
    // counts every leg of a transferred chat on both sides.
    let measured = &summary["measured"];
    let overall = &server_stats["overall"];
    assert!(
        count(&summary["offers"]["transfers"]) > 0,
        "no transfer made"
    );
    for key in ["service_level", "abandon_rate", "asa_secs", "aht_secs"] {
        let (ours, theirs) = (num(&measured[key]), num(&overall[key]));
        assert!(
            (ours - theirs).abs() < 1e-3 * theirs.abs().max(1.0),
            "{key}: load test {ours} vs server {theirs}"
        );
    }

    // Measured service level against the forecast. The forecast gives the mean over R
    // simulated windows and a 95% interval; its width gives the spread of ONE window,
    // sd = half-width x sqrt(R) / t(R-1). One measured window minus the forecast mean has
    // sd x sqrt(1 + 1/R); allow 3.5 of those (a chance failure about 1 in 2,000) plus 0.03 for
    // what the simulator does not model: at time scale 60 every wall millisecond of HTTP and
    // route latency is 0.06 profile seconds of wait, next to a 20 s threshold.
    let row = summary["comparison"]
        .as_array()
        .expect("comparison")
        .iter()
        .find(|r| r["figure"] == "service_level")
        .expect("service level row")
        .clone();
    let reps = count(&summary["forecast"]["replications"]) as f64;
    let sd = num(&row["sd"]);
    assert!(sd > 0.0 && sd < 0.2, "one window's sd {sd}");
    let tolerance = 3.5 * sd * (1.0 + 1.0 / reps).sqrt() + 0.03;
    let (m, f) = (num(&row["measured"]), num(&row["forecast"]));
    assert!(
        (m - f).abs() <= tolerance,
        "service level {m:.3} vs forecast {f:.3} (tolerance {tolerance:.3})"
    );
    assert_eq!(num(&summary["forecast"]["service_level"]["mean"]), f);
    // The arrivals follow the forecast's rate too.
    let offered = summary["comparison"]
        .as_array()
        .expect("comparison")
        .iter()
        .find(|r| r["figure"] == "offered")
        .expect("offered row");
    assert!(num(&offered["z"]).abs() < 4.0, "{offered}");

    // Custom timings and the generator's health.
    let route = &summary["route_latency"];
    assert_eq!(
        count(&route["count"]),
        count(&summary["offers"]["delivered"])
    );
    assert!(num(&route["p99_ms"]) < 1000.0, "{route}");
    assert!(count(&summary["arrival_lag"]["count"]) >= created);
    assert!(count(&summary["http"]["requests"]) > 5 * created);
    assert!(num(&summary["http"]["rps"]) > 0.0);
    assert_eq!(
        count(&summary["http"]["endpoints"]["create_chat"]["requests"]),
        created
    );

    // Goose's own report, with the chat timings in it.
    let report: Value =
        serde_json::from_slice(&std::fs::read(&goose_report).expect("goose report written"))
            .expect("goose report is JSON");
    let requests = report["raw_metrics"]["requests"]
        .as_object()
        .expect("goose request metrics");
    for key in ["CHAT route_latency", "CHAT arrival_lag", "POST create_chat"] {
        assert!(requests.contains_key(key), "goose report lacks {key}");
    }
}

#[test]
fn loadtest_refuses_bad_input_before_any_load() {
    let run = |args: &[&str]| {
        let mut full = vec!["chatcap", "--quiet", "loadtest"];
        full.extend_from_slice(args);
        let cli = Cli::parse_from(full);
        chatcap::run(cli, &mut Vec::new()).expect_err("refused")
    };
    let base = ["--host", "http://127.0.0.1:9", "--duration", "10s"];
    let with = |extra: &[&'static str]| {
        let mut v: Vec<&str> = base.to_vec();
        v.extend_from_slice(extra);
        run(&v)
    };
    let err = with(&["--threshold", "latency<5ms"]);
    assert_eq!(err.exit_code(), 2);
    let text = err.to_string();
    assert!(
        text.contains("--threshold") && text.contains("route_p99") && text.contains("wait_p90"),
        "{text}"
    );
    let err = with(&["--time-scale", "0.5"]);
    assert!(err.to_string().contains("--time-scale"), "{err}");
    let err = with(&["--report-file", "out.docx"]);
    assert!(err.to_string().contains(".html"), "{err}");
    let err = with(&["--start", "08:10"]);
    assert!(err.to_string().contains("--start"), "{err}");
    let err = run(&["--host", "http://127.0.0.1:9", "--duration", "100h"]);
    assert!(err.to_string().contains("past the end"), "{err}");
    assert_eq!(err.exit_code(), 2);
}

#[test]
fn loadtest_says_when_the_server_is_not_there() {
    let _goose = GOOSE.lock().unwrap_or_else(|p| p.into_inner());
    // Bind a port and drop it: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let host = format!("http://127.0.0.1:{port}");
    let cli = Cli::parse_from([
        "chatcap",
        "--quiet",
        "loadtest",
        "--host",
        &host,
        "--duration",
        "2s",
        "--agents",
        "1",
        "--customers",
        "1",
    ]);
    let started = Instant::now();
    let err = chatcap::run(cli, &mut Vec::new()).expect_err("no server");
    assert!(started.elapsed() < Duration::from_secs(20));
    assert_eq!(err.exit_code(), 1);
    let text = err.to_string();
    assert!(
        text.contains("cannot reach the chat server") && text.contains("connection refused"),
        "{text}"
    );
}

/// Runs `chatcap` with `args` as its own process for at most `limit`, stdout and stderr into
/// files; returns the exit code and both outputs.
fn run_binary(args: &[&str], limit: Duration) -> (Option<i32>, String, String) {
    let dir = tempfile::tempdir().expect("temp dir");
    let (out, err) = (dir.path().join("stdout"), dir.path().join("stderr"));
    let mut child = Child(
        std::process::Command::new(env!("CARGO_BIN_EXE_chatcap"))
            .args(args)
            .stdout(std::fs::File::create(&out).expect("stdout file"))
            .stderr(std::fs::File::create(&err).expect("stderr file"))
            .spawn()
            .expect("start chatcap"),
    );
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.0.try_wait().expect("wait") {
            break status;
        }
        assert!(
            started.elapsed() < limit,
            "chatcap {args:?} ran past {limit:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    let read = |p: &Path| std::fs::read_to_string(p).expect("output");
    (status.code(), read(&out), read(&err))
}

#[test]
fn loadtest_checks_the_host_before_its_banner() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let refused = format!("http://127.0.0.1:{port}");
    for (host, code, says) in [
        ("127.0.0.1:8080", 2, "is not an http:// or https:// URL"),
        ("http://", 2, "--host"),
        (refused.as_str(), 1, "connection refused"),
    ] {
        let args = ["loadtest", "--host", host, "--duration", "2s"];
        let (status, _, stderr) = run_binary(&args, Duration::from_secs(30));
        assert_eq!(status, Some(code), "{host}: {stderr}");
        assert!(stderr.contains(says), "{host}: {stderr}");
        assert!(
            !stderr.contains("chatcap loadtest:"),
            "{host}: the banner came first: {stderr}"
        );
    }
}

/// The server profile: the load test's queues plus a `vip` queue only a `vip` group serves.
const BUSY_SERVER_EXTRA: &str = r#"
[[queues]]
name = "vip"
volume = 1
handle_time = { dist = "exponential", mean = "2m" }

[[agents]]
name = "vip"
skills = ["vip"]
concurrency = 3
"#;

/// A server that already routed and holds chats: the load test warns before it starts, its
/// `server_route_latency` covers the run alone, and its AHT (every leg of transferred chats)
/// equals the server's.
#[test]
fn loadtest_on_a_busy_server_warns_first_and_counts_only_its_window() {
    let dir = tempfile::tempdir().expect("temp dir");
    let test_profile = PROFILE
        .replace("transfer = { share = 0.1,", "transfer = { share = 0.5,")
        .replace("replications = 30", "replications = 4");
    let test_path = dir.path().join("test.toml");
    std::fs::write(&test_path, &test_profile).expect("write profile");
    let server_path = dir.path().join("server.toml");
    std::fs::write(&server_path, format!("{test_profile}{BUSY_SERVER_EXTRA}"))
        .expect("write profile");
    let server = start(&server_path, 60.0);

    // Before the run: an agent serving only vip gets three chats delivered (three route
    // latency samples) and leaves them open.
    let base = server.base.clone();
    server.runtime.block_on(async {
        let client = reqwest::Client::new();
        let login: Value = client
            .post(format!("{base}/v1/agents/vip-1/login"))
            .bearer_auth(TOKEN)
            .send()
            .await
            .expect("login")
            .json()
            .await
            .expect("login json");
        let token = login["token"].as_str().expect("token").to_string();
        let resp = client
            .post(format!("{base}/v1/agents/vip-1/status"))
            .bearer_auth(&token)
            .json(&serde_json::json!({"status": "available", "skills": ["vip"], "concurrency": 3}))
            .send()
            .await
            .expect("register");
        assert!(resp.status().is_success());
        for _ in 0..3 {
            let resp = client
                .post(format!("{base}/v1/chats"))
                .json(&serde_json::json!({"queue": "vip"}))
                .send()
                .await
                .expect("create");
            assert!(resp.status().is_success());
        }
        let resp = client
            .get(format!("{base}/v1/agents/vip-1/offers"))
            .bearer_auth(&token)
            .send()
            .await
            .expect("offers");
        assert!(resp.status().is_success());
    });
    let before = server.stats();
    assert_eq!(count(&before["route_latency"]["count"]), 3);

    let summary_path = dir.path().join("summary.json");
    let args = [
        "--format",
        "json",
        "--out",
        summary_path.to_str().expect("utf-8 path"),
        "loadtest",
        "--host",
        &server.base,
        "--profile",
        test_path.to_str().expect("utf-8 path"),
        "--duration",
        "6s",
        "--time-scale",
        "60",
        "--agents",
        "24",
        "--agent-token",
        TOKEN,
        "--drain",
        "12s",
    ];
    let (status, _, stderr) = run_binary(&args, Duration::from_secs(120));
    let server_stats = server.stats();
    server.stop();
    assert_eq!(status, Some(0), "{stderr}");
    let banner = stderr.find("chatcap loadtest:").expect("banner");
    let warned = stderr
        .find("warning: the server already holds 3 live chats")
        .unwrap_or_else(|| panic!("no early warning: {stderr}"));
    assert!(banner < warned, "{stderr}");

    let summary: Value =
        serde_json::from_slice(&std::fs::read(&summary_path).expect("summary written"))
            .expect("summary is JSON");
    let warnings = summary["warnings"].to_string();
    assert!(
        warnings.contains("already holds 3 live chats"),
        "{warnings}"
    );
    // The server's route latency over the run: the test's deliveries, not the three before.
    let ours = count(&summary["route_latency"]["count"]);
    assert!(ours > 50, "{ours} deliveries");
    assert_eq!(count(&summary["server_route_latency"]["count"]), ours);
    assert_eq!(count(&server_stats["route_latency"]["count"]), ours + 3);
    // AHT over every leg, as the server counts it, in the queue that transfers and the one
    // that receives.
    assert!(count(&summary["offers"]["transfers"]) > 5);
    for queue in ["support", "sales"] {
        let ours = num(&summary["measured"]["queues"][queue]["aht_secs"]);
        let theirs = num(&server_stats["queues"][queue]["aht_secs"]);
        assert!(
            (ours - theirs).abs() < 1e-3 * theirs,
            "{queue} aht: load test {ours} vs server {theirs}"
        );
    }
}

/// A child process killed (by its pid) when dropped.
struct Child(std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
