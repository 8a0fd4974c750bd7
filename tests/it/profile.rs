//! Profiles: the shipped files parse and validate, and every kind of bad input is rejected with a
//! one-line message naming the file, the line, the field and the fix (exit code 2).

use std::path::{Path, PathBuf};

use chatcap::Cli;
use chatcap::profile::duration::{format_duration, parse_duration};
use chatcap::profile::{
    self, DistKind, ProfileError, Slowdown, clock_label, default_profile, load, parse,
};
use chatcap::routing::{AcceptMode, AgentSelection, ChatOrder, SECOND, TransferPlace};
use clap::Parser;

fn shipped(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("profiles")
        .join(name)
}

/// A small valid profile that the error tests break one key at a time.
const MINIMAL: &str = r#"name = "Test"
interval = "30m"
start = "08:00"

[targets]
service_level = 0.8

[[queues]]
name = "orders"
volume = [10, 20, 30]
handle_time = { dist = "lognormal", mean = "7m", cv = 0.8 }
transfer = { share = 0.05, to = "billing" }

[[queues]]
name = "billing"
volume = [5, 5, 5]
handle_time = { dist = "exponential", mean = "5m" }

[[agents]]
name = "tier1"
skills = ["orders", { name = "billing", proficiency = 8 }]
concurrency = 3
slowdown = 0.25
shrinkage = 0.3
"#;

fn parse_text(text: &str) -> Result<profile::Profile, ProfileError> {
    parse(text, "test.toml", None)
}

/// Replaces `from` (which must occur) in MINIMAL and returns the error of the result.
fn error_with(from: &str, to: &str) -> ProfileError {
    assert!(MINIMAL.contains(from), "{from:?} not in MINIMAL");
    let text = MINIMAL.replacen(from, to, 1);
    match parse_text(&text) {
        Ok(_) => panic!("expected an error after replacing {from:?} with {to:?}"),
        Err(e) => e,
    }
}

/// Asserts that each `(from, to, expected)` replacement in MINIMAL fails with `expected`.
fn assert_replacements_fail(cases: &[(&str, &str, &str)]) {
    for (from, to, expected) in cases {
        assert_error(&error_with(from, to), &[expected]);
    }
}

/// Asserts the error is a one-line bad-input error (exit code 2) containing every fragment.
fn assert_error(error: &ProfileError, fragments: &[&str]) {
    let message = error.to_string();
    assert!(!message.contains('\n'), "not one line: {message}");
    for fragment in fragments {
        assert!(
            message.contains(fragment),
            "{fragment:?} missing from: {message}"
        );
    }
    assert_eq!(chatcap::Error::from(error.clone()).exit_code(), 2);
}

#[test]
fn minimal_profile_validates_with_defaults() {
    let p = parse_text(MINIMAL).unwrap();
    assert_eq!(p.intervals, 3);
    assert_eq!(p.start_secs, 28_800.0);
    assert_eq!(p.interval_secs, 1800.0);
    assert_eq!(p.horizon_secs(), 5400.0);
    assert_eq!(p.source, "test.toml");
    assert_eq!(p.simulation.replications, 20);
    assert_eq!(p.simulation.seed, 1);
    assert_eq!(p.simulation.warmup_secs, 0.0);
    assert_eq!(p.targets.threshold_secs, 30.0);
    assert_eq!(p.targets.short_abandon_secs, 0.0);
    assert_eq!(p.targets.max_abandon, None);
    assert_eq!(p.routing.agent_selection, AgentSelection::LeastBusy);
    assert_eq!(
        p.routing.accept,
        AcceptMode::Offer {
            timeout: 30 * SECOND,
            misses_before_away: 1
        }
    );
    assert_eq!(
        p.routing.order,
        ChatOrder::Weighted {
            priority_weight: 60 * SECOND
        }
    );
    assert_eq!(p.routing.transfer_place, TransferPlace::Keep);
    let orders = &p.queues[0];
    assert_eq!(orders.skill, "orders");
    assert_eq!(orders.volume, vec![10.0, 20.0, 30.0]);
    assert_eq!(orders.aht_by_interval, vec![420.0; 3]);
    assert_eq!(orders.handle_time.kind, DistKind::Lognormal);
    assert_eq!(orders.handle_time.cv, 0.8);
    assert_eq!(orders.transfer.map(|t| t.to), Some(1));
    assert_eq!(p.queues[1].handle_time.cv, 1.0);
    assert!(orders.patience.is_none());
    let tier1 = &p.agents[0];
    assert_eq!(tier1.proficiency("orders"), Some(5));
    assert_eq!(tier1.proficiency("billing"), Some(8));
    assert_eq!(tier1.staffing, None);
    assert_eq!(p.queue_index("billing"), Some(1));
    assert_eq!(p.queue_index("nope"), None);
    assert_eq!(p.total_volume(), 75.0);
}

