//! Command-line behaviour common to every command.

use chatcap::Cli;
use clap::Parser;

#[test]
fn help_lists_commands() {
    let err = Cli::try_parse_from(["chatcap", "--help"]).unwrap_err();
    let help = err.to_string();
    assert!(
        help.contains("erlang") && help.contains("validate"),
        "{help}"
    );
}

#[test]
fn negative_numbers_are_values_not_flags() {
    // A negative number reaches the flag's own parser, which says what is wrong with it.
    for (args, fragment) in [
        (
            &["chatcap", "simulate", "--seed", "-1"][..],
            "invalid value '-1' for '--seed <SEED>'",
        ),
        (
            &["chatcap", "erlang", "--volume", "100", "--aht", "-5s"][..],
            "invalid duration \"-5s\"",
        ),
        (
            &[
                "chatcap", "erlang", "--volume", "1", "--aht", "1s", "--agents", "-3",
            ][..],
            "invalid value '-3' for '--agents <AGENTS>'",
        ),
    ] {
        let err = Cli::try_parse_from(args).unwrap_err();
        assert!(err.to_string().contains(fragment), "{err}");
    }
}

/// Duration flags read durations as profiles do: every spelling of one duration gives the same
/// answer, and a bad one is named with the right form.
#[test]
fn duration_flags_take_the_profile_spellings() {
    let erlang = |aht: &str| {
        run(&[
            "chatcap", "erlang", "--volume", "100", "--aht", aht, "--format", "json",
        ])
        .unwrap_or_else(|e| panic!("--aht {aht}: {e}"))
    };
    let plain = erlang("330");
    for aht in [
        "5m30s",
        "5.5m",
        "5m 30s",
        "5min30s",
        "330s",
        "0.0916666666666666666h",
        ".5m5m",
        "5.m30s",
    ] {
        assert_eq!(erlang(aht), plain, "--aht {aht}");
    }
    let err = Cli::try_parse_from(["chatcap", "erlang", "--volume", "1", "--aht", "5 parsecs"])
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("unknown unit \"parsecs\"") && err.contains("write a duration like"),
        "{err}"
    );
}

#[test]
fn a_closed_pipe_is_not_an_error_to_report() {
    let write = |cause| chatcap::Error::Write {
        path: "-".into(),
        cause,
    };
    assert!(write(std::io::ErrorKind::BrokenPipe.into()).is_broken_pipe());
    let full = write(std::io::Error::other("storage full"));
    assert!(!full.is_broken_pipe());
    // Standard output gets no hint about directories, and the cause is said once.
    let message = full.to_string();
    assert!(!message.contains("directory"), "{message}");
    let chained = format!("{:#}", anyhow::Error::new(full));
    assert_eq!(chained.matches("storage full").count(), 1, "{chained}");
}

use super::run_cli as run;

fn small_team() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("profiles/small-team.toml")
}

#[test]
fn out_naming_the_profile_is_refused_and_the_profile_kept() {
    let dir = tempfile::tempdir().unwrap();
    let profile = dir.path().join("p.toml");
    std::fs::write(&profile, chatcap::profile::DEFAULT_PROFILE_TOML).unwrap();
    // The same file, also through another spelling of its path.
    let other_spelling = dir.path().join(".").join("p.toml");
    for out in [&profile, &other_spelling] {
        let err = run(&[
            "chatcap",
            "validate",
            profile.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ])
        .unwrap_err();
        let message = err.to_string();
        assert!(
            message.contains("--out") && message.contains("overwrite"),
            "{message}"
        );
        assert_eq!(err.exit_code(), 2);
    }
    let kept = std::fs::read_to_string(&profile).unwrap();
    assert_eq!(kept, chatcap::profile::DEFAULT_PROFILE_TOML);
}

#[test]
fn out_and_html_naming_one_file_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("report.html");
    let file = file.to_str().unwrap();
    let err = run(&[
        "chatcap", "simulate", "-r", "2", "--out", file, "--html", file,
    ])
    .unwrap_err();
    let message = err.to_string();
    assert!(
        message.contains("--html") && message.contains("--out"),
        "{message}"
    );
    assert!(!std::path::Path::new(file).exists());
}

#[test]
fn unwritable_html_fails_before_the_work() {
    let dir = tempfile::tempdir().unwrap();
    let html = dir.path().join("missing-dir").join("plan.html");
    let out = dir.path().join("plan.json");
    let started = std::time::Instant::now();
    let err = run(&[
        "chatcap",
        "plan",
        "--replications",
        "200",
        "--html",
        html.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ])
    .unwrap_err();
    // Planning the default profile with 200 replications takes many seconds; the check none.
    assert!(
        started.elapsed().as_secs_f64() < 1.5,
        "{:?}",
        started.elapsed()
    );
    assert!(matches!(err, chatcap::Error::Write { .. }), "{err}");
    assert!(err.to_string().contains("missing-dir"), "{err}");
    // The check leaves no file behind, and an existing --out is not truncated by it.
    assert!(!out.exists());
    std::fs::write(&out, "kept").unwrap();
    run(&[
        "chatcap",
        "plan",
        "--html",
        html.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ])
    .unwrap_err();
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "kept");
}

