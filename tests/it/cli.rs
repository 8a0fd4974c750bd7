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
