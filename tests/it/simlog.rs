//! `chatcap simulate --log`: the chat log and agent log of the seed's replication tell the same
//! story as that replication's tallies, row by row and agent by agent.

use std::collections::BTreeMap;

use chatcap::chatlog::write::{write_agent_log, write_chat_log};
use chatcap::chatlog::{AgentRow, CHAT_COLUMNS, ChatRow};
use chatcap::metrics::{QueueKpis, QueueTally};
use chatcap::profile::{self, Calendar, Profile};
use chatcap::sim::chatlog::ChatLogObserver;
use chatcap::sim::{Engine, ReplicationTallies, Scenario, Staffing, run_replication};
use clap::Parser;
use jiff::Timestamp;

/// Six hours from 20:00 across midnight: a bot, a transfer, offers that time out (agents go
/// away), a first-response delay, a survey, and a short queue that refuses chats.
const PROFILE: &str = r#"
name = "log test"
interval = "30m"
start = "20:00"

[targets]
service_level = 0.8
threshold = "30s"

[routing]
accept = { timeout = "20s", misses_before_away = 1 }

[simulation]
replications = 3
seed = 7

[[queues]]
name = "orders"
volume = [60, 80, 100, 140, 120, 100, 80, 60, 40, 30, 20, 10]
handle_time = { dist = "lognormal", mean = "6m", cv = 0.8 }
patience = { dist = "exponential", mean = "2m" }
accept_delay = { dist = "exponential", mean = "8s" }
first_response = { dist = "exponential", mean = "15s" }
bot = { resolve_share = 0.2, time = { dist = "exponential", mean = "40s" } }
transfer = { share = 0.1, to = "billing" }
csat = { response = 0.3, score = 4.5, drop_per_minute = 0.2, floor = 1.5 }
max_queue = 6

[[queues]]
name = "billing"
volume = 30
handle_time = { dist = "exponential", mean = "5m" }
patience = { dist = "exponential", mean = "4m" }

[[agents]]
name = "tier1"
skills = ["orders", "billing"]
concurrency = 3
slowdown = 0.25
shrinkage = 0.0
staffing = [6, 8, 10, 10, 10, 8, 6, 5, 4, 3, 2, 2]
"#;

const CAP: usize = 3;

fn profile() -> Profile {
    profile::parse(PROFILE, "log.toml", None).expect("test profile is valid")
}

fn scenario(p: &Profile) -> Scenario {
    let staffing = Staffing::from_profile(p).expect("staffing given");
    Scenario::new(p, &staffing).expect("scenario builds")
}

/// Replication 0 followed by the log observer: its tallies and its rows.
fn logged(sc: &Scenario) -> (ReplicationTallies, ChatLogObserver) {
    let observer = ChatLogObserver::new(sc);
    Engine::with_observer(sc, 0, observer)
        .and_then(Engine::finish)
        .expect("replication runs")
}

/// Each queue's tally over the whole horizon.
fn per_queue(sc: &Scenario, tallies: &ReplicationTallies) -> Vec<QueueTally> {
    let nq = sc.queues.len();
    let mut merged = vec![QueueTally::default(); nq];
    for (i, t) in tallies.queues.iter().enumerate() {
        merged[i % nq].merge(t);
    }
    merged
}

