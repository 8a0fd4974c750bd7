//! Command-line interface: the clap definitions, dispatch to each command, and writing results
//! to standard output or `--out FILE` in the chosen `--format`.

mod caps;
mod erlang;
mod fit;
mod loadtest;
mod packaging;
mod plan;
mod progress;
mod roster;
mod schema;
mod serve;
mod simulate;
mod validate;

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::error::{Error, Result};
use crate::report::{Exporter, Format, HtmlExporter, Output};

use caps::CapsArgs;
use erlang::ErlangArgs;
use fit::FitArgs;
use loadtest::LoadtestArgs;
use packaging::{CompletionsArgs, ManArgs};
use plan::PlanArgs;
pub use progress::progress_bar_on;
use roster::RosterArgs;
use schema::SchemaArgs;
pub use schema::{SchemaName, schema_json};
use serve::ServeArgs;
use simulate::SimulateArgs;
use validate::ValidateArgs;

/// Workforce load-testing and capacity planner for live-chat support. A parsed command line:
/// build it with `Cli::parse_from` (clap's `Parser`) and run it with [`run`]; what it holds
/// stays the command line's own business.
#[derive(Debug, Parser)]
#[command(name = "chatcap", version, about, max_term_width = 100)]
pub struct Cli {
    /// Options shared by every command.
    #[command(flatten)]
    global: GlobalArgs,
    /// The command to run.
    #[command(subcommand)]
    command: Command,
}

impl Cli {
    /// Sets the width of the terminal standard output writes to (`None` when it is not a
    /// terminal): text tables written there fit it. The binary sets it; a library caller may.
    pub fn set_terminal_width(&mut self, width: Option<usize>) {
        self.global.terminal_width = width;
    }
}

/// Options shared by every command (listed apart from each command's own in `--help`).
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Global options")]
pub(crate) struct GlobalArgs {
    /// Output format.
    #[arg(long, global = true, value_enum, default_value_t = Format::Table)]
    pub(crate) format: Format,
    /// Write the output to FILE instead of standard output (`-` means standard output).
    #[arg(long, global = true, value_name = "FILE")]
    pub(crate) out: Option<PathBuf>,
    /// No progress bars or informational messages on standard error.
    #[arg(long, short, global = true)]
    pub(crate) quiet: bool,
    /// Text tables show every column and confidence interval, however wide (by default they
    /// fit the terminal, or 100 columns when the output is not a terminal).
    #[arg(long, global = true)]
    pub(crate) wide: bool,
    /// Width of the terminal standard output writes to; `None` when it is not a terminal.
    #[arg(skip)]
    pub(crate) terminal_width: Option<usize>,
}

/// Line length of text tables when the terminal's is unknown or the output is not a terminal.
pub const DEFAULT_TABLE_WIDTH: usize = 100;

impl GlobalArgs {
    /// The line length text tables must fit: the terminal's when the report goes to it,
    /// otherwise [`DEFAULT_TABLE_WIDTH`]; `None` (no limit) with `--wide`.
    pub(crate) fn table_width(&self) -> Option<usize> {
        if self.wide {
            return None;
        }
        let to_stdout = self.out.as_deref().is_none_or(|p| p == Path::new("-"));
        let terminal = self.terminal_width.filter(|_| to_stdout);
        Some(terminal.unwrap_or(DEFAULT_TABLE_WIDTH))
    }
}

/// The chatcap commands.
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
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
    /// Shifts, breaks and weekly lines covering the plan's requirement at the least paid
    /// time (the `[[shifts]]` rules), verified by simulating the roster.
    Roster(RosterArgs),
    /// Print the JSON Schema of a command's JSON output (plan, caps, simulate, roster).
    Schema(SchemaArgs),
    /// Check a profile and say exactly what is wrong with it.
    Validate(ValidateArgs),
    /// Fit a profile from chat history: volume forecast, handle time and slowdown per
    /// concurrency level, patience, bot, transfers; `--out` writes the profile.
    Fit(FitArgs),
    /// Serve the chat HTTP API over the routing core (the target of `chatcap loadtest`).
    Serve(ServeArgs),
    /// Load-test a chat backend (e.g. `chatcap serve`) with simulated customers and agents, and
    /// compare the measured waits with the simulator's forecast; `loadtest merge` sums the
    /// results of shards.
    #[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
    Loadtest(Box<LoadtestArgs>),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions(CompletionsArgs),
    /// Print the man page (roff), e.g. `chatcap man > chatcap.1`.
    Man(ManArgs),
}

/// A file a command reads: what it is, and its path.
type Input<'a> = (&'static str, &'a Path);

/// A side file a command may write: its flag, and the path given.
type SideFile<'a> = (&'static str, Option<&'a Path>);