#[test]
fn every_queue_has_a_finite_max_queue_by_default() {
    let p = parse_text(MINIMAL).unwrap();
    assert_eq!(profile::DEFAULT_MAX_QUEUE, 10_000);
    for q in &p.queues {
        assert_eq!(q.max_queue, profile::DEFAULT_MAX_QUEUE, "queue {}", q.name);
    }
    let given =
        parse_text(&MINIMAL.replace("volume = [5, 5, 5]", "volume = [5, 5, 5]\nmax_queue = 40"))
            .unwrap();
    assert_eq!(given.queues[1].max_queue, 40);
    let err = error_with("volume = [5, 5, 5]", "volume = [5, 5, 5]\nmax_queue = 0");
    assert_error(&err, &["max_queue", "use 1 to", "default 10000"]);
}

#[test]
fn every_shipped_profile_validates() {
    let mut names: Vec<PathBuf> = std::fs::read_dir(shipped(""))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    names.sort();
    assert!(names.len() >= 3, "{names:?}");
    for path in names {
        let p = load(&path).unwrap_or_else(|e| panic!("{e}"));
        assert!(
            !p.queues.is_empty() && !p.agents.is_empty(),
            "{}",
            path.display()
        );
        for q in &p.queues {
            assert_eq!(q.volume.len(), p.intervals);
            assert_eq!(q.aht_by_interval.len(), p.intervals);
        }
        for a in &p.agents {
            if let Some(s) = &a.staffing {
                assert_eq!(s.len(), p.intervals);
            }
        }
    }
}

#[test]
fn embedded_default_matches_the_file() {
    let text = std::fs::read_to_string(shipped("default.toml")).unwrap();
    assert_eq!(profile::DEFAULT_PROFILE_TOML, text);
    let embedded = default_profile().unwrap();
    assert_eq!(embedded.source, "<embedded default>");
    let mut from_file = load(&shipped("default.toml")).unwrap();
    from_file.source = embedded.source.clone();
    assert_eq!(embedded, from_file);
    assert_eq!(profile::load_or_default(None).unwrap(), embedded);
}

#[test]
fn default_is_a_peak_retail_day_without_staffing() {
    let p = default_profile().unwrap();
    assert_eq!(p.intervals, 28);
    assert_eq!(p.interval_label(0), "08:00");
    assert_eq!(p.interval_label(27), "21:30");
    assert_eq!(p.interval_label(28), "22:00");
    assert!((2..=3).contains(&p.queues.len()));
    assert!(
        p.agents
            .iter()
            .all(|a| a.staffing.is_none() && a.concurrency == 3)
    );
    assert!(p.queues.iter().any(|q| q.bot.is_some()));
    assert!(p.queues.iter().any(|q| q.transfer.is_some()));
    for q in &p.queues {
        let peak = q.volume.iter().cloned().fold(0.0, f64::max);
        assert!((10.0..=400.0).contains(&peak), "{} peak {peak}", q.name);
        assert!((360.0..=600.0).contains(&q.handle_time.mean_secs));
        assert_eq!(q.handle_time.kind, DistKind::Lognormal);
    }
}

#[test]
fn bank_and_small_team_use_their_features() {
    let bank = load(&shipped("bank-24x7.toml")).unwrap();
    assert_eq!(bank.intervals, 48);
    assert_eq!(bank.start_secs, 0.0);
    assert_eq!(bank.interval_label(47), "23:30");
    assert_eq!(bank.routing.order, ChatOrder::Strict);
    assert!(bank.has_staffing());
    let vip = &bank.queues[bank.queue_index("private").unwrap()];
    assert_eq!(vip.skill, "vip");
    assert_eq!(vip.targets.service_level, 0.9);
    assert_eq!(vip.targets.threshold_secs, 20.0);
    // Not overridden: inherited from [targets].
    assert_eq!(vip.targets.max_occupancy, Some(0.85));
    assert!(vip.priority > bank.queues[0].priority);

    let small = load(&shipped("small-team.toml")).unwrap();
    assert_eq!(small.intervals, 16, "taken from the forecast");
    assert_eq!(small.routing.accept, AcceptMode::Auto);
    let support = &small.queues[0];
    assert_eq!(support.volume[0], 6.0);
    assert_eq!(support.aht_by_interval[0], 660.0);
    let sales = &small.queues[1];
    assert_eq!(
        sales.aht_by_interval,
        vec![360.0; 16],
        "empty aht_secs uses handle_time.mean"
    );
    assert_eq!(small.agents[1].staffing, Some(vec![1; 16]));
    assert_eq!(
        small.agents[1].slowdown,
        Slowdown::Levels(vec![1.0, 1.25, 1.6])
    );
    let first = support.first_response.as_ref().unwrap();
    assert_eq!(first.kind, DistKind::Empirical);
    // values 10, 15, 20, 30, 45 s: mean 24, population sd computed below.
    let values = [10.0, 15.0, 20.0, 30.0, 45.0];
    let var = values.iter().map(|v: &f64| (v - 24.0).powi(2)).sum::<f64>() / 5.0;
    assert_eq!(first.mean_secs, 24.0);
    assert!((first.cv - var.sqrt() / 24.0).abs() < 1e-12);
}