#[test]
fn the_log_has_one_row_per_customer_agreeing_with_the_tallies() {
    let p = profile();
    let sc = scenario(&p);
    let (tallies, observer) = logged(&sc);
    // The observed replication is replication 0 itself.
    let plain = run_replication(&sc, 0).expect("replication runs");
    assert_eq!(plain.chats, tallies.chats);
    assert_eq!(plain.events, tallies.events);
    let rows: Vec<ChatRow> = observer.chat_rows(&p.calendar).collect();
    assert_eq!(rows.len() as u64, tallies.chats);
    let ids: std::collections::HashSet<_> = rows.iter().map(|r| &r.chat_id).collect();
    assert_eq!(ids.len(), rows.len(), "chat ids are unique");
    for (q, t) in per_queue(&sc, &tallies).iter().enumerate() {
        let name = &sc.queues[q].name;
        let mine: Vec<&ChatRow> = rows.iter().filter(|r| &r.queue == name).collect();
        let count = |f: &dyn Fn(&ChatRow) -> bool| mine.iter().filter(|r| f(r)).count() as u64;
        assert_eq!(count(&|_| true), t.arrivals(), "{name}: arrivals");
        assert_eq!(count(&|r| r.answered_at.is_some()), t.answered(), "{name}");
        let abandoned = t.abandoned() + t.short_abandoned();
        assert_eq!(count(&|r| r.abandoned_at.is_some()), abandoned, "{name}");
        assert_eq!(count(&|r| r.bot_resolved == Some(true)), t.bot_resolved());
        let rejected = |r: &ChatRow| r.answered_at.is_none() && r.closed_at == r.queued_at;
        assert_eq!(count(&rejected), t.rejected(), "{name}: rejected");
        let open = |r: &ChatRow| r.closed_at.is_none() && r.abandoned_at.is_none();
        assert_eq!(count(&open), t.stranded(), "{name}: never ended");
        let kpis = QueueKpis::from_tally(t);
        let transferred = count(&|r| r.transferred_to.is_some()) as f64;
        if t.answered() > 0 {
            assert!((transferred - kpis.transfer_rate * kpis.answered).abs() < 1e-6);
        }
        let scores: Vec<f64> = mine.iter().filter_map(|r| r.csat).collect();
        if !scores.is_empty() {
            let mean = scores.iter().sum::<f64>() / scores.len() as f64;
            assert!((mean - kpis.csat).abs() < 1e-9, "{name}: csat {mean}");
        }
    }
    // The profile exercises every kind of row.
    let any = |f: &dyn Fn(&ChatRow) -> bool| rows.iter().any(f);
    assert!(any(&|r| r.bot_resolved == Some(true)));
    assert!(any(&|r| r.abandoned_at.is_some()));
    assert!(any(
        &|r| r.transfer_answered_at.is_some() && r.transfer_agent_id.is_some()
    ));
    assert!(any(&|r| r.answered_at.is_none()
        && r.closed_at.is_some()
        && r.bot_resolved == Some(false)));
    assert!(any(&|r| r.csat.is_some()));
    assert!(
        any(&|r| r.offered_at < r.answered_at),
        "some offers were not accepted at once"
    );
}

#[test]
fn each_row_keeps_its_times_in_order() {
    let p = profile();
    let sc = scenario(&p);
    let (_, observer) = logged(&sc);
    for r in observer.chat_rows(&p.calendar) {
        let chain = [
            Some(r.created_at),
            r.queued_at,
            r.offered_at,
            r.answered_at,
            r.first_response_at,
        ];
        let present: Vec<Timestamp> = chain.iter().flatten().copied().collect();
        assert!(present.windows(2).all(|w| w[0] <= w[1]), "{r:?}");
        if let (Some(a), Some(c)) = (r.answered_at, r.closed_at) {
            assert!(a <= c, "{r:?}");
        }
        if let Some(t) = r.transferred_at {
            assert!(r.answered_at.is_some_and(|a| a <= t), "{r:?}");
            assert!(r.transfer_answered_at.is_none_or(|s| t <= s), "{r:?}");
        }
        if r.answered_at.is_some() {
            assert!(
                r.agent_id.is_some() && r.offered_at.is_some() && r.first_response_at.is_some()
            );
            assert!(r.abandoned_at.is_none(), "{r:?}");
        }
        if r.bot_resolved == Some(true) {
            assert!(r.queued_at.is_none() && r.closed_at.is_some(), "{r:?}");
        }
    }
}