/// A profile being read, as an input of [`check_outputs`].
fn profile(path: Option<&Path>) -> Vec<Input<'_>> {
    path.map(|p| ("profile", p)).into_iter().collect()
}

impl Command {
    /// The files a command reads (what each is, its path) and the side files it writes
    /// (`--html`, `--xlsx`), for [`check_outputs`].
    fn inputs_and_files(&self) -> (Vec<Input<'_>>, Vec<SideFile<'_>>) {
        match self {
            Command::Simulate(a) => (
                profile(a.profile.as_deref()),
                vec![("--html", a.html.as_deref())],
            ),
            Command::Plan(a) => (profile(a.planning.profile.as_deref()), a.planning.files()),
            Command::Caps(a) => (profile(a.planning.profile.as_deref()), a.planning.files()),
            Command::Roster(a) => {
                let mut inputs = profile(a.planning.profile.as_deref());
                inputs.extend(a.plan.as_deref().map(|p| ("plan", p)));
                inputs.extend(a.agents.as_deref().map(|p| ("agent list", p)));
                (inputs, a.planning.files())
            }
            Command::Validate(a) => (profile(Some(a.profile.as_path())), Vec::new()),
            Command::Fit(a) => {
                let mut inputs: Vec<(&str, &Path)> = profile(a.profile.as_deref());
                inputs.push(("chat log", a.log.as_path()));
                inputs.extend(a.agent_log.as_deref().map(|p| ("agent log", p)));
                (inputs, vec![("--html", a.html.as_deref())])
            }
            Command::Serve(a) => (profile(a.profile.as_deref()), Vec::new()),
            Command::Loadtest(a) => (profile(a.profile.as_deref()), Vec::new()),
            Command::Erlang(_) | Command::Schema(_) | Command::Completions(_) | Command::Man(_) => {
                (Vec::new(), Vec::new())
            }
        }
    }
}

/// Runs a parsed command line, writing results to `stdout` unless `--out` names a file.
pub fn run(cli: Cli, stdout: &mut dyn Write) -> Result<()> {
    let (inputs, files) = cli.command.inputs_and_files();
    check_outputs(&cli.global, &inputs, &files)?;
    match &cli.command {
        Command::Erlang(args) => erlang::run(&cli.global, args, stdout),
        Command::Simulate(args) => simulate::run(&cli.global, args, stdout),
        Command::Plan(args) => plan::run(&cli.global, args, stdout),
        Command::Caps(args) => caps::run(&cli.global, args, stdout),
        Command::Roster(args) => roster::run(&cli.global, args, stdout),
        Command::Schema(args) => schema::run(&cli.global, args, stdout),
        Command::Validate(args) => validate::run(&cli.global, args, stdout),
        Command::Fit(args) => fit::run(&cli.global, args, stdout),
        Command::Serve(args) => serve::run(&cli.global, args),
        Command::Loadtest(args) => loadtest::run(&cli.global, args, stdout),
        Command::Completions(args) => packaging::completions(&cli.global, args, stdout),
        Command::Man(_) => packaging::man(&cli.global, stdout),
    }
}

