//! Simulator throughput: M/M/50 at load 0.9 (exponential service, FIFO, auto-accept, no
//! abandonment), about 200,000 chats, one thread, through the full routing core and metric
//! collection. Criterion reports chats per second as throughput.

use std::hint::black_box;

use chatcap::profile;
use chatcap::sim::{Scenario, Staffing, run_replication};
use criterion::{Criterion, Throughput};

/// 50 hours at 4,000 chats per hour with a 40.5 s mean handle time: load 45 Erlangs on 50 agents.
pub const MM50: &str = r#"
name = "M/M/50 at load 0.9"
interval = "1h"
start = "00:00"
intervals = 50
[targets]
service_level = 0.8
threshold = "20s"
[routing]
accept = "auto"
[simulation]
replications = 1
seed = 1
[[queues]]
name = "q"
volume = 4000
handle_time = { dist = "exponential", mean = "40.5s" }
[[agents]]
name = "a"
skills = ["q"]
concurrency = 1
staffing = 50
"#;

pub fn benches(c: &mut Criterion) {
    let Ok(profile) = profile::parse(MM50, "mm50.toml", None) else {
        eprintln!("benchmark profile does not parse");
        return;
    };
    let Some(staffing) = Staffing::from_profile(&profile) else {
        return;
    };
    let Ok(scenario) = Scenario::new(&profile, &staffing) else {
        return;
    };
    let chats = run_replication(&scenario, 0).map(|t| t.chats).unwrap_or(0);
    let mut group = c.benchmark_group("sim");
    group.throughput(Throughput::Elements(chats));
    group.sample_size(20);
    group.bench_function("mm50_load_0.9_200k_chats", |b| {
        b.iter(|| black_box(run_replication(black_box(&scenario), 0).map(|t| t.events)))
    });
    group.finish();
}
