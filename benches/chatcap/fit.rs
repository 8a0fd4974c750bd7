//! `chatcap fit` against its budget (1,000,000 log rows in under 10 s): the reader alone on a
//! plain 1,000,000-row log (five queues, 400 agents, answered and closed times, a CSAT score),
//! and the whole command on a simulated history of about 1.1 million chats (256 days in
//! Europe/Paris, bot, abandons, three chats per agent), with its agent log. Criterion reports
//! rows per second as throughput.

use std::fmt::Write as _;
use std::hint::black_box;
use std::io::Write;
use std::path::Path;

use chatcap::Cli;
use chatcap::chatlog::read::ReadOptions;
use chatcap::fit::ingest::read_history;
use clap::Parser;
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

/// 256 days from a Monday in Europe/Paris (the spring clock change inside), a daytime hump
/// peaking near 260 chats per half hour, staffed a little short so every level is worked.
fn history_profile() -> String {
    let (mut volume, mut staffing) = (String::new(), String::new());
    let days = 256;
    // The spring change (29 March) takes one hour out.
    let intervals = 48 * days - 2;
    for i in 0..intervals {
        let hour = (i % 48) as f64 / 2.0;
        let v = 18.0 + 240.0 * (-(hour - 13.0).powi(2) / 18.0).exp();
        let agents = (v * 420.0 * 1.25 / 1800.0 / 2.2).round().max(1.0);
        let _ = write!(volume, "{v:.2}, ");
        let _ = write!(staffing, "{agents}, ");
    }
    format!(
        "name = \"History\"\ninterval = \"30m\"\nstart = \"2026-01-05T00:00\"\n\
         days = {days}\ntimezone = \"Europe/Paris\"\n[simulation]\nreplications = 1\nseed = 11\n\
         [[queues]]\nname = \"support\"\nvolume = [{volume}]\n\
         handle_time = {{ dist = \"lognormal\", mean = \"7m\", cv = 0.8 }}\n\
         patience = {{ dist = \"weibull\", mean = \"4m\", cv = 0.7 }}\n\
         bot = {{ resolve_share = 0.2, time = {{ dist = \"exponential\", mean = \"45s\" }} }}\n\
         [[agents]]\nname = \"team\"\nskills = [\"support\"]\nconcurrency = 3\n\
         slowdown = 0.25\nstaffing = [{staffing}]\n"
    )
}

/// Runs a command line in-process, its report discarded.
fn run(args: &[&str]) -> bool {
    match Cli::try_parse_from(args) {
        Ok(cli) => chatcap::run(cli, &mut std::io::sink()).is_ok(),
        Err(_) => false,
    }
}

/// Simulates the history into `dir` (chats.csv, agents.csv); its row count, or `None`.
fn simulate_history(dir: &Path) -> Option<u64> {
    let profile = dir.join("history.toml");
    std::fs::write(&profile, history_profile()).ok()?;
    let path = |name: &str| dir.join(name).to_str().map(String::from);
    let (profile, chats, agents) = (
        path("history.toml")?,
        path("chats.csv")?,
        path("agents.csv")?,
    );
    let args = [
        "chatcap",
        "simulate",
        "--quiet",
        "--profile",
        &profile,
        "--log",
        &chats,
    ];
    if !run(&[&args[..], &["--agent-log", &agents, "--format", "json"]].concat()) {
        return None;
    }
    let text = std::fs::read(&chats).ok()?;
    Some(text.iter().filter(|b| **b == b'\n').count() as u64 - 1)
}

pub fn benches(c: &mut Criterion) {
    let Ok(dir) = tempfile::tempdir() else {
        eprintln!("no temporary directory for the chat log");
        return;
    };
    read_bench(c, dir.path());
    let Some(rows) = simulate_history(dir.path()) else {
        eprintln!("cannot simulate the benchmark history");
        return;
    };
    let path = |name: &str| dir.path().join(name).to_string_lossy().into_owned();
    let (chats, agents, out) = (path("chats.csv"), path("agents.csv"), path("fitted.toml"));
    let args = [
        "chatcap",
        "fit",
        "--log",
        &chats,
        "--agent-log",
        &agents,
        "--timezone",
        "Europe/Paris",
        "--out",
        &out,
        "--format",
        "json",
    ];
    let mut group = c.benchmark_group("fit");
    group.throughput(Throughput::Elements(rows));
    group.sample_size(10);
    group.bench_function("fit_1m_rows", |b| {
        b.iter(|| black_box(run(black_box(&args))))
    });
    group.finish();
}

/// The reader alone on the plain log.
fn read_bench(c: &mut Criterion, dir: &Path) {
    let path = dir.join("plain.csv");
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
