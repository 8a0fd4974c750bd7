//! The `chatcap` binary: parse arguments, run the library, map errors to exit codes.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = chatcap::Cli::parse();
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