#[test]
fn interval_labels_wrap_past_midnight() {
    let text = MINIMAL.replace("start = \"08:00\"", "start = \"23:00\"");
    let p = parse_text(&text).unwrap();
    assert_eq!(p.interval_label(0), "23:00");
    assert_eq!(p.interval_label(1), "23:30");
    assert_eq!(p.interval_label(2), "00:00");
    assert_eq!(p.interval_clock_secs(2), 0.0);
    assert_eq!(clock_label(90.0), "00:01:30");
    assert_eq!(clock_label(86_400.0 + 3600.0), "01:00");
}

#[test]
fn durations_in_every_form() {
    assert_eq!(parse_duration("1h30m"), Ok(5400.0));
    assert_eq!(parse_duration("45"), Ok(45.0));
    assert_eq!(format_duration(450.0), "7m30s");
    let text = MINIMAL
        .replace("interval = \"30m\"", "interval = 900")
        .replace("mean = \"5m\"", "mean = 90.5");
    let p = parse_text(&text).unwrap();
    assert_eq!(p.interval_secs, 900.0);
    assert_eq!(p.queues[1].handle_time.mean_secs, 90.5);
    assert_eq!(p.interval_label(1), "08:15");
}

/// Durations take humantime's units; the spellings humantime lacks and chatcap took before (a
/// bare number of seconds, a fraction of an hour, a fraction without its leading or trailing
/// zero) still give the same seconds, and humantime's month (`M`, so near a minute's `m`) is
/// refused.
#[test]
fn durations_keep_the_spellings_humantime_lacks() {
    for (text, secs) in [
        ("\"90\"", 90.0),
        ("\"1e3\"", 1000.0),
        ("\".5m\"", 30.0),
        ("\"2.m\"", 120.0),
        ("\"1m.5s\"", 60.5),
        ("\"1h 30m\"", 5400.0),
        ("\"2min\"", 120.0),
        ("\"0.001h\"", 3.6),
    ] {
        let toml = MINIMAL.replace("mean = \"5m\"", &format!("mean = {text}"));
        let p = parse_text(&toml).unwrap_or_else(|e| panic!("{text}: {e}"));
        assert_eq!(p.queues[1].handle_time.mean_secs, secs, "{text}");
    }
    assert_replacements_fail(&[
        (
            "mean = \"5m\"",
            "mean = \"99999999999999999999h\"",
            "handle_time.mean = \"99999999999999999999h\" is longer than a year",
        ),
        (
            "mean = \"5m\"",
            "mean = \"5M\"",
            "handle_time.mean = \"5M\" is not a duration; months and years are not taken, write days",
        ),
        (
            "mean = \"5m\"",
            "mean = \"1..5m\"",
            "handle_time.mean = \"1..5m\" is not a duration; write a duration like",
        ),
    ]);
}

/// Policy names are the profile's spellings; an unknown one lists every right one.
#[test]
fn unknown_policy_names_list_the_spellings() {
    let text = format!("{MINIMAL}\n[routing]\nagent_selection = \"fastest\"\n");
    assert_error(
        &parse_text(&text).unwrap_err(),
        &[
            "routing.agent_selection = \"fastest\" is not an agent selection policy",
            "use \"least-busy\", \"longest-idle\", \"round-robin\" or \"most-skilled\"",
        ],
    );
    let text = format!("{MINIMAL}\n[routing]\ntransfer_place = \"front\"\n");
    assert_error(
        &parse_text(&text).unwrap_err(),
        &["routing.transfer_place = \"front\" is not a transfer place; use \"keep\" or \"reset\""],
    );
    let text = format!(
        "{MINIMAL}\n[routing]\nagent_selection = \"round-robin\"\ntransfer_place = \"reset\"\n"
    );
    let p = parse_text(&text).unwrap();
    assert_eq!(p.routing.agent_selection, AgentSelection::RoundRobin);
    assert_eq!(p.routing.transfer_place, TransferPlace::Reset);
    for selection in AgentSelection::ALL {
        let name = profile::policy_names::agent_selection_name(selection);
        assert_eq!(
            profile::policy_names::parse_agent_selection(name),
            Ok(selection)
        );
    }
}

