//! `chatcap simulate`: one scenario in full detail, with confidence intervals.

use std::io::Write;
use std::path::PathBuf;

use clap::Args;

use super::progress::progress_bar;
use super::{GlobalArgs, emit, emit_html};
use crate::error::{Error, Result};
use crate::plan::analytic_staffing;
use crate::profile;
use crate::report::Output;
use crate::sim::{self, Scenario, Staffing};

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
}

pub(crate) fn run(global: &GlobalArgs, args: &SimulateArgs, stdout: &mut dyn Write) -> Result<()> {
    super::check_run_flags(args.replications, args.threads)?;
    super::check_one_stdout(global, args.html.as_deref())?;
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
    let reps = profile.simulation.replications;
    let bar = progress_bar(global, u64::from(reps), "simulating");
    let mut report = sim::simulate(&scenario, reps, args.threads, &|| bar.inc(1))?;
    bar.finish_and_clear();
    report.warnings.extend(staffing_note);
    let output = Output::new(&report).map_err(Error::from)?;
    if let Some(path) = &args.html {
        emit_html(path, &output, stdout)?;
    }
    emit(global, &output, stdout)
}
