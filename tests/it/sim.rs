//! Simulator validation against queueing theory, and determinism.
//!
//! Each case simulates a long stationary day (warm-up discarded) with a fixed seed and checks
//! that the closed-form value lies within 3 standard errors of the simulated mean (the standard
//! error taken from the replications' 95% interval). The seed is fixed, so the test is
//! repeatable; a biased simulator fails it.

use chatcap::metrics::Estimate;
use chatcap::profile;
use chatcap::sim::{self, Scenario, SimulationReport, Staffing};

/// A one-queue, one-group profile with constant volume over `hours` hours.
fn stationary(
    per_hour: f64,
    aht: &str,
    handle_dist: &str,
    patience: Option<&str>,
    concurrency: u32,
    threshold: &str,
) -> String {
    let patience = patience
        .map(|p| format!("patience = {{ dist = \"exponential\", mean = \"{p}\" }}"))
        .unwrap_or_default();
    format!(
        r#"
name = "stationary"
interval = "1h"
start = "00:00"
intervals = 24

[targets]
service_level = 0.8
threshold = "{threshold}"

[routing]
accept = "auto"

[simulation]
replications = 20
seed = 11
warmup = "2h"

[[queues]]
name = "q"
volume = {per_hour}
handle_time = {handle_dist}
{patience}

[[agents]]
name = "a"
skills = ["q"]
concurrency = {concurrency}
slowdown = 0.0
shrinkage = 0.0
"#,
        handle_dist = handle_dist.replace("AHT", aht),
    )
}

/// Simulates profile `toml` with `agents` on duty in its one group all day, with `seed`.
pub(super) fn run(toml: &str, agents: u32, seed: u64) -> SimulationReport {
    let mut p = profile::parse(toml, "test.toml", None).expect("test profile is valid");
    p.simulation.seed = seed;
    let staffing = Staffing::constant(1, p.intervals, agents);
    let scenario = Scenario::new(&p, &staffing).expect("scenario builds");
    sim::simulate(&scenario, p.simulation.replications, None, &|| {}).expect("simulation runs")
}

/// Asserts that `theory` is within 3 standard errors of the estimate (plus `extra_se` for a
/// reference value that has its own uncertainty).
fn assert_close(name: &str, e: &Estimate, theory: f64, extra_se: f64) {
    let se = (e.ci_high - e.ci_low) / 2.0 / 2.093; // t(0.975, 19 df) for 20 replications
    let tolerance = 3.0 * (se * se + extra_se * extra_se).sqrt();
    assert!(
        (e.mean - theory).abs() <= tolerance,
        "{name}: simulated {:.5} [{:.5}, {:.5}] vs theory {theory:.5} (tolerance {tolerance:.5})",
        e.mean,
        e.ci_low,
        e.ci_high
    );
    assert!(se > 0.0, "{name}: degenerate interval");
    eprintln!("{name}: {:.5} vs {theory:.5} tol {tolerance:.5}", e.mean);
}

const EXP: &str = r#"{ dist = "exponential", mean = "AHT" }"#;

#[test]
fn mmc_matches_erlang_c() {
    // EC1: 100 chats per 30 min, AHT 180 s, 14 agents, 20 s threshold.
    let report = run(&stationary(200.0, "180s", EXP, None, 1, "20s"), 14, 101);
    let s = &report.summary.overall;
    assert_close(
        "service level",
        &s.service_level,
        0.888_350_019_179_466_9,
        0.0,
    );
    assert_close("P(wait)", &s.prob_wait, 0.174_131_933_595_049_8, 0.0);
    assert_close("ASA", &s.asa_secs, 7.835_937, 0.0);
    assert_close(
        "occupancy",
        &report.summary.agents.occupancy,
        10.0 / 14.0,
        0.0,
    );
    assert_eq!(report.chats.abandoned, 0);
    assert_eq!(report.chats.stranded, 0);
}