#[test]
fn slowdown_factors() {
    assert_eq!(Slowdown::Linear(0.25).factor(1), 1.0);
    assert_eq!(Slowdown::Linear(0.25).factor(3), 1.5);
    let levels = Slowdown::Levels(vec![1.0, 1.2, 1.5]);
    assert_eq!(levels.factor(2), 1.2);
    assert_eq!(levels.factor(3), 1.5);
    assert_eq!(levels.factor(0), 1.0);
}

#[test]
fn single_number_volume_needs_intervals() {
    // With one list left (billing), its length sets the interval count.
    let text = MINIMAL.replace("volume = [10, 20, 30]", "volume = 12");
    assert_eq!(parse_text(&text).unwrap().queues[0].volume, vec![12.0; 3]);
    let text = MINIMAL
        .replace("volume = [10, 20, 30]", "volume = 12")
        .replace("volume = [5, 5, 5]", "volume = 5");
    let e = parse_text(&text).unwrap_err();
    assert_error(&e, &["test.toml", "intervals is missing", "intervals = N"]);
    let p =
        parse_text(&text.replace("start = \"08:00\"", "start = \"08:00\"\nintervals = 4")).unwrap();
    assert_eq!(p.queues[0].volume, vec![12.0; 4]);
}

#[test]
fn unknown_distribution_names_line_field_value_and_fix() {
    let e = error_with("dist = \"lognormal\"", "dist = \"lognorm\"");
    assert_eq!(
        e.to_string(),
        "test.toml:11: queues[0] \"orders\": handle_time.dist = \"lognorm\" is not a distribution; \
         use one of exponential, lognormal, gamma, weibull, deterministic, empirical"
    );
    assert_error(&e, &[]);
}

#[test]
fn negative_volume() {
    let e = error_with("[10, 20, 30]", "[10, -3, 30]");
    assert_error(
        &e,
        &[
            "test.toml:10:",
            "queues[0] \"orders\": volume[1] = -3 is negative",
            "0 or more",
        ],
    );
}

#[test]
fn zero_handle_time_mean() {
    let e = error_with("mean = \"7m\"", "mean = \"0s\"");
    assert_error(
        &e,
        &[
            "test.toml:11:",
            "handle_time.mean = \"0s\" must be at least 1ms",
            "mean = \"7m\"",
        ],
    );
}

#[test]
fn service_level_above_one() {
    let e = error_with("service_level = 0.8", "service_level = 1.2");
    assert_error(
        &e,
        &[
            "test.toml:6:",
            "targets.service_level = 1.2 is above 1",
            "(0, 1]",
        ],
    );
}

#[test]
fn unknown_key_is_a_typo_error() {
    let e = error_with("handle_time =", "handel_time =");
    assert_error(
        &e,
        &[
            "test.toml:11:",
            "queues[0] \"orders\"",
            "unknown field `handel_time`",
            "handle_time",
        ],
    );
    let e = error_with("[targets]", "[target]");
    assert_error(&e, &["test.toml:5:", "unknown field `target`"]);
}

#[test]
fn missing_required_fields() {
    let e = error_with(
        "handle_time = { dist = \"exponential\", mean = \"5m\" }\n",
        "",
    );
    assert_error(
        &e,
        &[
            "test.toml:14:",
            "queues[1] \"billing\": handle_time is missing",
            "add handle_time = {",
        ],
    );
    let e = error_with("name = \"Test\"\n", "");
    assert_error(&e, &["test.toml", "name is missing; add name ="]);
    let e = error_with("interval = \"30m\"\n", "");
    assert_error(&e, &["interval is missing; add interval = \"30m\""]);
    let e = error_with("dist = \"exponential\", ", "");
    assert_error(&e, &["queues[1] \"billing\": handle_time.dist is missing"]);
}

#[test]
fn wrong_types_name_the_field() {
    let e = error_with("concurrency = 3", "concurrency = \"three\"");
    assert_error(
        &e,
        &[
            "test.toml:22:",
            "agents[0] \"tier1\": concurrency:",
            "invalid type",
        ],
    );
}

#[test]
fn transfer_to_unknown_queue() {
    let e = error_with("to = \"billing\"", "to = \"biling\"");
    assert_error(
        &e,
        &[
            "test.toml:12:",
            "transfer.to = \"biling\" is not a queue of this profile; use one of billing",
        ],
    );
    let e = error_with("to = \"billing\"", "to = \"orders\"");
    assert_error(&e, &["transfer.to = \"orders\" is the queue itself"]);
}

