//! Closed-form staffing speed.

use criterion::Criterion;

pub fn benches(_c: &mut Criterion) {}