#[test]
fn mmc_plus_m_matches_erlang_a() {
    // EA1: 200 per hour, AHT 180 s, patience 120 s, 13 agents, 20 s threshold.
    let report = run(
        &stationary(200.0, "180s", EXP, Some("120s"), 1, "20s"),
        13,
        202,
    );
    let s = &report.summary.overall;
    assert_close("P(abandon)", &s.abandon_rate, 0.03843, 0.0);
    assert_close("service level offered", &s.service_level, 0.88855, 0.0);
    assert_close(
        "service level answered",
        &s.service_level_answered,
        0.92406,
        0.0,
    );
    assert_close("P(wait)", &s.prob_wait, 0.19372, 0.0);
    assert_close("mean wait all", &s.mean_wait_secs, 4.6112, 0.0);
    assert_close("ASA answered", &s.asa_secs, 3.9388, 0.0);
    assert_close("occupancy", &report.summary.agents.occupancy, 0.73967, 0.0);
}

#[test]
fn chat_concurrency_without_slowdown_matches_erlang_a_on_slots() {
    // 600 per hour, AHT 600 s, patience 120 s, 36 agents x 3 slots = Erlang A with 108 servers.
    let report = run(
        &stationary(600.0, "600s", EXP, Some("120s"), 3, "30s"),
        36,
        303,
    );
    let s = &report.summary.overall;
    assert_close("P(wait)", &s.prob_wait, 0.1493, 0.0);
    assert_close("P(abandon)", &s.abandon_rate, 0.0213, 0.0);
    assert_close("service level offered", &s.service_level, 0.9557, 0.0);
    assert_close(
        "chats per agent",
        &report.summary.agents.mean_concurrency,
        2.7185,
        0.0,
    );
}

#[test]
fn mgc_lognormal_matches_reference() {
    // Lognormal handle time, mean 300 s, cv 1; 2000 per hour; 178 agents; 30 s threshold.
    // Reference values carry their own 95% intervals (Ciw, long runs).
    let lognormal = r#"{ dist = "lognormal", mean = "AHT", cv = 1.0 }"#;
    let report = run(
        &stationary(2000.0, "300s", lognormal, None, 1, "30s"),
        178,
        404,
    );
    let s = &report.summary.overall;
    assert_close("mean wait", &s.asa_secs, 7.47, 0.61 / 1.96);
    assert_close("P(wait)", &s.prob_wait, 0.2944, 0.0126 / 1.96);
    assert_close("service level", &s.service_level, 0.9116, 0.0080 / 1.96);
}

#[test]
fn same_seed_same_json_whatever_the_thread_count() {
    let p = profile::default_profile().expect("default profile");
    let staffing = chatcap::plan::analytic_staffing(&p).expect("analytic staffing");
    let scenario = Scenario::new(&p, &staffing).expect("scenario");
    let json = |threads| {
        let report = sim::simulate(&scenario, 6, Some(threads), &|| {}).expect("runs");
        let mut value = serde_json::to_value(&report).expect("serializes");
        value.as_object_mut().expect("object").remove("perf");
        serde_json::to_string(&value).expect("prints")
    };
    let one = json(1);
    assert_eq!(one, json(2));
    let other_seed = {
        let mut p = p.clone();
        p.simulation.seed = 99;
        let scenario = Scenario::new(&p, &staffing).expect("scenario");
        let report = sim::simulate(&scenario, 6, Some(2), &|| {}).expect("runs");
        let mut value = serde_json::to_value(&report).expect("serializes");
        value.as_object_mut().expect("object").remove("perf");
        serde_json::to_string(&value).expect("prints")
    };
    assert_ne!(one, other_seed, "a different seed must change the figures");
}

#[test]
fn conservation_every_chat_ends_once() {
    let p = profile::default_profile().expect("default profile");
    let staffing = chatcap::plan::analytic_staffing(&p).expect("analytic staffing");
    let scenario = Scenario::new(&p, &staffing).expect("scenario");
    let report = sim::simulate(&scenario, 4, None, &|| {}).expect("runs");
    let c = report.chats;
    assert_eq!(c.arrivals, c.bot_resolved + c.offered);
    assert_eq!(
        c.offered,
        c.answered + c.abandoned + c.short_abandoned + c.rejected + c.stranded
    );
    assert!(c.arrivals > 10_000);
}

/// Runs the CLI in-process and returns (result, stdout).
fn cli(args: &[&str]) -> (chatcap::Result<()>, String) {
    use clap::Parser;
    let mut out = Vec::new();
    let result = chatcap::run(chatcap::Cli::parse_from(args), &mut out);
    (result, String::from_utf8(out).expect("utf-8 output"))
}