#[test]
fn profile_dash_reads_standard_input() {
    use std::io::Write;
    let text = std::fs::read_to_string(small_team()).unwrap().replace(
        "small-team-forecast.csv",
        "profiles/small-team-forecast.csv",
    );
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_chatcap"))
        .args(["validate", "-", "--format", "json"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let summary: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(summary["name"], "Small team weekday");
    assert_eq!(summary["source"], "<stdin>");
    assert_eq!(summary["intervals"], 16);
}

#[test]
fn completions_and_man_page_cover_every_command() {
    let bash = run(&["chatcap", "completions", "bash"]).unwrap();
    let zsh = run(&["chatcap", "completions", "zsh"]).unwrap();
    let man = run(&["chatcap", "man"]).unwrap();
    assert!(bash.contains("complete -F _chatcap"), "{bash}");
    assert!(zsh.starts_with("#compdef chatcap"), "{zsh}");
    assert!(man.contains(".TH chatcap 1"), "{man}");
    for command in [
        "erlang", "simulate", "plan", "caps", "validate", "serve", "loadtest",
    ] {
        assert!(
            bash.contains(command),
            "{command} missing from bash completions"
        );
        assert!(
            zsh.contains(command),
            "{command} missing from zsh completions"
        );
        assert!(man.contains(command), "{command} missing from the man page");
    }
    assert!(bash.contains("--confidence") && zsh.contains("--sl-target"));
    let err = Cli::try_parse_from(["chatcap", "completions", "tcsh"]).unwrap_err();
    assert!(err.to_string().contains("possible values"), "{err}");
}

#[test]
fn license_files_match_the_declared_licenses() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let manifest = std::fs::read_to_string(root.join("Cargo.toml")).unwrap();
    assert!(manifest.contains("license = \"MIT OR Apache-2.0\""));
    let mit = std::fs::read_to_string(root.join("LICENSE-MIT")).unwrap();
    let apache = std::fs::read_to_string(root.join("LICENSE-APACHE")).unwrap();
    assert!(mit.contains("Permission is hereby granted, free of charge"));
    assert!(mit.contains("chatcap contributors"));
    assert!(apache.contains("Apache License") && apache.contains("Version 2.0, January 2004"));
    assert!(apache.contains("END OF TERMS AND CONDITIONS"));
}

#[test]
fn help_lists_global_options_apart_from_the_commands_own() {
    let help = Cli::try_parse_from(["chatcap", "plan", "--help"])
        .unwrap_err()
        .to_string();
    let global = help
        .find("Global options:")
        .expect("a Global options heading");
    let own = help.find("--confidence").expect("plan's own flag");
    let format = help.rfind("--format").expect("the global --format");
    assert!(own < global && global < format, "{help}");
}

#[test]
fn flags_that_do_nothing_are_refused() {
    for (args, fragment) in [
        (
            &["chatcap", "schema", "plan", "--format", "csv"][..],
            "--format",
        ),
        (
            &["chatcap", "schema", "plan", "--format", "markdown"][..],
            "--format",
        ),
        (&["chatcap", "serve", "--format", "json"][..], "--format"),
        (&["chatcap", "serve", "--out", "x.txt"][..], "--out"),
        (&["chatcap", "man", "--format", "json"][..], "--format"),
    ] {
        let err = run(args).unwrap_err();
        let message = err.to_string();
        assert!(
            message.contains(fragment) && message.contains("does nothing"),
            "{args:?}: {message}"
        );
        assert_eq!(err.exit_code(), 2);
    }
    // Schema's JSON is JSON whichever way it is asked for.
    assert!(run(&["chatcap", "schema", "plan", "--format", "json"]).is_ok());
}

#[test]
fn run_flags_say_what_a_valid_value_is() {
    for (args, fragment) in [
        (
            &["chatcap", "simulate", "--replications", "-5"][..],
            "give 1 to 10000 replications",
        ),
        (&["chatcap", "plan", "-r", "many"][..], "give 1 to 10000"),
        (
            &["chatcap", "simulate", "--seed", "-1"][..],
            "from 0 to 18446744073709551615",
        ),
        (&["chatcap", "caps", "--threads", "-2"][..], "give 1 to 256"),
    ] {
        let err = Cli::try_parse_from(args).unwrap_err().to_string();
        assert!(err.contains(fragment), "{args:?}: {err}");
        assert!(!err.contains("invalid digit"), "{err}");
    }
}

#[test]
fn progress_bars_show_an_eta_and_stay_off_a_pipe() {
    let term = Recorder::default();
    let bar = chatcap::cli::progress_bar_on(
        indicatif::ProgressDrawTarget::term_like(Box::new(term.clone())),
        10,
        "planning",
    );
    bar.set_position(4);
    bar.abandon();
    let drawn = term.0.lock().unwrap().clone();
    assert!(
        drawn.contains("planning") && drawn.contains("4/10"),
        "{drawn:?}"
    );
    assert!(drawn.contains("ETA"), "{drawn:?}");
    // Standard error is a pipe here: nothing but the report is written.
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_chatcap"))
        .args(["plan", "--profile"])
        .arg(small_team())
        .args(["-r", "2", "--format", "json"])
        .output()
        .unwrap();
    assert!(output.status.success());
    assert!(
        output.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// A terminal that records what is drawn on it.
#[derive(Debug, Default, Clone)]
struct Recorder(std::sync::Arc<std::sync::Mutex<String>>);

impl indicatif::TermLike for Recorder {
    fn width(&self) -> u16 {
        120
    }
    fn move_cursor_up(&self, _: usize) -> std::io::Result<()> {
        Ok(())
    }
    fn move_cursor_down(&self, _: usize) -> std::io::Result<()> {
        Ok(())
    }
    fn move_cursor_right(&self, _: usize) -> std::io::Result<()> {
        Ok(())
    }
    fn move_cursor_left(&self, _: usize) -> std::io::Result<()> {
        Ok(())
    }
    fn write_line(&self, line: &str) -> std::io::Result<()> {
        self.write_str(line)
    }
    fn write_str(&self, text: &str) -> std::io::Result<()> {
        self.0.lock().unwrap().push_str(text);
        Ok(())
    }
    fn clear_line(&self) -> std::io::Result<()> {
        Ok(())
    }
    fn flush(&self) -> std::io::Result<()> {
        Ok(())
    }
}