#[test]
fn no_agent_holds_more_chats_than_its_cap_in_the_log() {
    let p = profile();
    let sc = scenario(&p);
    let (_, observer) = logged(&sc);
    // (agent, time, +1 start / -1 end); ends sort before starts at the same instant.
    let mut changes: Vec<(String, Timestamp, i32)> = Vec::new();
    let far = Timestamp::MAX;
    for r in observer.chat_rows(&p.calendar) {
        if let (Some(agent), Some(from)) = (&r.agent_id, r.answered_at) {
            let to = r.transferred_at.or(r.closed_at).unwrap_or(far);
            changes.push((agent.clone(), from, 1));
            changes.push((agent.clone(), to, -1));
        }
        if let (Some(agent), Some(from)) = (&r.transfer_agent_id, r.transfer_answered_at) {
            changes.push((agent.clone(), from, 1));
            changes.push((agent.clone(), r.closed_at.unwrap_or(far), -1));
        }
    }
    changes.sort();
    let mut held: BTreeMap<String, i32> = BTreeMap::new();
    let mut peak = 0;
    for (agent, _, d) in &changes {
        let n = held.entry(agent.clone()).or_default();
        *n += d;
        assert!(*n >= 0 && *n as usize <= CAP, "{agent} holds {n}");
        peak = peak.max(*n);
    }
    assert_eq!(peak as usize, CAP, "the busy hours fill every slot");
    assert!(
        held.keys().all(|a| a.starts_with("tier1-0")),
        "{:?}",
        held.keys()
    );
}

#[test]
fn the_agent_log_covers_the_staffing() {
    let p = profile();
    let sc = scenario(&p);
    let (_, observer) = logged(&sc);
    let rows: Vec<AgentRow> = observer.agent_rows(&p.calendar).collect();
    let secs = |status: &str| -> f64 {
        rows.iter()
            .filter(|r| r.status == status)
            .map(|r| r.to.duration_since(r.from).as_secs_f64())
            .sum()
    };
    let staffed: u32 = sc.groups[0].staffing.iter().sum();
    let on_duty = secs("available") + secs("away");
    assert!(
        (on_duty - f64::from(staffed) * 1800.0).abs() < 1e-3,
        "{on_duty}"
    );
    assert!(secs("away") > 0.0, "timed-out offers send agents away");
    // Every agent's spans tile the horizon.
    let horizon = 12.0 * 1800.0;
    let mut per_agent: BTreeMap<&str, f64> = BTreeMap::new();
    for r in &rows {
        assert!(r.from < r.to && r.group == "tier1", "{r:?}");
        *per_agent.entry(&r.agent_id).or_default() += r.to.duration_since(r.from).as_secs_f64();
    }
    assert_eq!(per_agent.len(), 10);
    assert!(per_agent.values().all(|&s| (s - horizon).abs() < 1e-3));
    assert!(per_agent.contains_key("tier1-001") && per_agent.contains_key("tier1-010"));
}

/// Runs `chatcap` in-process and returns its standard output.
fn run(args: &[&str]) -> Result<String, chatcap::Error> {
    let mut out = Vec::new();
    chatcap::run(
        chatcap::Cli::try_parse_from(args).expect("arguments parse"),
        &mut out,
    )?;
    Ok(String::from_utf8(out).expect("utf-8 output"))
}

#[test]
fn the_same_seed_writes_the_same_log_and_the_report_is_unchanged() {
    let dir = tempfile::tempdir().expect("temp dir");
    let prof = dir.path().join("log.toml");
    std::fs::write(&prof, PROFILE).expect("profile written");
    let path = |name: &str| dir.path().join(name).to_string_lossy().into_owned();
    let prof = prof.to_string_lossy().into_owned();
    let base = [
        "chatcap",
        "--quiet",
        "--format",
        "json",
        "simulate",
        "--profile",
        &prof,
    ];
    let logged_run = |chats: &str, agents: &str, seed: &str| {
        let mut args = base.to_vec();
        args.extend(["--seed", seed, "--log", chats, "--agent-log", agents]);
        run(&args).expect("simulate --log runs")
    };
    let (a, b, c) = (path("a.csv"), path("b.csv"), path("c.csv"));
    let with_log = logged_run(&a, &path("a-agents.csv"), "7");
    logged_run(&b, &path("b-agents.csv"), "7");
    logged_run(&c, &path("c-agents.csv"), "8");
    let read = |p: &str| std::fs::read(p).expect("log written");
    assert_eq!(read(&a), read(&b));
    assert_eq!(read(&path("a-agents.csv")), read(&path("b-agents.csv")));
    assert_ne!(read(&a), read(&c), "another seed, another day");
    let text = String::from_utf8(read(&a)).expect("utf-8 log");
    assert_eq!(text.lines().next(), Some(CHAT_COLUMNS.join(",").as_str()));
    let agents = String::from_utf8(read(&path("a-agents.csv"))).expect("utf-8 log");
    assert_eq!(agents.lines().next(), Some("agent_id,group,status,from,to"));
    // The report covers every replication, as without --log (timings aside).
    let mut without = base.to_vec();
    without.extend(["--seed", "7"]);
    let without = run(&without).expect("simulate runs");
    let strip = |s: &str| {
        let mut v: serde_json::Value = serde_json::from_str(s).expect("json report");
        v.as_object_mut().expect("object").remove("perf");
        v
    };
    assert_eq!(strip(&with_log), strip(&without));
}