/// Checks the output files before any work starts, so that a long run never ends in a lost
/// report or an overwritten input: `--out` and the side files (`--html`, `--xlsx`) name no
/// file being read (profile, logs) nor one another, and each can be written (its directory
/// exists, the file is writable).
fn check_outputs(
    global: &GlobalArgs,
    inputs: &[(&str, &Path)],
    side: &[(&'static str, Option<&Path>)],
) -> Result<()> {
    let is_file = |p: &&Path| *p != Path::new("-");
    let files: Vec<(&str, &Path)> = std::iter::once(("--out", global.out.as_deref()))
        .chain(side.iter().copied())
        .filter_map(|(flag, p)| p.filter(is_file).map(|p| (flag, p)))
        .collect();
    for (k, &(flag, path)) in files.iter().enumerate() {
        if let Some(&(what, _)) = inputs
            .iter()
            .find(|(_, input)| is_file(input) && same_file(path, input))
        {
            return Err(Error::invalid(
                flag,
                format!(
                    "{} is the {what} being read; writing there would overwrite it: give {flag} \
                     another file",
                    path.display()
                ),
            ));
        }
        if let Some(&(other, _)) = files[..k].iter().find(|(_, p)| same_file(p, path)) {
            return Err(Error::invalid(
                flag,
                format!(
                    "{} is also the {other} file, so one would overwrite the other; give each its \
                     own file",
                    path.display()
                ),
            ));
        }
    }
    files.iter().try_for_each(|&(_, path)| check_writable(path))
}

/// Whether two paths name one file (the file need not exist yet).
fn same_file(a: &Path, b: &Path) -> bool {
    let resolve = |p: &Path| -> Option<PathBuf> {
        if let Ok(full) = p.canonicalize() {
            return Some(full);
        }
        let dir = match p.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        Some(dir.canonicalize().ok()?.join(p.file_name()?))
    };
    a == b || matches!((resolve(a), resolve(b)), (Some(x), Some(y)) if x == y)
}

/// Fails at once when `path` cannot be written, leaving an existing file as it is and no new
/// file behind.
fn check_writable(path: &Path) -> Result<()> {
    let wrap = |cause| Error::Write {
        path: path.to_path_buf(),
        cause,
    };
    if path.exists() {
        OpenOptions::new().append(true).open(path).map_err(wrap)?;
        Ok(())
    } else {
        File::create_new(path).map_err(wrap)?;
        std::fs::remove_file(path).map_err(wrap)
    }
}

/// Refuses a `--format` outside `allowed` (the default, table, is always allowed) for a command
/// whose output has one fixed form: a flag that does nothing is a mistake worth naming.
pub(crate) fn refuse_format(
    global: &GlobalArgs,
    allowed: &[Format],
    command: &str,
    writes: &str,
) -> Result<()> {
    if global.format == Format::Table || allowed.contains(&global.format) {
        return Ok(());
    }
    let name = global
        .format
        .to_possible_value()
        .map_or_else(String::new, |v| v.get_name().to_string());
    Err(Error::invalid(
        "--format",
        format!("{name} does nothing: `chatcap {command}` writes {writes}; drop --format"),
    ))
}

/// Writes `bytes` as they are to `--out` (or `stdout`).
pub(crate) fn write_bytes(global: &GlobalArgs, bytes: &[u8], stdout: &mut dyn Write) -> Result<()> {
    match global.out.as_deref() {
        Some(path) if path != Path::new("-") => {
            std::fs::write(path, bytes).map_err(|cause| Error::Write {
                path: path.to_path_buf(),
                cause,
            })
        }
        _ => stdout
            .write_all(bytes)
            .and_then(|()| stdout.flush())
            .map_err(|cause| Error::Write {
                path: "-".into(),
                cause,
            }),
    }
}

/// Parses `--replications`; [`check_run_flags`] checks the range.
pub(crate) fn parse_replications(text: &str) -> std::result::Result<u32, String> {
    text.trim().parse::<u32>().map_err(|_| {
        format!(
            "not a whole number; give 1 to {} replications (20 is typical)",
            crate::profile::MAX_REPLICATIONS
        )
    })
}

/// Parses `--seed`: any whole number from 0 to 2^64 - 1.
pub(crate) fn parse_seed(text: &str) -> std::result::Result<u64, String> {
    text.trim().parse::<u64>().map_err(|_| {
        format!(
            "not a whole number from 0 to {}; give e.g. 1 (each seed gives its own random streams)",
            u64::MAX
        )
    })
}

/// Parses `--threads`; [`check_run_flags`] checks the range.
pub(crate) fn parse_threads(text: &str) -> std::result::Result<usize, String> {
    text.trim().parse::<usize>().map_err(|_| {
        format!("not a whole number; give 1 to {MAX_THREADS} threads, or omit it for all cores")
    })
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
pub(crate) fn check_one_stdout(global: &GlobalArgs, extra: &[(&str, Option<&Path>)]) -> Result<()> {
    let dash = |p: Option<&Path>| p.is_some_and(|p| p == Path::new("-"));
    let mut report_on_stdout = global.out.as_deref().is_none_or(|p| p == Path::new("-"));
    for (flag, path) in extra {
        if dash(*path) {
            if report_on_stdout {
                return Err(Error::invalid(
                    flag,
                    format!(
                        "- would write the {} to standard output after the report; give {flag} a \
                         file, or send the report to a file with --out",
                        if *flag == "--xlsx" {
                            "workbook"
                        } else {
                            "HTML report"
                        }
                    ),
                ));
            }
            report_on_stdout = true;
        }
    }
    Ok(())
}

/// Writes `output` in the global format to `--out` (or `stdout`).
pub(crate) fn emit(global: &GlobalArgs, output: &Output, stdout: &mut dyn Write) -> Result<()> {
    let exporter = global.format.exporter(global.table_width());
    write_with(exporter.as_ref(), output, global.out.as_deref(), stdout)
}

/// Writes `output` as a standalone HTML report to `path` (`-` means `stdout`).
pub(crate) fn emit_html(path: &Path, output: &Output, stdout: &mut dyn Write) -> Result<()> {
    write_with(&HtmlExporter, output, Some(path), stdout)
}

/// Writes `output`'s tables as an Excel workbook to `path` (`-` means `stdout`).
pub(crate) fn emit_xlsx(path: &Path, output: &Output, stdout: &mut dyn Write) -> Result<()> {
    write_with(&crate::report::XlsxExporter, output, Some(path), stdout)
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
