//! Target files end to end: the shipped Chatwoot target drives the Chatwoot stand-in (an
//! independent Python server of Chatwoot's documented API, auto-assignment, no offers) with
//! conservation and the forecast comparison; a bad target file is refused before any request;
//! a backend answering other than the target says is counted per call, never lost.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use chatcap::Cli;
use clap::Parser;
use serde_json::Value;

use super::{Child, GOOSE, PROFILE, count, num, start};

fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

/// One queue served by one group that Chatwoot's auto-assignment routes alike (the stand-in has
/// 20 agents; the test puts 15 of them on duty): no offers
/// (`accept = "auto"`), the least busy agent first, a cap of 2, and no first-response delay
/// (the customer sees the agent's first message as its answer).
const CHATWOOT_PROFILE: &str = r#"
name = "chatwoot e2e"
interval = "30m"
intervals = 1

[targets]
threshold = "30s"

[routing]
accept = "auto"

[simulation]
replications = 30
seed = 5

[[queues]]
name = "web"
volume = 1100
handle_time = { dist = "lognormal", mean = "1m", cv = 0.5 }
patience = { dist = "exponential", mean = "2m" }

[[agents]]
name = "team"
skills = ["web"]
concurrency = 2
"#;

/// The stand-in on a free port, stopped by its pid when dropped.
struct StandIn {
    _child: Child,
    base: String,
}

