//! The stand-in servers of other platforms' documented APIs are test apparatus: their own
//! smoke scenarios (every endpoint, the routing rules, conservation of their counts) run here
//! so that a broken stand-in fails the suite before any load test relies on it.

use std::process::Command;
use std::time::{Duration, Instant};

/// Runs `python3 SCRIPT` for at most `limit` (the script stops the server it starts by pid).
fn run_python(script: &str, limit: Duration) -> (Option<i32>, String) {
    let dir = tempfile::tempdir().expect("temp dir");
    let log = dir.path().join("log");
    let mut child = Command::new("python3")
        .arg(script)
        .stdout(std::fs::File::create(&log).expect("log"))
        .stderr(std::fs::File::create(dir.path().join("err")).expect("err"))
        .spawn()
        .expect("python3 runs (CPython 3 is part of the machine; see the README)");
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{script} ran past {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let out = std::fs::read_to_string(&log).unwrap_or_default()
        + &std::fs::read_to_string(dir.path().join("err")).unwrap_or_default();
    (status.code(), out)
}

#[test]
fn the_chatwoot_stand_in_passes_its_own_scenario() {
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/standins/chatwoot/smoke.py"
    );
    let (code, out) = run_python(script, Duration::from_secs(90));
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("smoke: ok"), "{out}");
}