#[test]
fn zero_staffing_strands_chats_with_a_warning_not_a_hang() {
    // Nobody on duty and nobody abandons: every chat waits until the day's end.
    let report = run(&stationary(100.0, "180s", EXP, None, 1, "20s"), 0, 1);
    assert!(report.chats.offered > 0);
    assert_eq!(report.chats.stranded, report.chats.offered);
    assert_eq!(report.chats.answered, 0);
    assert!(
        report
            .warnings
            .iter()
            .any(|w| w.contains("still waiting at the end of the day")),
        "{:?}",
        report.warnings
    );
    // With patience, the same day ends with every chat abandoned instead.
    let report = run(&stationary(100.0, "180s", EXP, Some("60s"), 1, "20s"), 0, 1);
    assert_eq!(report.chats.stranded, 0);
    assert_eq!(report.chats.answered, 0);
    assert_eq!(
        report.chats.abandoned + report.chats.short_abandoned,
        report.chats.offered
    );
    assert_eq!(report.summary.overall.service_level.mean, 0.0);
}

#[test]
fn simulate_command_prints_the_json_contract() {
    let (result, out) = cli(&[
        "chatcap",
        "simulate",
        "--replications",
        "2",
        "--format",
        "json",
    ]);
    result.expect("simulate runs on the embedded default profile");
    let json: serde_json::Value = serde_json::from_str(&out).expect("valid JSON");
    for key in ["summary", "intervals", "perf", "chats", "warnings"] {
        assert!(json.get(key).is_some(), "missing key {key}");
    }
    let overall = &json["summary"]["overall"];
    for key in [
        "service_level",
        "asa_secs",
        "abandon_rate",
        "aht_secs",
        "frt_p90_secs",
        "fcr",
    ] {
        let e = &overall[key];
        assert!(
            e["mean"].is_number() && e["ci_low"].is_number() && e["ci_high"].is_number(),
            "{key}: {e}"
        );
    }
    assert!(json["summary"]["queues"]["orders"].is_object());
    for key in ["chats", "events", "elapsed_secs", "chats_per_sec"] {
        assert!(json["perf"][key].is_number(), "perf.{key}");
    }
    let rows = json["intervals"].as_array().expect("intervals array");
    assert_eq!(rows.len(), 28 * 3, "one row per interval and queue");
    assert_eq!(rows[0]["start"], "08:00");
}

#[test]
fn simulate_command_other_formats() {
    let (result, csv) = cli(&["chatcap", "simulate", "-r", "2", "--format", "csv"]);
    result.expect("csv");
    let mut lines = csv.lines();
    assert!(
        lines
            .next()
            .expect("header")
            .starts_with("start,interval,queue,abandon_rate,abandon_rate_ci_low")
    );
    assert_eq!(lines.count(), 28 * 3);
    let (result, md) = cli(&["chatcap", "simulate", "-r", "2", "--format", "markdown"]);
    result.expect("markdown");
    assert!(md.contains("| start | queue |"));
    let (result, table) = cli(&["chatcap", "simulate", "-r", "2"]);
    result.expect("table");
    assert!(table.contains("Whole day per queue"));
}

/// Every `{mean, ci_low, ci_high}` in `value`, with its path.
fn estimates<'a>(
    value: &'a serde_json::Value,
    path: String,
    out: &mut Vec<(String, &'a serde_json::Value)>,
) {
    match value {
        serde_json::Value::Object(map) if map.contains_key("ci_low") => out.push((path, value)),
        serde_json::Value::Object(map) => {
            for (k, v) in map {
                estimates(v, format!("{path}.{k}"), out);
            }
        }
        serde_json::Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                estimates(v, format!("{path}[{i}]"), out);
            }
        }
        _ => {}
    }
}