#[test]
fn queue_with_no_agent_skill() {
    let e = error_with(", { name = \"billing\", proficiency = 8 }", "");
    assert_error(
        &e,
        &[
            "test.toml:14:",
            "queues[1] \"billing\": skill = \"billing\" is held by no agent group",
            "add \"billing\" to the skills",
            "tier1",
        ],
    );
    let e = error_with("skills = [\"orders\"", "skills = [\"ordrs\"");
    assert_error(
        &e,
        &[
            "agents[0] \"tier1\": skills[0] = \"ordrs\" is no queue's skill; use one of orders, billing",
        ],
    );
}

#[test]
fn wrong_list_lengths() {
    let e = error_with("[5, 5, 5]", "[5, 5]");
    assert_error(
        &e,
        &[
            "queues[1] \"billing\": volume has 2 entries but the profile has 3 intervals",
            "one volume per interval",
        ],
    );
    let e = error_with("shrinkage = 0.3", "shrinkage = 0.3\nstaffing = [4, 5]");
    assert_error(
        &e,
        &[
            "test.toml:25:",
            "agents[0] \"tier1\": staffing has 2 entries but the profile has 3 intervals",
        ],
    );
    let e = error_with("slowdown = 0.25", "slowdown = [1.0, 1.2]");
    assert_error(&e, &["slowdown has 2 levels but concurrency is 3"]);
}

#[test]
fn range_checks() {
    let cases: [(&str, &str, &str); 9] = [
        (
            "shrinkage = 0.3",
            "shrinkage = 1.0",
            "shrinkage = 1 is outside [0, 0.95]",
        ),
        (
            "concurrency = 3",
            "concurrency = 51",
            "concurrency = 51 is out of range; use 1 to 50",
        ),
        (
            "share = 0.05",
            "share = 1.5",
            "transfer.share = 1.5 is outside [0, 1]",
        ),
        (
            "start = \"08:00\"",
            "start = \"25:00\"",
            "start = \"25:00\" is not a clock time",
        ),
        (
            "name = \"billing\"\n",
            "name = \"orders\"\n",
            "name = \"orders\" is used twice",
        ),
        (
            "cv = 0.8",
            "cv = 0.8, values = [1]",
            "values applies only to dist = \"empirical\"",
        ),
        (
            "mean = \"5m\"",
            "mean = \"5m\", cv = 0.5",
            "an exponential distribution has cv 1",
        ),
        (
            "interval = \"30m\"",
            "interval = \"0s\"",
            "interval = \"0s\" must be at least 1ms",
        ),
        (
            "interval = \"30m\"",
            "interval = \"30x\"",
            "interval = \"30x\" is not a duration",
        ),
    ];
    assert_replacements_fail(&cases);
    let text = format!("{MINIMAL}\n[simulation]\nreplications = 0\n");
    assert_error(
        &parse_text(&text).unwrap_err(),
        &["simulation.replications = 0 is out of range"],
    );
    let text = format!("{MINIMAL}\n[simulation]\nwarmup = \"2h\"\n");
    assert_error(
        &parse_text(&text).unwrap_err(),
        &["simulation.warmup", "not shorter than the horizon"],
    );
}

