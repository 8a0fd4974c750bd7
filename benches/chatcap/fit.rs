//! Chat-log reading speed: 1,000,000 rows (five queues, 400 agents, answered and closed times,
//! a CSAT score) streamed into a history, the part of `chatcap fit`'s 10-second budget spent
//! before any measurement. Criterion reports rows per second as throughput.

use std::hint::black_box;
use std::io::Write;

use chatcap::chatlog::read::ReadOptions;
use chatcap::fit::ingest::read_history;
use criterion::{Criterion, Throughput};

const ROWS: u64 = 1_000_000;

/// Writes the log to `path`; false when the file cannot be written.
fn write_log(path: &std::path::Path) -> bool {
    let Ok(file) = std::fs::File::create(path) else {
        return false;
    };
    let mut out = std::io::BufWriter::new(file);
    let base = jiff::Timestamp::UNIX_EPOCH + jiff::SignedDuration::from_hours(500_000);
    let mut ok = writeln!(
        out,
        "chat_id,queue,created_at,answered_at,closed_at,agent_id,csat"
    )
    .is_ok();
    for k in 0..ROWS as i64 {
        let created = base + jiff::SignedDuration::from_secs(k * 3);
        let answered = created + jiff::SignedDuration::from_secs(20);
        let closed = answered + jiff::SignedDuration::from_secs(300);
        let (queue, agent) = (k % 5, k % 400);
        ok &= writeln!(
            out,
            "c{k:08},queue{queue},{created},{answered},{closed},agent{agent:03},4"
        )
        .is_ok();
    }
    ok && out.flush().is_ok()
}

pub fn benches(c: &mut Criterion) {
    let Ok(dir) = tempfile::tempdir() else {
        eprintln!("no temporary directory for the chat log");
        return;
    };
    let path = dir.path().join("chats.csv");
    if !write_log(&path) {
        eprintln!("cannot write the benchmark chat log");
        return;
    }
    let options = ReadOptions::default();
    let mut group = c.benchmark_group("fit");
    group.throughput(Throughput::Elements(ROWS));
    group.sample_size(10);
    group.bench_function("read_1m_rows", |b| {
        b.iter(|| black_box(read_history(black_box(&path), None, &options).map(|h| h.rows.used)))
    });
    group.finish();
}
