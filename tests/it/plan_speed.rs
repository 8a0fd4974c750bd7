//! What makes `chatcap plan` fast must not change what it answers: candidates settled on few
//! replications, exchanges screened by work, and a verification repaired interval by interval
//! give the same plan on any thread count, and the figures reported are those of the final
//! staffing's own run.

use chatcap::plan::{PlanOptions, plan};
use chatcap::profile::{self, Profile};
use chatcap::sim::{self, Scenario, Staffing};

/// One queue and one group over `days` dated days of hourly intervals, open 08:00-20:00.
fn days(days: u32, volumes: &[u32]) -> Profile {
    let day: Vec<String> = volumes.iter().map(|v| v.to_string()).collect();
    let volume = vec![day.join(", "); days as usize].join(", ");
    let toml = format!(
        r#"
name = "dated days"
interval = "1h"
start = "2026-03-02T00:00"
days = {days}
timezone = "UTC"

[hours]
default = "08:00-20:00"

[targets]
service_level = 0.8
threshold = "20s"
max_abandon = 0.05

[routing]
accept = "auto"

[simulation]
replications = 10
seed = 11

[[queues]]
name = "chat"
volume = [{volume}]
handle_time = {{ dist = "lognormal", mean = "240s", cv = 0.8 }}
patience = {{ dist = "exponential", mean = "3m" }}

[[agents]]
name = "agents"
skills = ["chat"]
concurrency = 2
slowdown = 0.2
shrinkage = 0.25
"#
    );
    profile::parse(&toml, "days.toml", None).unwrap()
}

/// 24 hourly volumes: closed at night, a peak at midday.
const DAY: [u32; 24] = [
    0, 0, 0, 0, 0, 0, 0, 0, 40, 90, 160, 220, 260, 240, 200, 170, 150, 120, 80, 50, 0, 0, 0, 0,
];

fn options(threads: usize) -> PlanOptions {
    PlanOptions {
        threads: Some(threads),
        ..PlanOptions::default()
    }
}

#[test]
fn candidates_run_on_as_few_replications_as_settle_them_whatever_the_thread_count() {
    let profile = days(1, &DAY);
    let on = |threads| {
        let report = plan(&profile, options(threads), &|_, _| {}).unwrap();
        let agents: Vec<u32> = report.intervals.iter().map(|r| r.required_agents).collect();
        let perf = report.perf;
        (agents, perf.evaluations, perf.evaluation_replications)
    };
    let (agents, evaluations, replications) = on(1);
    assert!(
        replications < evaluations * 10,
        "{replications} replications for {evaluations} candidates of 10 each: none settled early"
    );
    assert!(
        replications >= evaluations * 4,
        "fewer than the first batch"
    );
    assert_eq!(on(3), (agents, evaluations, replications));
}

#[test]
fn a_verification_repaired_interval_by_interval_reports_the_final_staffings_own_run() {
    let profile = days(3, &DAY);
    let report = plan(&profile, options(2), &|_, _| {}).unwrap();
    let repaired = report.intervals.iter().filter(|r| r.raised_by_verification);
    assert!(repaired.count() >= 2, "the case must repair some intervals");
    let staffing = Staffing {
        groups: vec![report.intervals.iter().map(|r| r.required_agents).collect()],
    };
    assert_eq!(staffing.groups[0].len(), 72);
    let mut scenario = Scenario::new(&profile, &staffing).unwrap();
    scenario.seed = report.verification_seed;
    let own_run = sim::simulate(&scenario, 10, Some(1), &|| {}).unwrap();
    let (reported, fresh) = (&report.summary.overall, &own_run.summary.overall);
    assert_eq!(reported.service_level, fresh.service_level);
    assert_eq!(reported.abandon_rate, fresh.abandon_rate);
    assert_eq!(reported.asa_secs, fresh.asa_secs);
    let again = plan(&profile, options(1), &|_, _| {}).unwrap();
    let agents = |r: &chatcap::plan::PlanReport| -> Vec<u32> {
        r.intervals.iter().map(|r| r.required_agents).collect()
    };
    assert_eq!(agents(&report), agents(&again));
    assert_eq!(
        report.summary.overall.service_level,
        again.summary.overall.service_level
    );
}

#[test]
fn caps_planned_side_by_side_are_the_same_on_any_thread_count() {
    let caps = |threads: &str| {
        let out = crate::run_cli(&[
            "chatcap",
            "caps",
            "--caps",
            "1..4",
            "--replications",
            "4",
            "--threads",
            threads,
            "--format",
            "json",
            "--quiet",
        ])
        .unwrap();
        serde_json::from_str::<serde_json::Value>(&out).unwrap()
    };
    let one = caps("1");
    assert_eq!(one["caps"].as_array().unwrap().len(), 4);
    assert_eq!(one, caps("3"), "the caps depend on the thread count");
}
