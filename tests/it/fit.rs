//! `chatcap fit`: its flags and their errors (exit 2, naming the flag and the fix), and the
//! outputs it must not overwrite.

use std::path::{Path, PathBuf};

use chatcap::Cli;
use clap::Parser;

use super::run_cli as run;

/// A small chat log: two days of one queue, a chat every ten minutes, each answered and closed.
fn tiny_log(dir: &Path) -> PathBuf {
    let mut text = String::from("chat_id,queue,created_at,answered_at,closed_at,agent_id\n");
    for i in 0..288 {
        let at = |secs: u32| {
            let t = i * 600 + secs;
            format!(
                "2026-11-{:02}T{:02}:{:02}:{:02}Z",
                2 + t / 86_400,
                t % 86_400 / 3600,
                t % 3600 / 60,
                t % 60
            )
        };
        text.push_str(&format!("c{i},sales,{},{},{},a1\n", at(0), at(20), at(200)));
    }
    let path = dir.join("chats.csv");
    std::fs::write(&path, text).unwrap();
    path
}

/// The message and exit code of a fit run that must fail.
fn fit_error(log: &Path, extra: &[&str]) -> (String, u8) {
    let mut args = vec!["chatcap", "fit", "--log", log.to_str().unwrap()];
    args.extend_from_slice(extra);
    let err = run(&args).expect_err("the run must fail");
    (err.to_string(), err.exit_code())
}

#[test]
fn fit_without_a_log_is_refused_by_name() {
    let err = Cli::try_parse_from(["chatcap", "fit"]).unwrap_err();
    assert_eq!(err.exit_code(), 2);
    assert!(err.to_string().contains("--log <FILE>"), "{err}");
}

#[test]
fn fit_flags_name_what_is_wrong_and_the_fix() {
    let dir = tempfile::tempdir().unwrap();
    let log = tiny_log(dir.path());
    let cases: [(&[&str], &[&str]); 7] = [
        (
            &["--interval", "7m"],
            &["invalid --interval", "divide a day", "30m"],
        ),
        (
            &["--interval", "30s"],
            &["invalid --interval", "at least a minute"],
        ),
        (
            &["--horizon", "36h"],
            &["invalid --horizon", "whole days", "7d"],
        ),
        (&["--holdout", "90d"], &["invalid --holdout", "whole days"]),
        (
            &["--timezone", "Mars/Olympus_Mons"],
            &[
                "invalid --timezone",
                "\"Mars/Olympus_Mons\"",
                "Europe/Paris",
            ],
        ),
        (
            &["--map", "created_at"],
            &["invalid --map", "created_at=Started"],
        ),
        (
            &["--map", "started=Start"],
            &["invalid --map", "\"started\"", "created_at"],
        ),
    ];
    for (flags, needles) in cases {
        let (message, code) = fit_error(&log, flags);
        assert_eq!(code, 2, "{flags:?}: {message}");
        assert_eq!(message.lines().count(), 1, "{flags:?}: {message}");
        for needle in needles {
            assert!(message.contains(needle), "{flags:?}: {message}");
        }
    }
    let err = Cli::try_parse_from(["chatcap", "fit", "--log", "x.csv", "--interval", "half"])
        .unwrap_err();
    assert_eq!(err.exit_code(), 2);
    assert!(err.to_string().contains("write a duration like"), "{err}");
}

#[test]
fn fit_never_writes_over_its_inputs() {
    let dir = tempfile::tempdir().unwrap();
    let log = tiny_log(dir.path());
    let before = std::fs::read_to_string(&log).unwrap();
    let log_text = log.to_str().unwrap();
    for flags in [["--out", log_text], ["--html", log_text], ["--out", "-"]] {
        let (message, code) = fit_error(&log, &flags);
        assert_eq!(code, 2, "{message}");
        assert!(message.contains(flags[0]), "{message}");
    }
    let base = dir.path().join("base.toml");
    std::fs::write(&base, chatcap::profile::DEFAULT_PROFILE_TOML).unwrap();
    let base_text = base.to_str().unwrap();
    let (message, code) = fit_error(&log, &["--profile", base_text, "--out", base_text]);
    assert_eq!(code, 2, "{message}");
    assert!(message.contains("overwrite"), "{message}");
    assert_eq!(std::fs::read_to_string(&log).unwrap(), before);
    let kept = std::fs::read_to_string(&base).unwrap();
    assert_eq!(kept, chatcap::profile::DEFAULT_PROFILE_TOML);
}

#[test]
fn fit_names_an_unusable_base_profile() {
    let dir = tempfile::tempdir().unwrap();
    let log = tiny_log(dir.path());
    let missing = dir.path().join("nowhere.toml");
    let (message, code) = fit_error(&log, &["--profile", missing.to_str().unwrap()]);
    assert_eq!(code, 2, "{message}");
    assert!(
        message.contains("invalid --profile") && message.contains("nowhere.toml"),
        "{message}"
    );
}
