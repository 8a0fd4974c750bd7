//! The simulator's offers against patience, with deterministic times so that every chat's fate
//! is known: a customer whose patience ends before the accept leaves during the offer, one who
//! outlasts it is answered at the accept, and an offer that lapses goes to another agent while
//! the customer keeps waiting. The simulator schedules a customer's patience only when the
//! chat can still be waiting then; these cases pin down each way a chat can be.

use chatcap::sim::SimulationReport;

use super::sim::run;

/// One queue of 30 chats an hour for two hours and 40 idle agents, so every chat is offered
/// on arrival; offers lapse after `timeout`, the agent accepts after `accept`, and the
/// customer gives up `patience` after queueing.
fn offers(patience: &str, accept: &str, timeout: &str) -> SimulationReport {
    let toml = format!(
        r#"
name = "offers"
interval = "1h"
start = "08:00"
intervals = 2
[routing]
accept = {{ timeout = "{timeout}", misses_before_away = 100 }}
[simulation]
replications = 4
[[queues]]
name = "q"
volume = 30
handle_time = {{ dist = "exponential", mean = "4m" }}
patience = {{ dist = "deterministic", mean = "{patience}" }}
accept_delay = {{ dist = "deterministic", mean = "{accept}" }}
[[agents]]
name = "a"
skills = ["q"]
concurrency = 1
"#
    );
    run(&toml, 40, 5)
}

#[test]
fn a_customer_whose_patience_ends_before_the_accept_leaves_during_the_offer() {
    let r = offers("30s", "1m", "2m");
    let all = &r.summary.overall;
    assert!(all.offered.mean > 40.0, "{}", all.offered.mean);
    assert_eq!(all.answered.mean, 0.0);
    assert_eq!(all.abandoned.mean, all.offered.mean);
}

#[test]
fn a_customer_who_outlasts_the_accept_is_answered_at_it() {
    let r = offers("90s", "1m", "2m");
    let all = &r.summary.overall;
    assert_eq!(all.abandoned.mean, 0.0);
    assert_eq!(all.answered.mean, all.offered.mean);
    assert!(
        (all.asa_secs.mean - 60.0).abs() < 1e-6,
        "{}",
        all.asa_secs.mean
    );
}

#[test]
fn patience_runs_on_through_lapsed_offers() {
    // Every offer lapses after 30 s and goes to the next agent, who would accept after a
    // minute: the customer leaves at 45 s (during the second offer) or at 100 s (the fourth).
    for patience in ["45s", "100s"] {
        let r = offers(patience, "1m", "30s");
        let all = &r.summary.overall;
        assert!(all.offered.mean > 40.0, "{}", all.offered.mean);
        assert_eq!(all.answered.mean, 0.0, "patience {patience}");
        assert_eq!(all.abandoned.mean, all.offered.mean, "patience {patience}");
    }
    // With patience to spare, the accept after a minute comes before the next lapse only if
    // the offer's deadline allows it: a 90 s timeout does, and the wait is the accept delay.
    let r = offers("200s", "1m", "90s");
    let all = &r.summary.overall;
    assert_eq!(all.answered.mean, all.offered.mean);
    assert!(
        (all.asa_secs.mean - 60.0).abs() < 1e-6,
        "{}",
        all.asa_secs.mean
    );
}
