//! Command-line interface: the clap definitions, dispatch to each command, and writing results
//! to standard output or `--out FILE` in the chosen `--format`.

mod caps;
mod erlang;
mod loadtest;
mod plan;
mod schema;
mod serve;
mod simulate;
mod validate;

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use clap::{Args, Parser, Subcommand};

use crate::error::{Error, Result};
use crate::report::{Exporter, Format, HtmlExporter, Output};

pub use caps::CapsArgs;
pub use erlang::ErlangArgs;
pub use loadtest::LoadtestArgs;
pub use plan::PlanArgs;
pub use schema::{SchemaArgs, SchemaName, schema_json};
pub use serve::ServeArgs;
pub use simulate::SimulateArgs;
pub use validate::ValidateArgs;

/// Workforce load-testing and capacity planner for live-chat support.
#[derive(Debug, Parser)]
#[command(name = "chatcap", version, about, max_term_width = 100)]
pub struct Cli {
    /// Options shared by every command.
    #[command(flatten)]
    pub global: GlobalArgs,
    /// The command to run.
    #[command(subcommand)]
    pub command: Command,
}

/// Options shared by every command.
#[derive(Debug, Clone, Args)]
pub struct GlobalArgs {
    /// Output format.
    #[arg(long, global = true, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Write the output to FILE instead of standard output (`-` means standard output).
    #[arg(long, global = true, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// No progress bars or informational messages on standard error.
    #[arg(long, short, global = true)]
    pub quiet: bool,
}

/// The chatcap commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Closed-form Erlang C / Erlang A staffing: the fewest agents meeting every target, or the
    /// figures for a given number of agents.
    Erlang(ErlangArgs),
    /// Simulate one scenario in full detail: every figure with a 95% confidence interval.
    Simulate(SimulateArgs),
    /// The fewest agents per interval and group meeting the profile's targets, found by
    /// simulation from a closed-form start and verified by an independent run.
    Plan(PlanArgs),
    /// The plan for each per-agent concurrency cap (headcount, AHT, FRT, occupancy) and the
    /// cap to run.
    Caps(CapsArgs),
    /// Print the JSON Schema of a command's JSON output (plan, caps, simulate).
    Schema(SchemaArgs),
    /// Check a profile and say exactly what is wrong with it.
    Validate(ValidateArgs),
    /// Serve the chat HTTP API over the routing core (the target of `chatcap loadtest`).
    Serve(ServeArgs),
    /// Load-test a chat backend (e.g. `chatcap serve`) with simulated customers and agents, and
    /// compare the measured waits with the simulator's forecast.
    Loadtest(LoadtestArgs),
}

/// Runs a parsed command line, writing results to `stdout` unless `--out` names a file.
pub fn run(cli: Cli, stdout: &mut dyn Write) -> Result<()> {
    match &cli.command {
        Command::Erlang(args) => erlang::run(&cli.global, args, stdout),
        Command::Simulate(args) => simulate::run(&cli.global, args, stdout),
        Command::Plan(args) => plan::run(&cli.global, args, stdout),
        Command::Caps(args) => caps::run(&cli.global, args, stdout),
        Command::Schema(args) => schema::run(&cli.global, args, stdout),
        Command::Validate(args) => validate::run(&cli.global, args, stdout),
        Command::Serve(args) => serve::run(&cli.global, args),
        Command::Loadtest(args) => loadtest::run(&cli.global, args, stdout),
    }
}

/// Most worker threads a run may ask for.
const MAX_THREADS: usize = 256;

/// Checks the `--replications` and `--threads` of a command that simulates.
pub(crate) fn check_run_flags(replications: Option<u32>, threads: Option<usize>) -> Result<()> {
    let most = crate::profile::MAX_REPLICATIONS;
    if let Some(r) = replications
        && !(1..=most).contains(&r)
    {
        return Err(Error::invalid(
            "--replications",
            format!("{r}; give 1 to {most} (20 is typical)"),
        ));
    }
    match threads {
        Some(0) => Err(Error::invalid(
            "--threads",
            "0; give at least 1, or omit for all cores",
        )),
        Some(t) if t > MAX_THREADS => Err(Error::invalid(
            "--threads",
            format!("{t}; give at most {MAX_THREADS}, or omit for all cores"),
        )),
        _ => Ok(()),
    }
}

/// Refuses two documents on standard output: the report in the global format and the HTML one.
pub(crate) fn check_one_stdout(global: &GlobalArgs, html: Option<&Path>) -> Result<()> {
    let to_stdout = |p: Option<&Path>| p.is_none_or(|p| p == Path::new("-"));
    if html.is_some_and(|h| h == Path::new("-")) && to_stdout(global.out.as_deref()) {
        return Err(Error::invalid(
            "--html",
            "- would write the HTML report to standard output after the report; give --html a \
             file, or send the report to a file with --out",
        ));
    }
    Ok(())
}

/// Writes `output` in the global format to `--out` (or `stdout`).
pub(crate) fn emit(global: &GlobalArgs, output: &Output, stdout: &mut dyn Write) -> Result<()> {
    let exporter = global.format.exporter();
    write_with(exporter.as_ref(), output, global.out.as_deref(), stdout)
}

/// Writes `output` as a standalone HTML report to `path` (`-` means `stdout`).
pub(crate) fn emit_html(path: &Path, output: &Output, stdout: &mut dyn Write) -> Result<()> {
    write_with(&HtmlExporter, output, Some(path), stdout)
}

fn write_with(
    exporter: &dyn Exporter,
    output: &Output,
    path: Option<&Path>,
    stdout: &mut dyn Write,
) -> Result<()> {
    match path {
        None => exporter
            .export(output, stdout)
            .and_then(|()| stdout.flush())
            .map_err(|source| Error::Write {
                path: "-".into(),
                cause: source,
            }),
        Some(p) if p == Path::new("-") => exporter
            .export(output, stdout)
            .and_then(|()| stdout.flush())
            .map_err(|source| Error::Write {
                path: "-".into(),
                cause: source,
            }),
        Some(p) => {
            let wrap = |source| Error::Write {
                path: p.to_path_buf(),
                cause: source,
            };
            let mut file = BufWriter::new(File::create(p).map_err(wrap)?);
            exporter.export(output, &mut file).map_err(wrap)?;
            file.flush().map_err(wrap)
        }
    }
}
