//! Closed-form staffing speed: solving and evaluating at 5,000 agents, where the planner needs
//! answers for many intervals in a blink.

use std::hint::black_box;

use chatcap::erlang::{Load, Targets, evaluate, required_agents};
use criterion::Criterion;

/// About 5,000 Erlangs: 5,000 agents' worth of chats with a 3-minute handle time.
fn large_load(patience_secs: Option<f64>) -> Load {
    Load {
        arrival_rate_per_sec: 5000.0 / 180.0,
        aht_secs: 180.0,
        patience_secs,
    }
}

fn targets(max_abandon: Option<f64>) -> Targets {
    Targets {
        service_level: 0.8,
        threshold_secs: 20.0,
        max_abandon,
        max_occupancy: Some(0.97),
        max_asa_secs: None,
        short_abandon_secs: 0.0,
    }
}

pub fn benches(c: &mut Criterion) {
    let mut group = c.benchmark_group("erlang");
    let erlang_c = large_load(None);
    let c_targets = targets(None);
    group.bench_function("solve_erlang_c_5000", |b| {
        b.iter(|| required_agents(black_box(&erlang_c), black_box(&c_targets)))
    });
    let erlang_a = large_load(Some(120.0));
    let a_targets = targets(Some(0.02));
    group.bench_function("solve_erlang_a_5000", |b| {
        b.iter(|| required_agents(black_box(&erlang_a), black_box(&a_targets)))
    });
    group.bench_function("evaluate_erlang_a_5000", |b| {
        b.iter(|| evaluate(black_box(&erlang_a), black_box(5050), 20.0))
    });
    let overloaded = Load {
        arrival_rate_per_sec: 10_000.0 / 180.0,
        ..erlang_a
    };
    group.bench_function("evaluate_erlang_a_5000_at_twice_the_load", |b| {
        b.iter(|| evaluate(black_box(&overloaded), black_box(5000), 20.0))
    });
    group.finish();
}