#[test]
fn confidence_bounds_stay_within_each_figures_range() {
    // Three replications of a day with quiet intervals: Student-t intervals of waits and counts
    // near zero reach below it, and of shares near 100% above it, unless clipped.
    let (result, json) = cli(&["chatcap", "simulate", "-r", "3", "--format", "json", "-q"]);
    result.expect("simulate");
    let json: serde_json::Value = serde_json::from_str(&json).unwrap();
    let mut found = Vec::new();
    estimates(&json, String::new(), &mut found);
    assert!(found.len() > 1000, "{} estimates", found.len());
    let shares = [
        "service_level",
        "service_level_answered",
        "abandon_rate",
        "prob_wait",
        "fcr",
        "bot_resolved",
        "transfer_rate",
        "occupancy",
        "utilization",
    ];
    let (mut at_zero, mut at_one) = (0, 0);
    for (path, e) in found {
        let (low, high) = (e["ci_low"].as_f64(), e["ci_high"].as_f64());
        let (Some(low), Some(high)) = (low, high) else {
            continue;
        };
        assert!(low >= 0.0, "{path}: ci_low {low}");
        assert!(low <= high, "{path}: {low} > {high}");
        at_zero += usize::from(low == 0.0 && e["mean"].as_f64() > Some(0.0));
        if shares.iter().any(|s| path.ends_with(&format!(".{s}"))) {
            assert!(high <= 1.0, "{path}: ci_high {high}");
            at_one += usize::from(high == 1.0 && e["mean"].as_f64() < Some(1.0));
        }
    }
    // The clipping was needed: some intervals met a bound of their range.
    assert!(at_zero > 0 && at_one > 0, "{at_zero} {at_one}");
}

#[test]
fn simulate_command_rejects_bad_flags_with_exit_code_2() {
    for (args, needle) in [
        (
            vec!["chatcap", "simulate", "--replications", "0"],
            "--replications",
        ),
        (vec!["chatcap", "simulate", "--threads", "0"], "--threads"),
        (
            vec!["chatcap", "simulate", "--replications", "4294967295"],
            "--replications: 4294967295; give 1 to 10000",
        ),
        (
            vec!["chatcap", "simulate", "--threads", "100000"],
            "--threads: 100000; give at most 256",
        ),
        (
            vec!["chatcap", "simulate", "--html", "-"],
            "--html: - would write the HTML report to standard output",
        ),
        (
            vec![
                "chatcap",
                "simulate",
                "--profile",
                "/nonexistent/profile.toml",
            ],
            "/nonexistent/profile.toml",
        ),
    ] {
        let (result, _) = cli(&args);
        let err = result.expect_err("must fail");
        assert_eq!(err.exit_code(), 2, "{err}");
        assert!(err.to_string().contains(needle), "{err}");
    }
}

#[test]
fn simulate_judges_the_profiles_targets() {
    // 100 chats an hour of 3 minutes: 5 erlangs of work. Four agents cannot keep up; twelve
    // answer nearly everyone at once.
    let toml = stationary(100.0, "180s", EXP, Some("60s"), 1, "20s");
    let under = run(&toml, 4, 1);
    assert!(!under.targets_met);
    let measured: Vec<_> = under
        .intervals
        .iter()
        .filter(|r| r.figures.offered.mean > 0.0)
        .collect();
    assert!(measured.len() >= 20, "rows after the warm-up");
    for r in measured {
        assert!(!r.targets_met, "{} {:?}", r.start, r.figures.service_level);
        assert!(
            r.shortfalls[0].starts_with("q: service level") && r.shortfalls[0].contains("below 80"),
            "{:?}",
            r.shortfalls
        );
    }
    assert!(under.shortfalls[0].starts_with("q: service level"));
    assert!(
        under.warnings[0].starts_with("the profile's targets are missed in"),
        "{:?}",
        under.warnings
    );

    let staffed = run(&toml, 12, 1);
    assert!(staffed.targets_met, "{:?}", staffed.shortfalls);
    assert!(staffed.intervals.iter().all(|r| r.targets_met));
    assert!(staffed.shortfalls.is_empty());
    assert!(
        staffed
            .warnings
            .iter()
            .all(|w| !w.contains("targets are missed"))
    );
}

