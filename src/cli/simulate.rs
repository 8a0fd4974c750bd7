//! `chatcap simulate`: one scenario in full detail, with confidence intervals, and on request
//! the chat log and agent log of the seed's replication.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use clap::Args;

use super::progress::progress_bar;
use super::{GlobalArgs, emit, emit_html};
use crate::error::{Error, Result};
use crate::plan::analytic_staffing;
use crate::profile;
use crate::report::Output;
use crate::sim::chatlog::ChatLogObserver;
use crate::sim::{self, Scenario, SimulationReport, Staffing};
use crate::{chatlog, profile::Profile};

/// Arguments of `chatcap simulate`.
#[derive(Debug, Clone, Args)]
pub(crate) struct SimulateArgs {
    /// Profile (TOML); the embedded default profile when omitted.
    #[arg(long, short, value_name = "FILE")]
    pub profile: Option<PathBuf>,
    /// Independent replications of the day (overrides the profile).
    #[arg(long, short, allow_negative_numbers = true, value_parser = super::parse_replications)]
    pub replications: Option<u32>,
    /// Base random seed (overrides the profile).
    #[arg(long, short, allow_negative_numbers = true, value_parser = super::parse_seed)]
    pub seed: Option<u64>,
    /// Worker threads (default: all cores); results do not depend on it.
    #[arg(long, allow_negative_numbers = true, value_parser = super::parse_threads)]
    pub threads: Option<usize>,
    /// Also write a standalone HTML report to FILE.
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
    /// Also write the chat log (CSV, one row per customer) of replication 0, the seed's, to
    /// FILE; the report still covers every replication.
    #[arg(long, value_name = "FILE")]
    pub log: Option<PathBuf>,
    /// With --log: also write the agents' status spans (CSV) to FILE.
    #[arg(long, value_name = "FILE", requires = "log")]
    pub agent_log: Option<PathBuf>,
}

pub(crate) fn run(global: &GlobalArgs, args: &SimulateArgs, stdout: &mut dyn Write) -> Result<()> {
    super::check_run_flags(args.replications, args.threads)?;
    super::check_one_stdout(global, &[("--html", args.html.as_deref())])?;
    check_log_paths(global, args)?;
    let mut profile = profile::load_or_default(args.profile.as_deref())?;
    if let Some(r) = args.replications {
        profile.simulation.replications = r;
    }
    if let Some(seed) = args.seed {
        profile.simulation.seed = seed;
    }
    let (staffing, staffing_note) = match Staffing::from_profile(&profile) {
        Some(s) => (s, None),
        None => (
            analytic_staffing(&profile)?,
            Some(
                "staffing not given in the profile: simulated with the closed-form estimate; \
                 run `chatcap plan` for a staffing verified by simulation"
                    .to_string(),
            ),
        ),
    };
    let scenario = Scenario::new(&profile, &staffing)?;
    let mut report = match &args.log {
        None => {
            let reps = profile.simulation.replications;
            let bar = progress_bar(global, u64::from(reps), "simulating");
            let report = sim::simulate(&scenario, reps, args.threads, &|| bar.inc(1))?;
            bar.finish_and_clear();
            report
        }
        Some(log) => simulate_logged(global, args, &profile, &scenario, log, stdout)?,
    };
    report.warnings.extend(staffing_note);
    let output = Output::new(&report).map_err(Error::from)?;
    if let Some(path) = &args.html {
        emit_html(path, &output, stdout)?;
    }
    emit(global, &output, stdout)
}

/// Refuses `-` (standard output) for a log when something else already goes there.
fn check_log_paths(global: &GlobalArgs, args: &SimulateArgs) -> Result<()> {
    let dash = |p: Option<&Path>| p.is_some_and(|p| p == Path::new("-"));
    let report_to_stdout = global.out.as_deref().is_none_or(|p| p == Path::new("-"));
    let mut taken = report_to_stdout || dash(args.html.as_deref());
    for (flag, path) in [("--log", &args.log), ("--agent-log", &args.agent_log)] {
        if dash(path.as_deref()) {
            if taken {
                return Err(Error::invalid(
                    flag,
                    "- would write the log to standard output beside another output; give \
                     the log a file, or send the report to a file with --out",
                ));
            }
            taken = true;
        }
    }
    Ok(())
}

/// Simulates with replication 0 observed and writes its chat log to `log` (and the agent log
/// to `--agent-log`); the files are opened first, so a bad path fails before the run.
fn simulate_logged(
    global: &GlobalArgs,
    args: &SimulateArgs,
    profile: &Profile,
    scenario: &Scenario,
    log: &Path,
    stdout: &mut dyn Write,
) -> Result<SimulationReport> {
    let chat_file = open_log(log)?;
    let agent_file = args.agent_log.as_deref().map(open_log).transpose()?;
    let reps = profile.simulation.replications;
    let bar = progress_bar(global, u64::from(reps), "simulating");
    let observer = ChatLogObserver::new(scenario);
    let (report, observer) =
        sim::simulate_observed(scenario, reps, args.threads, &|| bar.inc(1), observer)?;
    bar.finish_and_clear();
    let (calendar, zone) = (&profile.calendar, &profile.calendar.zone);
    write_log(log, chat_file, stdout, |w| {
        chatlog::write::write_chat_log(w, observer.chat_rows(calendar), zone)
    })?;
    if let (Some(path), Some(file)) = (&args.agent_log, agent_file) {
        write_log(path, file, stdout, |w| {
            chatlog::write::write_agent_log(w, observer.agent_rows(calendar), zone)
        })?;
    }
    Ok(report)
}

/// A buffered file for a log, or `None` for `-` (standard output).
fn open_log(path: &Path) -> Result<Option<BufWriter<File>>> {
    if path == Path::new("-") {
        return Ok(None);
    }
    let file = File::create(path).map_err(|cause| Error::Write {
        path: path.to_path_buf(),
        cause,
    })?;
    Ok(Some(BufWriter::new(file)))
}

/// Writes one log with `write` to its `file`, or to `stdout` for `-` (no file).
fn write_log(
    path: &Path,
    file: Option<BufWriter<File>>,
    stdout: &mut dyn Write,
    write: impl FnOnce(&mut dyn Write) -> std::io::Result<u64>,
) -> Result<()> {
    let wrap = |cause| Error::Write {
        path: path.to_path_buf(),
        cause,
    };
    match file {
        Some(mut f) => {
            write(&mut f).map_err(wrap)?;
            f.flush().map_err(wrap)
        }
        None => {
            write(stdout).map_err(wrap)?;
            stdout.flush().map_err(wrap)
        }
    }
}
