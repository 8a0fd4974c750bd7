//! The `chatcap` binary: parse arguments, run the library, map errors to exit codes.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let mut cli = chatcap::Cli::parse();
    // `None` when standard output is not a terminal.
    cli.set_terminal_width(terminal_size::terminal_size().map(|(w, _)| usize::from(w.0)));
    let mut stdout = std::io::stdout().lock();
    match chatcap::run(cli, &mut stdout) {
        Ok(()) => ExitCode::SUCCESS,
        // A reader that stopped reading (`| head`) got what it wanted.
        Err(err) if err.is_broken_pipe() => ExitCode::SUCCESS,
        Err(err) => {
            let code = err.exit_code();
            eprintln!("error: {:#}", anyhow::Error::new(err));
            ExitCode::from(code)
        }
    }
}