/// Values far outside what a chat operation has: each would overflow the microsecond clock,
/// never end, or exhaust memory, so validation names the field and the range instead.
#[test]
fn limits_keep_runs_finite() {
    let cases: [(&str, &str, &str); 14] = [
        (
            "interval = \"30m\"",
            "interval = \"1e-9\"",
            "interval = \"1e-9\" must be at least 1ms",
        ),
        (
            "interval = \"30m\"",
            "interval = 1e300",
            "interval = 1e300 is longer than a year",
        ),
        (
            "mean = \"5m\"",
            "mean = \"99999999999h\"",
            "handle_time.mean = \"99999999999h\" is longer than a year",
        ),
        (
            "mean = \"5m\"",
            "mean = \"0.0001s\"",
            "handle_time.mean = \"0.0001s\" must be at least 1ms",
        ),
        (
            "volume = [10, 20, 30]",
            "volume = [10, 1e300, 30]",
            "volume[1] gives 1e300 chats in the interval at 08:30, over 10000 chats per second",
        ),
        (
            "volume = [5, 5, 5]",
            "volume = 2e7",
            "volume gives 2e7 chats in the interval at 08:00",
        ),
        (
            "cv = 0.8",
            "cv = 1e300",
            "handle_time.cv = 1e300 is outside 0.01 to 100",
        ),
        (
            "cv = 0.8",
            "cv = 1e-200",
            "handle_time.cv = 1e-200 is outside 0.01 to 100",
        ),
        (
            "slowdown = 0.25",
            "slowdown = 1e300",
            "slowdown = 1e300 is not a slowdown from 0 to 10",
        ),
        (
            "slowdown = 0.25",
            "slowdown = [1.0, 2.0, 1e9]",
            "slowdown[2] = 1e9 is not a factor above 0 and at most 1000",
        ),
        (
            "shrinkage = 0.3",
            "shrinkage = 0.9999999",
            "shrinkage = 0.9999999 is outside [0, 0.95]",
        ),
        (
            "shrinkage = 0.3",
            "shrinkage = 0.3\nstaffing = 4294967295",
            "staffing = 4294967295 is not a whole number of agents from 0 to 100000",
        ),
        (
            "transfer = { share = 0.05, to = \"billing\" }",
            "volume_cv = 1e10",
            "volume_cv = 1e10 is not a number from 0 to 3",
        ),
        (
            "[targets]\n",
            "[targets]\nmax_abandon = 0\n",
            "targets.max_abandon = 0 is outside (0, 1]",
        ),
    ];
    assert_replacements_fail(&cases);
    let text = format!("{MINIMAL}\n[simulation]\nreplications = 4294967295\n");
    assert_error(
        &parse_text(&text).unwrap_err(),
        &["simulation.replications = 4294967295 is out of range; use 1 to 10000"],
    );
    // The largest values still accepted run as written.
    let text = MINIMAL
        .replace("shrinkage = 0.3", "shrinkage = 0.95")
        .replace("cv = 0.8", "cv = 100");
    assert!(parse_text(&text).is_ok());
}

#[test]
fn toml_syntax_error_has_a_line() {
    let e = error_with("concurrency = 3", "concurrency = = 3");
    assert_error(&e, &["test.toml:22:", "invalid TOML"]);
}

#[test]
fn unreadable_profile() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope.toml");
    let e = load(&missing).unwrap_err();
    assert!(matches!(e, ProfileError::Read { .. }));
    assert_error(&e, &["cannot read", "nope.toml"]);
}

/// Writes a profile using `forecast = "f.csv"` for both queues with the given CSV text.
fn forecast_error(csv: &str) -> ProfileError {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("f.csv"), csv).unwrap();
    let text = MINIMAL
        .replace("volume = [10, 20, 30]", "forecast = \"f.csv\"")
        .replace("volume = [5, 5, 5]", "forecast = \"f.csv\"");
    let path = dir.path().join("p.toml");
    std::fs::write(&path, text).unwrap();
    load(&path).unwrap_err()
}

const CSV_GOOD: &str = "interval_start,queue,volume,aht_secs
08:00,orders,10,400
08:30,orders,20,
09:00,orders,30,500
08:00,billing,5,
08:30,billing,5,
09:00,billing,5,
";

#[test]
fn forecast_csv_fills_volume_and_aht() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("f.csv"), CSV_GOOD).unwrap();
    let text = MINIMAL
        .replace("volume = [10, 20, 30]", "forecast = \"f.csv\"")
        .replace("volume = [5, 5, 5]", "forecast = \"f.csv\"");
    let p = parse(&text, "p.toml", Some(dir.path())).unwrap();
    assert_eq!(p.intervals, 3);
    assert_eq!(p.queues[0].volume, vec![10.0, 20.0, 30.0]);
    assert_eq!(p.queues[0].aht_by_interval, vec![400.0, 420.0, 500.0]);
    assert_eq!(p.queues[1].volume, vec![5.0; 3]);
}