#[test]
fn a_log_to_standard_output_beside_the_report_is_refused() {
    let err = run(&["chatcap", "simulate", "--log", "-"]).expect_err("refused");
    assert!(err.to_string().contains("--log"), "{err}");
    assert_eq!(err.exit_code(), 2);
    let err =
        run(&["chatcap", "simulate", "--log", "/nonexistent-dir/chats.csv"]).expect_err("refused");
    assert!(
        err.to_string().contains("/nonexistent-dir/chats.csv"),
        "{err}"
    );
}

#[test]
fn a_log_across_midnight_carries_dates_and_the_zones_offset() {
    let mut p = profile();
    let sc = scenario(&p);
    let (_, observer) = logged(&sc);
    let dates: std::collections::BTreeSet<String> = observer
        .chat_rows(&p.calendar)
        .map(|r| r.created_at.to_string()[..10].to_string())
        .collect();
    assert_eq!(
        dates.into_iter().collect::<Vec<_>>(),
        ["1970-01-01", "1970-01-02"]
    );
    // The same day placed in Paris in winter: local times with +01:00, into the next date.
    let zone = jiff::tz::TimeZone::get("Europe/Paris").expect("bundled zone");
    let start: Timestamp = "2026-12-07T19:00:00Z".parse().expect("instant");
    p.calendar = Calendar {
        zone: zone.clone(),
        zone_name: "Europe/Paris".to_string(),
        start,
        dated: true,
    };
    let mut out = Vec::new();
    write_chat_log(&mut out, observer.chat_rows(&p.calendar), &zone).expect("written");
    let text = String::from_utf8(out).expect("utf-8");
    let first = text.lines().nth(1).expect("a row");
    assert!(first.contains(",2026-12-07T20:0"), "{first}");
    assert!(first.contains("+01:00"), "{first}");
    assert!(text.contains(",2026-12-08T0"), "the log crosses midnight");
    let mut agents = Vec::new();
    write_agent_log(&mut agents, observer.agent_rows(&p.calendar), &zone).expect("written");
    let agents = String::from_utf8(agents).expect("utf-8");
    let late = "tier1-010,tier1,offline,2026-12-07T20:00:00+01:00,2026-12-07T21:00:00+01:00";
    assert!(agents.contains(late), "{agents}");
}

#[test]
fn the_chat_log_reads_back_as_written() {
    let p = profile();
    let sc = scenario(&p);
    let (_, observer) = logged(&sc);
    let rows: Vec<ChatRow> = observer.chat_rows(&p.calendar).collect();
    let mut out = Vec::new();
    write_chat_log(&mut out, &rows, &p.calendar.zone).expect("written");
    let options = chatcap::chatlog::read::ReadOptions::default();
    let back = chatcap::chatlog::read::read_chat_log(&out[..], "chats.csv", &options)
        .expect("the written log reads");
    assert_eq!(back.len(), rows.len());
    for (read, written) in back.iter().zip(&rows) {
        assert_eq!(read, written);
    }
}
