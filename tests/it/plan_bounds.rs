//! Group bounds and costs in `chatcap plan`: `min_on_duty` and `max_on_duty` hold in every
//! interval, a bound that makes the targets unreachable is named, and with several groups the
//! plan minimises the cost of paid hours (`cost_per_hour`) rather than heads.

use chatcap::plan::{PlanOptions, PlanReport, plan};
use chatcap::profile::{self, Profile};

/// A day of six hours, one queue, and the `[[agents]]` tables given.
fn profile(volumes: &str, agents: &str) -> Profile {
    let toml = format!(
        r#"
name = "bounds"
interval = "1h"
start = "08:00"
[targets]
service_level = 0.8
threshold = "30s"
[routing]
accept = "auto"
[simulation]
replications = 10
seed = 9
[[queues]]
name = "chat"
volume = {volumes}
handle_time = {{ dist = "exponential", mean = "3m" }}
{agents}
"#
    );
    profile::parse(&toml, "bounds.toml", None).unwrap()
}

fn group(name: &str, extra: &str) -> String {
    format!("[[agents]]\nname = \"{name}\"\nskills = [\"chat\"]\n{extra}\n")
}

fn run(p: &Profile) -> PlanReport {
    let options = PlanOptions {
        threads: Some(2),
        ..PlanOptions::default()
    };
    plan(p, options, &|_, _| {}).expect("plan")
}

/// Agents required per interval for group `name`.
fn required(report: &PlanReport, name: &str) -> Vec<u32> {
    report
        .intervals
        .iter()
        .filter(|r| r.group == name)
        .map(|r| r.required_agents)
        .collect()
}

#[test]
fn min_and_max_on_duty_hold_in_every_interval() {
    let agents = group("lead", "min_on_duty = 1\nmax_on_duty = 1")
        + &group("team", "min_on_duty = 2\nmax_on_duty = 40");
    let report = run(&profile("[0, 40, 120, 200, 60, 0]", &agents));
    assert_eq!(required(&report, "lead"), vec![1; 6]);
    let team = required(&report, "team");
    assert!(team.iter().all(|n| (2..=40).contains(n)), "{team:?}");
    // The quiet hours keep the floor; the busy ones need more than it.
    assert_eq!((team[0], team[5]), (2, 2), "{team:?}");
    assert!(team[3] > 6, "{team:?}");
    assert!(report.targets_met, "{:?}", report.warnings);
}

#[test]
fn a_max_on_duty_too_small_for_the_targets_is_named() {
    let report = run(&profile("[200, 200]", &group("desk", "max_on_duty = 4")));
    let desk = required(&report, "desk");
    assert!(desk.iter().all(|n| *n <= 4), "{desk:?}");
    assert!(!report.targets_met);
    let named = report
        .warnings
        .iter()
        .any(|w| w.contains("group desk is at its max_on_duty = 4"));
    assert!(named, "{:?}", report.warnings);
}

/// Two groups alike but for their cost: the cheaper one takes the load, the dearer keeps
/// what it cannot shed; the plan's cost is the rostered hours priced per group.
#[test]
fn the_cheaper_group_takes_the_load() {
    for (cheap, dear) in [("a", "b"), ("b", "a")] {
        let cost = |name: &str| if name == cheap { 1.0 } else { 3.0 };
        let agents = group("a", &format!("cost_per_hour = {}", cost("a")))
            + &group("b", &format!("cost_per_hour = {}", cost("b")));
        let report = run(&profile("[60, 120, 180, 120, 60, 30]", &agents));
        let hours = |name: &str| report.totals.groups[name].rostered_agent_hours;
        assert!(
            hours(dear) <= 0.1 * hours(cheap),
            "{dear} (dear) {} h against {cheap} {} h",
            hours(dear),
            hours(cheap)
        );
        let priced = hours(cheap) * 1.0 + hours(dear) * 3.0;
        assert!((report.totals.all.cost - priced).abs() < 1e-6);
        assert!(report.targets_met, "{:?}", report.warnings);
    }
}

#[test]
fn bad_bounds_and_costs_are_refused_with_the_fix() {
    let text = |extra: &str| {
        format!(
            "name = \"p\"\ninterval = \"1h\"\nstart = \"08:00\"\nintervals = 2\n[[queues]]\nname = \"chat\"\n\
             volume = 10\nhandle_time = {{ dist = \"exponential\", mean = \"3m\" }}\n{}",
            group("desk", extra)
        )
    };
    for (extra, expected) in [
        (
            "min_on_duty = 5\nmax_on_duty = 3",
            "max_on_duty = 3 is below min_on_duty = 5",
        ),
        (
            "max_on_duty = 0",
            "max_on_duty = 0 is not a whole number of agents from 1",
        ),
        (
            "min_on_duty = -1",
            "min_on_duty = -1 is not a whole number of agents from 0",
        ),
        (
            "cost_per_hour = 0",
            "cost_per_hour = 0 is not a cost above 0",
        ),
        (
            "cost_per_hour = \"cheap\"",
            "cost_per_hour = \"cheap\" is not a cost",
        ),
    ] {
        let e = profile::parse(&text(extra), "p.toml", None)
            .unwrap_err()
            .to_string();
        assert!(e.contains(expected), "{extra}: {e}");
    }
    let p = profile::parse(&text("cost_per_hour = 25"), "p.toml", None).unwrap();
    assert_eq!(p.agents[0].cost_per_hour, 25.0);
}