#[test]
fn malformed_forecast_rows() {
    let cases: [(String, &[&str]); 11] = [
        (
            "interval_start,queue,volume,aht_secs\n".to_string(),
            &["f.csv", "has a header but no rows"],
        ),
        (
            CSV_GOOD.replace("09:00,orders,30,500", "09:00,orders,30,1e300"),
            &["f.csv:4:", "aht_secs \"1e300\"", "(a year)"],
        ),
        (
            CSV_GOOD.replace("interval_start,queue,volume,aht_secs\n", ""),
            &[
                "f.csv:1:",
                "header is",
                "interval_start,queue,volume,aht_secs",
            ],
        ),
        (String::new(), &["f.csv", "file is empty"]),
        (
            CSV_GOOD.replace("08:30,orders,20,", "08:30,orders,20"),
            &["f.csv:3:", "row has 3 columns; write 4 columns"],
        ),
        (
            CSV_GOOD.replace("08:30,orders,20,", "08:30,orders,twenty,"),
            &["f.csv:3:", "volume \"twenty\" is not a number"],
        ),
        (
            CSV_GOOD.replace("08:30,orders,20,", "08:30,orders,-2,"),
            &["f.csv:3:", "volume \"-2\""],
        ),
        (
            CSV_GOOD.replace("09:00,orders,30,500", "09:00,orders,30,0"),
            &["f.csv:4:", "aht_secs \"0\""],
        ),
        (
            CSV_GOOD.replace("08:30,orders,20,", "08:15,orders,20,"),
            &[
                "f.csv:3:",
                "interval_start \"08:15\" is not an interval",
                "its intervals start at 08:00, 08:30, 09:00",
            ],
        ),
        (
            CSV_GOOD.replace("08:30,orders,20,", "08:00,orders,20,"),
            &[
                "f.csv:3:",
                "duplicate row for queue \"orders\" at 08:00 (first at line 2)",
            ],
        ),
        (
            CSV_GOOD.replace("08:30,orders,20,", "08:30,ordrs,20,"),
            &["f.csv:3:", "queue \"ordrs\" is not a queue of the profile"],
        ),
    ];
    for (csv, fragments) in cases {
        assert_error(&forecast_error(&csv), fragments);
    }
    let missing_row = CSV_GOOD.replace("08:30,billing,5,\n", "");
    assert_error(
        &forecast_error(&missing_row),
        &["f.csv:", "queue \"billing\" has no row for interval 08:30"],
    );
    let bad_clock = CSV_GOOD.replace("08:30,orders,20,", "8.30,orders,20,");
    assert_error(
        &forecast_error(&bad_clock),
        &["f.csv:3:", "interval_start \"8.30\" is not a clock time"],
    );
}

#[test]
fn unreadable_forecast() {
    let dir = tempfile::tempdir().unwrap();
    let text = MINIMAL.replace("volume = [10, 20, 30]", "forecast = \"missing.csv\"");
    let path = dir.path().join("p.toml");
    std::fs::write(&path, text).unwrap();
    let e = load(&path).unwrap_err();
    assert_error(&e, &["cannot read", "missing.csv"]);
}

#[test]
fn validate_command_summarizes_or_exits_2() {
    let mut out = Vec::new();
    let path = shipped("default.toml");
    let cli = Cli::parse_from([
        "chatcap",
        "--format",
        "json",
        "validate",
        path.to_str().unwrap(),
    ]);
    chatcap::run(cli, &mut out).unwrap();
    let json: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(json["name"], "Retail peak day");
    assert_eq!(json["intervals"], 28);
    assert_eq!(json["start"], "08:00");
    assert_eq!(json["end"], "22:00");
    assert_eq!(json["interval_secs"], 1800.0);
    let expected_total = default_profile().unwrap().total_volume();
    assert_eq!(json["total_volume"].as_f64(), Some(expected_total));
    assert_eq!(json["queues"].as_array().map(Vec::len), Some(3));

    let mut table = Vec::new();
    let cli = Cli::parse_from(["chatcap", "validate", path.to_str().unwrap()]);
    chatcap::run(cli, &mut table).unwrap();
    let text = String::from_utf8(table).unwrap();
    assert!(
        text.contains("Retail peak day") && text.contains("28 x 30m from 08:00 to 22:00"),
        "{text}"
    );

    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.toml");
    std::fs::write(
        &bad,
        MINIMAL.replace("service_level = 0.8", "service_level = 2"),
    )
    .unwrap();
    let cli = Cli::parse_from(["chatcap", "validate", bad.to_str().unwrap()]);
    let e = chatcap::run(cli, &mut Vec::new()).unwrap_err();
    assert_eq!(e.exit_code(), 2);
    assert!(
        e.to_string()
            .contains("bad.toml:6: targets.service_level = 2 is above 1"),
        "{e}"
    );
}

#[test]
fn forecast_conflicts_and_horizon() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("f.csv"), CSV_GOOD).unwrap();
    let both = MINIMAL.replace(
        "volume = [5, 5, 5]",
        "volume = [5, 5, 5]\nforecast = \"f.csv\"",
    );
    let e = parse(&both, "p.toml", Some(dir.path())).unwrap_err();
    assert_error(
        &e,
        &[
            "p.toml:16:",
            "queues[1] \"billing\": volume and forecast are both given",
        ],
    );
    let long = MINIMAL
        .replace("volume = [10, 20, 30]", "forecast = \"f.csv\"")
        .replace("volume = [5, 5, 5]", "volume = 5")
        .replace("start = \"08:00\"", "start = \"08:00\"\nintervals = 49");
    let e = parse(&long, "p.toml", Some(dir.path())).unwrap_err();
    assert_error(
        &e,
        &[
            "intervals = 49 covers 24h30m",
            "keep the horizon within 24 hours",
        ],
    );
}