#[test]
fn the_bank_example_serves_its_vip_queue_over_the_day() {
    let (result, out) = cli(&[
        "chatcap",
        "simulate",
        "--profile",
        concat!(env!("CARGO_MANIFEST_DIR"), "/profiles/bank-24x7.toml"),
        "--format",
        "json",
        "--quiet",
    ]);
    result.unwrap();
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    let private = &report["summary"]["queues"]["private"];
    // Private bankers pulled into retail chats left VIP clients at 36% service level.
    assert!(
        private["service_level"]["mean"].as_f64().unwrap() >= 0.9,
        "{private}"
    );
    assert!(
        private["abandon_rate"]["mean"].as_f64().unwrap() <= 0.01,
        "{private}"
    );
    assert_eq!(report["shortfalls"], serde_json::json!([]));
}

/// Every driver reads a group's slowdown from the scenario: its factors are the profile's,
/// for a linear slowdown and for a list of levels (beyond the cap, the factor at the cap),
/// and each queue's routing setup is the profile's queue.
#[test]
fn scenario_groups_carry_the_profiles_slowdown_and_queues_their_routing_setup() {
    let base = stationary(60.0, "3m", EXP, None, 4, "20s");
    for (slowdown, factors) in [
        ("slowdown = 0.25", [1.0, 1.0, 1.25, 1.5, 1.75]),
        ("slowdown = [1.0, 1.2, 1.5, 1.6]", [1.0, 1.0, 1.2, 1.5, 1.6]),
    ] {
        let toml = base.replace("slowdown = 0.0", slowdown);
        let p = profile::parse(&toml, "slowdown.toml", None).expect("profile parses");
        let spec = &p.agents[0];
        let staffing = Staffing::constant(1, p.intervals, 3);
        let sc = Scenario::new(&p, &staffing).expect("scenario compiles");
        let group = &sc.groups[0];
        assert_eq!(group.slowdown, factors, "{slowdown}");
        for n in 0..=6 {
            let expected = factors[(n as usize).min(4)];
            assert_eq!(group.slowdown_at(n), expected, "{slowdown}: {n} chats");
            assert_eq!(
                spec.slowdown.factor(n.min(4)),
                expected,
                "{slowdown}: {n} chats"
            );
        }
        assert_eq!(
            group.factor_at_cap(),
            spec.slowdown.factor(spec.concurrency)
        );
        assert_eq!(group.factor_at_cap(), factors[4]);
        let configs = sc.queue_configs();
        assert_eq!(configs.len(), p.queues.len());
        assert_eq!(configs[0].name, p.queues[0].name);
        assert_eq!(configs[0].skill, p.queues[0].skill);
        assert_eq!(configs[0].priority, p.queues[0].priority);
        assert_eq!(configs[0].max_len, Some(p.queues[0].max_queue));
        assert_eq!(sc.serving_groups(), p.serving_groups());
    }
}

/// A transfer into a full queue is refused and the agent finishes the chat: the run goes on,
/// every chat still ends once, and chats were both transferred and kept.
#[test]
fn a_transfer_into_a_full_queue_is_refused_and_the_chat_closed() {
    let toml = r#"
name = "transfer into a full queue"
interval = "30m"
intervals = 2

[simulation]
replications = 4

[[queues]]
name = "support"
volume = [200, 200]
handle_time = { dist = "exponential", mean = "4m" }
transfer = { share = 0.6, to = "sales" }

[[queues]]
name = "sales"
volume = [40, 40]
max_queue = 2
handle_time = { dist = "exponential", mean = "8m" }

[[agents]]
name = "all"
skills = ["support", "sales"]
"#;
    let mut p = profile::parse(toml, "test.toml", None).expect("test profile is valid");
    p.simulation.seed = 7;
    let staffing = Staffing::constant(1, p.intervals, 30);
    let scenario = Scenario::new(&p, &staffing).expect("scenario builds");
    let report = sim::simulate(&scenario, 4, None, &|| {}).expect("a refused transfer is no error");
    let c = report.chats;
    assert_eq!(
        c.offered,
        c.answered + c.abandoned + c.short_abandoned + c.rejected + c.stranded
    );
    assert!(c.rejected > 0, "sales was full at times: {c:?}");
    let support = &report.summary.queues["support"];
    let fcr = support.fcr.mean;
    assert!(
        fcr > 0.4 + 0.05 && fcr < 0.99,
        "some support chats were transferred and more were kept when sales was full: fcr {fcr}"
    );
}

