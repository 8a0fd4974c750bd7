//! Criterion benchmarks, one module per area; run with `cargo bench`.

use criterion::{criterion_group, criterion_main};

mod erlang;
mod fit;
mod loadtest;
mod routing;
mod sim;

criterion_group!(
    benches,
    erlang::benches,
    fit::benches,
    loadtest::benches,
    routing::benches,
    sim::benches
);
criterion_main!(benches);
