//! Criterion benchmarks, one module per area; run with `cargo bench`.

use criterion::{criterion_group, criterion_main};

mod erlang;
mod routing;

criterion_group!(benches, erlang::benches, routing::benches);
criterion_main!(benches);