/// Staffing steps within intervals (a roster's breaks) change who is on duty at their instant:
/// the staffed time integrates them exactly, and fewer agents mid-interval means longer waits.
#[test]
fn staffing_steps_within_intervals_take_effect_at_their_instant() {
    use chatcap::routing::SECOND;
    use chatcap::sim::{aggregate, simulate_runs, thread_pool};
    let toml = r#"
name = "steps"
interval = "30m"
start = "08:00"
intervals = 4
[simulation]
replications = 6
[[queues]]
name = "chat"
volume = 120
handle_time = { dist = "exponential", mean = "3m" }
patience = { dist = "exponential", mean = "5m" }
[[agents]]
name = "desk"
skills = ["chat"]
"#;
    let profile = chatcap::profile::parse(toml, "steps.toml", None).unwrap();
    let staffing = Staffing::constant(1, 4, 16);
    let pool = thread_pool(Some(2)).unwrap();
    let run = |steps: Vec<(u64, u32)>| {
        let mut sc = Scenario::new(&profile, &staffing).unwrap();
        sc.groups[0].set_steps(steps);
        let (runs, perf) = simulate_runs(&sc, 6, &pool, &|| {}).unwrap();
        aggregate(&sc, &runs, perf)
    };
    let plain = run(Vec::new());
    // Interval 1 (08:30-09:00): 8 agents from 08:45 to 09:00 only.
    let minute = 60 * SECOND;
    let stepped = run(vec![(45 * minute, 8), (60 * minute, 16)]);
    let staffed = |r: &SimulationReport, i: usize| r.agent_intervals[i].figures.staffed_agents.mean;
    assert!((staffed(&plain, 1) - 16.0).abs() < 1e-9);
    assert!(
        (staffed(&stepped, 1) - 12.0).abs() < 1e-9,
        "{}",
        staffed(&stepped, 1)
    );
    assert!((staffed(&stepped, 2) - 16.0).abs() < 1e-9);
    assert!((staffed(&stepped, 0) - 16.0).abs() < 1e-9);
    let wait = |r: &SimulationReport| r.intervals[1].figures.mean_wait_secs.mean;
    assert!(
        wait(&stepped) > wait(&plain) + 1.0,
        "{} vs {}",
        wait(&stepped),
        wait(&plain)
    );
}

/// A fork deep into a horizon leaves out the tallies that can no longer change, and restoring
/// it gives the engine back exactly: run on from the restored fork, the replication ends with
/// the tallies of one uninterrupted run.
#[test]
fn a_restored_fork_runs_on_as_the_engine_it_was_made_of() {
    use chatcap::routing::SECOND;
    use chatcap::sim::Engine;
    let toml = r#"
name = "fork"
interval = "30m"
start = "08:00"
intervals = 8
[simulation]
replications = 1
[[queues]]
name = "chat"
volume = [200, 240, 260, 240, 220, 200, 180, 160]
handle_time = { dist = "lognormal", mean = "4m", cv = 0.8 }
patience = { dist = "exponential", mean = "3m" }
[[agents]]
name = "desk"
skills = ["chat"]
concurrency = 2
"#;
    let profile = chatcap::profile::parse(toml, "fork.toml", None).unwrap();
    let sc = Scenario::new(&profile, &Staffing::constant(1, 8, 16)).unwrap();
    let half_hour = 1800 * SECOND;
    let whole = Engine::new(&sc, 3).unwrap().finish().unwrap().0;

    let mut engine = Engine::new(&sc, 3).unwrap();
    engine.run_until(5 * half_hour).unwrap();
    let fork = engine.fork(5);
    // The first interval's chats have all left: the fork does not carry its tallies.
    assert_eq!(fork.tallies().queues[0].offered(), 0);
    assert_eq!(
        engine.tallies().queues[0].offered(),
        whole.queues[0].offered()
    );
    assert!(
        fork.tallies().queues[4].offered() > 0,
        "interval 4 is carried"
    );
    engine.run_until(7 * half_hour).unwrap();
    engine.restore(&fork);
    let restored = engine.finish().unwrap().0;
    assert_eq!(format!("{restored:?}"), format!("{whole:?}"));
}