#[test]
fn validate_marks_a_horizon_ending_next_day() {
    let mut out = Vec::new();
    let path = shipped("bank-24x7.toml");
    let cli = Cli::parse_from([
        "chatcap",
        "--format",
        "json",
        "validate",
        path.to_str().unwrap(),
    ]);
    chatcap::run(cli, &mut out).unwrap();
    let json: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(json["end"], "00:00 next day");
    assert_eq!(json["staffing_given"], true);
}

#[test]
fn readme_sample_profile_is_valid() {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let section = &readme[readme.find("\n## Profiles").expect("a Profiles section")..];
    let start = section.find("```toml\n").expect("a toml block") + "```toml\n".len();
    let block = &section[start..];
    let block = &block[..block.find("```").expect("the block's end")];
    let p = parse(block, "README.md", None).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(p.name, "Retail peak day");
    assert_eq!(p.intervals, 3);
    assert_eq!(p.queues.len(), 2);
    assert!(p.has_staffing());
}

/// The small-team profile and its forecast in a fresh directory, the forecast's lines for which
/// `drop` is true left out.
fn small_team_without(drop: impl Fn(&str) -> bool) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let forecast = std::fs::read_to_string(shipped("small-team-forecast.csv")).unwrap();
    let kept: String = forecast
        .lines()
        .filter(|l| !drop(l))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(dir.path().join("small-team-forecast.csv"), kept).unwrap();
    let profile = dir.path().join("small-team.toml");
    std::fs::copy(shipped("small-team.toml"), &profile).unwrap();
    (dir, profile)
}

#[test]
fn forecast_missing_a_row_names_the_interval_and_queue() {
    for (row, interval, queue) in [
        ("09:30,support,", "09:30", "support"),
        ("16:30,support,", "16:30", "support"),
        ("12:00,sales,", "12:00", "sales"),
    ] {
        let (_dir, profile) = small_team_without(|l| l.starts_with(row));
        let err = load(&profile).unwrap_err();
        assert_error(
            &err,
            &[
                "small-team-forecast.csv",
                &format!("queue {queue:?} has no row for interval {interval}"),
            ],
        );
        assert!(!err.to_string().contains("is not an interval"), "{err}");
    }
    // The whole file still gives 16 intervals.
    let (_dir, profile) = small_team_without(|_| false);
    assert_eq!(load(&profile).unwrap().intervals, 16);
}

#[test]
fn horizon_beyond_a_year_is_refused() {
    // MINIMAL's volume lists have 3 entries; a single-number volume lets intervals rule.
    let text = MINIMAL
        .replace("volume = [10, 20, 30]", "volume = 10")
        .replace("volume = [5, 5, 5]", "volume = 5")
        .replacen(
            "start = \"08:00\"",
            "start = \"08:00\"\nintervals = 100000",
            1,
        );
    assert_error(
        &parse_text(&text).unwrap_err(),
        &[
            "intervals = 100000 intervals of 30m cover 2083 days",
            "at most 366 days",
            "at most 17568 intervals",
        ],
    );
    let year = text.replace("intervals = 100000", "intervals = 17568");
    assert_eq!(parse_text(&year).unwrap().intervals, 17568);
}

#[test]
fn shares_take_a_number_or_a_percentage() {
    let text = MINIMAL
        .replace(
            "service_level = 0.8",
            "service_level = \"80%\"\nmax_abandon = \"5 %\"",
        )
        .replace("shrinkage = 0.3", "shrinkage = \"30%\"")
        .replace("share = 0.05", "share = \"5%\"");
    let p = parse_text(&text).unwrap();
    assert!((p.targets.service_level - 0.8).abs() < 1e-12);
    assert!((p.targets.max_abandon.unwrap() - 0.05).abs() < 1e-12);
    assert!((p.agents[0].shrinkage - 0.3).abs() < 1e-12);
    assert!((p.queues[0].transfer.unwrap().share - 0.05).abs() < 1e-12);
    assert_replacements_fail(&[
        (
            "service_level = 0.8",
            "service_level = \"high\"",
            "\"high\" is not a share; write a number such as 0.8 or a percentage such as \"80%\"",
        ),
        (
            "service_level = 0.8",
            "service_level = \"120%\"",
            "= 1.2 is above 1",
        ),
    ]);
}

#[test]
fn wrong_types_say_what_a_valid_value_is() {
    assert_replacements_fail(&[
        (
            "concurrency = 3",
            "concurrency = 1.5",
            "expected a whole number, e.g. 3",
        ),
        (
            "concurrency = 3",
            "concurrency = \"x\"",
            "expected a whole number, e.g. 3",
        ),
    ]);
    let e = error_with("concurrency = 3", "concurrency = 1.5");
    assert!(!e.to_string().contains("i64"), "{e}");
}
