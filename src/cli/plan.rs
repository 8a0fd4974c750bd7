//! `chatcap plan`: the fewest agents per interval and group that meet the profile's targets,
//! verified by simulation, with rostered headcount and day totals.

use std::io::Write;
use std::path::PathBuf;

use clap::Args;

use super::progress::progress_bar;
use super::{GlobalArgs, emit, emit_html};
use crate::error::{Error, Result};
use crate::plan::{self, PlanOptions, SearchMode};
use crate::profile::{self, Profile};
use crate::report::Output;

/// Arguments shared by `chatcap plan` and `chatcap caps`.
#[derive(Debug, Clone, Args)]
pub(crate) struct PlanningArgs {
    /// Profile (TOML); the embedded default profile when omitted. Staffing written in the
    /// profile is ignored: the plan computes it.
    #[arg(long, short, value_name = "FILE")]
    pub profile: Option<PathBuf>,
    /// Require the 95% lower confidence bound (not just the mean) to meet each target.
    #[arg(long)]
    pub confidence: bool,
    /// Replications per evaluation (overrides the profile).
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
    /// Also write the tables as an Excel workbook to FILE (one sheet per table).
    #[arg(long, value_name = "FILE")]
    pub xlsx: Option<PathBuf>,
}

/// Arguments of `chatcap plan`.
#[derive(Debug, Clone, Args)]
pub(crate) struct PlanArgs {
    #[command(flatten)]
    pub planning: PlanningArgs,
    /// Paid hours of one FTE per day, for the FTE total.
    #[arg(
        long,
        default_value_t = 8.0,
        value_name = "HOURS",
        allow_negative_numbers = true
    )]
    pub fte_hours: f64,
    /// How candidate staffings are evaluated: `incremental` forks the simulated day at each
    /// interval; `naive` re-simulates the day from the start (same plan, slower).
    #[arg(long, value_enum, default_value_t = SearchMode::Incremental)]
    pub search: SearchMode,
}

impl PlanningArgs {
    /// The side files: `--html` and `--xlsx`.
    pub(crate) fn files(&self) -> Vec<(&'static str, Option<&std::path::Path>)> {
        vec![
            ("--html", self.html.as_deref()),
            ("--xlsx", self.xlsx.as_deref()),
        ]
    }

    /// At most one of the report, `--html` and `--xlsx` goes to standard output.
    pub(crate) fn check_outputs(&self, global: &GlobalArgs) -> Result<()> {
        super::check_one_stdout(
            global,
            &[
                ("--html", self.html.as_deref()),
                ("--xlsx", self.xlsx.as_deref()),
            ],
        )
    }

    /// Writes the side outputs asked for: the HTML report and the workbook.
    pub(crate) fn emit_files(&self, output: &Output, stdout: &mut dyn Write) -> Result<()> {
        if let Some(path) = &self.html {
            emit_html(path, output, stdout)?;
        }
        if let Some(path) = &self.xlsx {
            super::emit_xlsx(path, output, stdout)?;
        }
        Ok(())
    }

    /// The profile with the command line's overrides applied.
    pub(crate) fn profile(&self) -> Result<Profile> {
        super::check_run_flags(self.replications, self.threads)?;
        let mut profile = profile::load_or_default(self.profile.as_deref())?;
        if let Some(r) = self.replications {
            profile.simulation.replications = r;
        }
        if let Some(seed) = self.seed {
            profile.simulation.seed = seed;
        }
        Ok(profile)
    }

    /// Plan options from the flags (`plan::plan` checks `fte_hours`; [`Self::profile`] has
    /// checked the run flags).
    pub(crate) fn options(&self, search: SearchMode, fte_hours: f64) -> PlanOptions {
        PlanOptions {
            confidence: self.confidence,
            mode: search,
            threads: self.threads,
            fte_hours,
        }
    }
}

pub(crate) fn run(global: &GlobalArgs, args: &PlanArgs, stdout: &mut dyn Write) -> Result<()> {
    args.planning.check_outputs(global)?;
    let profile = args.planning.profile()?;
    let options = args.planning.options(args.search, args.fte_hours);
    let bar = progress_bar(global, 1, "planning");
    let report = plan::plan(&profile, options, &|done, total| {
        bar.set_length(total as u64);
        bar.set_position(done as u64);
    })?;
    bar.finish_and_clear();
    let output = Output::new(&report).map_err(Error::from)?;
    args.planning.emit_files(&output, stdout)?;
    emit(global, &output, stdout)
}
