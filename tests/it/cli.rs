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