fn start_stand_in(dir: &Path, agents: u32, cap: u32) -> StandIn {
    let out = dir.join("stand-in.out");
    let child = Child(
        std::process::Command::new("python3")
            .arg(repo("tests/standins/chatwoot/server.py"))
            .args(["--port", "0", "--agents", &agents.to_string()])
            .args(["--max-per-agent", &cap.to_string()])
            .args(["--inbox-identifier", "inbox-e2e"])
            .stdout(std::fs::File::create(&out).expect("stand-in stdout"))
            .stderr(std::fs::File::create(dir.join("stand-in.err")).expect("stand-in stderr"))
            .spawn()
            .expect("python3 runs the stand-in (see the README)"),
    );
    let started = Instant::now();
    loop {
        let line = std::fs::read_to_string(&out).unwrap_or_default();
        if let Some(base) = line.trim().strip_prefix("listening on ") {
            return StandIn {
                _child: child,
                base: base.to_string(),
            };
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the stand-in did not start: {line}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn stand_in_counts(base: &str) -> Value {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async {
        reqwest::Client::new()
            .get(format!("{base}/standin/counts"))
            .timeout(Duration::from_secs(10))
            .send()
            .await
            .expect("the stand-in answers")
            .json::<Value>()
            .await
            .expect("counts are JSON")
    })
}

#[test]
fn the_chatwoot_target_drives_a_chatwoot_shaped_backend_and_balances_the_books() {
    let _goose = GOOSE.lock().unwrap_or_else(|p| p.into_inner());
    let dir = tempfile::tempdir().expect("temp dir");
    let profile_path = dir.path().join("chatwoot.toml");
    std::fs::write(&profile_path, CHATWOOT_PROFILE).expect("write profile");
    let summary_path = dir.path().join("summary.json");
    let stand_in = start_stand_in(dir.path(), 20, 2);
    let target = repo("targets/chatwoot.toml");
    let cli = Cli::parse_from([
        "chatcap",
        "--format",
        "json",
        "--out",
        summary_path.to_str().expect("utf-8 path"),
        "--quiet",
        "loadtest",
        "--host",
        &stand_in.base,
        "--profile",
        profile_path.to_str().expect("utf-8 path"),
        "--target",
        target.to_str().expect("utf-8 path"),
        "--var",
        "inbox=inbox-e2e",
        "--var",
        "email_domain=standin.test",
        "--var",
        "password=chatcap-password",
        "--var",
        "admin_token=standin-token-1",
        "--duration",
        "30s",
        "--time-scale",
        "10",
        // 30 slots for about 37 erlangs: chats queue, some customers give up.
        "--agents",
        "15",
        "--drain",
        "40s",
    ]);
    let started = Instant::now();
    chatcap::run(cli, &mut Vec::new()).expect("the load test runs");
    assert!(
        started.elapsed() < Duration::from_secs(150),
        "it did not stop by itself"
    );
    let summary: Value =
        serde_json::from_slice(&std::fs::read(&summary_path).expect("summary written"))
            .expect("summary is JSON");
    let theirs = stand_in_counts(&stand_in.base);

    // Conservation: every conversation ended once, counted alike by the load test, by the
    // target's reading of Chatwoot's conversation counts, and by the stand-in's own books.
    let chats = &summary["chats"];
    let created = count(&chats["created"]);
    assert!(created > 120, "only {created} chats: {chats}");
    assert_eq!(count(&chats["lost"]), 0, "{chats}");
    assert_eq!(count(&chats["create_failed"]), 0, "{chats}");
    assert_eq!(chats["conserved"], true, "{chats}");
    let ended = count(&chats["closed"]) + count(&chats["abandoned"]);
    assert_eq!(ended, created, "{chats}");
    assert_eq!(chats["server"]["created"], chats["created"]);
    assert_eq!(count(&chats["server"]["ended"]), ended);
    assert_eq!(count(&chats["server"]["live"]), 0);
    assert_eq!(count(&theirs["conversations_created"]), created, "{theirs}");
    assert_eq!(count(&theirs["resolved"]), ended, "{theirs}");
    assert_eq!(
        count(&theirs["open_unassigned"]) + count(&theirs["open_assigned"]),
        0,
        "{theirs}"
    );
    assert!(
        count(&chats["abandoned"]) > 0,
        "patience never ran out: {chats}"
    );
    assert_eq!(
        summary["errors"],
        serde_json::json!({}),
        "{}",
        summary["errors"]
    );
    assert_eq!(summary["run"]["ended_by"], "drained");
    let endpoints = &summary["http"]["endpoints"];
    assert_eq!(
        count(&endpoints["create_conversation"]["requests"]),
        created
    );
    assert_eq!(count(&endpoints["sign_in"]["requests"]), 15);

    // Measured service level against the forecast (as in the chatcap e2e test: 3.5 sd of one
    // window plus an allowance). Chatwoot has no long poll: agents notice an assignment and
    // customers the first message by polls 250 ms apart, about 0.4 s of wall lag on average,
    // 4 profile seconds at time scale 10 next to a 30 s threshold; the allowance is 0.06.
    let row = |figure: &str| {
        summary["comparison"]
            .as_array()
            .expect("comparison")
            .iter()
            .find(|r| r["figure"] == figure)
            .unwrap_or_else(|| panic!("row {figure}"))
            .clone()
    };
    let sl = row("service_level");
    let reps = count(&summary["forecast"]["replications"]) as f64;
    let sd = num(&sl["sd"]);
    assert!(sd > 0.0 && sd < 0.2, "one window's sd {sd}");
    let tolerance = 3.5 * sd * (1.0 + 1.0 / reps).sqrt() + 0.06;
    let (m, f) = (num(&sl["measured"]), num(&sl["forecast"]));
    assert!(
        (m - f).abs() <= tolerance,
        "service level {m:.3} vs forecast {f:.3} (tolerance {tolerance:.3})"
    );
    assert!(num(&row("offered")["z"]).abs() < 4.0);
}

#[test]
fn bad_target_files_are_refused_before_any_request() {
    let dir = tempfile::tempdir().expect("temp dir");
    let builtin = std::fs::read_to_string(repo("targets/chatcap.toml")).expect("built-in");
    // Nothing listens at the host: a target error proves nothing was sent.
    let run = |name: &str, from: &str, to: &str| {
        assert!(builtin.contains(from), "{from}");
        let path = dir.path().join(name);
        std::fs::write(&path, builtin.replacen(from, to, 1)).expect("write target");
        let cli = Cli::parse_from([
            "chatcap",
            "--quiet",
            "loadtest",
            "--host",
            "http://127.0.0.1:9",
            "--duration",
            "2s",
            "--target",
            path.to_str().expect("utf-8 path"),
        ]);
        let err = chatcap::run(cli, &mut Vec::new()).expect_err("refused");
        assert_eq!(err.exit_code(), 2, "{err}");
        let text = err.to_string();
        assert!(
            text.contains(name) && !text.contains("cannot reach"),
            "{text}"
        );
        text
    };
    let e = run("op.toml", "[[agent.close]]", "[[agent.end]]");
    assert!(
        e.contains("unknown operation agent.end") && e.contains("agent.close"),
        "{e}"
    );
    let e = run("var.toml", "{chat.id}/close", "{chat.number_}/close");
    assert!(
        e.contains("agent.close") && e.contains("{chat.number_}"),
        "{e}"
    );
    let e = run(
        "pointer.toml",
        "\"agent.token\" = \"/token\"",
        "\"agent.token\" = \"token\"",
    );
    assert!(e.contains("agent.login") && e.contains("\"/token\""), "{e}");
    let e = run(
        "auth.toml",
        "[auth.customer]\nheader = { \"X-Chat-Token\" = \"{chat.token}\" }\n",
        "",
    );
    assert!(e.contains("no [auth.customer]"), "{e}");
    // A --var the file does not have, and a missing file.
    let cli = Cli::parse_from([
        "chatcap",
        "--quiet",
        "loadtest",
        "--host",
        "http://127.0.0.1:9",
        "--duration",
        "2s",
        "--var",
        "inbox=x",
    ]);
    let err = chatcap::run(cli, &mut Vec::new()).expect_err("refused");
    assert!(err.to_string().contains("--var inbox"), "{err}");
    assert_eq!(err.exit_code(), 2);
}

#[test]
fn answers_the_target_does_not_expect_are_counted_per_call() {
    let _goose = GOOSE.lock().unwrap_or_else(|p| p.into_inner());
    let dir = tempfile::tempdir().expect("temp dir");
    let profile_path = dir.path().join("p.toml");
    std::fs::write(&profile_path, PROFILE).expect("write profile");
    // The create call captures a value chatcap's answer does not have.
    let builtin = std::fs::read_to_string(repo("targets/chatcap.toml")).expect("built-in");
    let from = "\"chat.shown_wait\" = \"/estimated_wait_secs\"";
    assert!(builtin.contains(from));
    let target = dir.path().join("odd.toml");
    std::fs::write(
        &target,
        builtin.replace(from, "\"chat.shown_wait\" = \"/eta\""),
    )
    .expect("write");
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
        "--target",
        target.to_str().expect("utf-8 path"),
        "--agent-token",
        super::TOKEN,
        "--duration",
        "3s",
        "--time-scale",
        "60",
        "--agents",
        "6",
        "--drain",
        "5s",
    ]);
    chatcap::run(cli, &mut Vec::new()).expect("the run completes");
    server.stop();
    let summary: Value =
        serde_json::from_slice(&std::fs::read(&summary_path).expect("summary")).expect("JSON");
    let chats = &summary["chats"];
    let failed = count(&chats["create_failed"]);
    assert!(failed > 10, "{chats}");
    let create = &summary["http"]["endpoints"]["create_chat"];
    assert_eq!(count(&create["failures"]), failed, "{create}");
    let errors = summary["errors"].as_object().expect("errors");
    let key = errors
        .keys()
        .find(|k| k.starts_with("create_chat: 201 without /eta"))
        .unwrap_or_else(|| panic!("{errors:?}"));
    assert_eq!(count(&errors[key]), failed);
    // The server made those chats: the books say they do not balance.
    assert_eq!(chats["conserved"], false, "{chats}");
    assert!(count(&chats["server"]["created"]) >= failed, "{chats}");
}
