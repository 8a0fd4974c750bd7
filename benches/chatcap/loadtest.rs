//! The load generator's own work per request, apart from the network: each typical exchange of
//! the built-in target through the target machinery (`loadtest/target/<exchange>`) beside the
//! same exchange with the API's typed wire structs (`loadtest/typed/<exchange>`), so that the
//! cost of describing an API in a target file is a measured ratio.

use chatcap::loadtest::probe::{Exchange, target_exchange, typed_exchange};
use chatcap::loadtest::{TargetContext, target};
use criterion::Criterion;

pub fn benches(c: &mut Criterion) {
    let builtin = target::load("chatcap", &TargetContext::default()).expect("built-in target");
    let mut group = c.benchmark_group("loadtest");
    for exchange in Exchange::ALL {
        group.bench_function(format!("target/{}", exchange.name()), |b| {
            b.iter(|| target_exchange(&builtin, exchange))
        });
        group.bench_function(format!("typed/{}", exchange.name()), |b| {
            b.iter(|| typed_exchange(exchange))
        });
    }
    group.finish();
}
