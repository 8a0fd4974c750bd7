//! `chatcap roster`: shifts, breaks and weekly lines covering the plan's requirement at the
//! least paid time, verified by simulating the roster.

use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

use clap::Args;

use super::plan::PlanningArgs;
use super::progress::progress_bar;
use super::{GlobalArgs, emit};
use crate::error::{Error, Result};
use crate::plan::{self, SearchMode};
use crate::report::Output;
use crate::roster::{self, RosterOptions, requirement};

/// Arguments of `chatcap roster`.
#[derive(Debug, Clone, Args)]
pub(crate) struct RosterArgs {
    #[command(flatten)]
    pub planning: PlanningArgs,
    /// The requirement: the JSON of `chatcap plan --format json` for this profile (planned now
    /// when omitted).
    #[arg(long, value_name = "FILE")]
    pub plan: Option<PathBuf>,
    /// Most repair rounds: where the roster's simulation misses a target, add cover to the
    /// roster and simulate it again.
    #[arg(long, default_value_t = 3, value_name = "N", value_parser = clap::value_parser!(u32).range(0..=20))]
    pub rounds: u32,
    /// Agents to assign the lines to: a CSV with `agent_id,group,contracted_hours,available`
    /// (`available`: weekday windows such as "Mon-Fri 08:00-18:00; Sat 09:00-13:00").
    #[arg(long, value_name = "FILE")]
    pub agents: Option<PathBuf>,
}

pub(crate) fn run(global: &GlobalArgs, args: &RosterArgs, stdout: &mut dyn Write) -> Result<()> {
    args.planning.check_outputs(global)?;
    let profile = args.planning.profile()?;
    let agents = match &args.agents {
        Some(path) => Some(roster::agents::read(&profile, path)?),
        None => None,
    };
    let started = Instant::now();
    let required = match &args.plan {
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|e| {
                roster::RosterError::Input(format!(
                    "cannot read plan {}: {e}; give the path of a `chatcap plan --format json` file",
                    path.display()
                ))
            })?;
            requirement::from_plan_file(&profile, path, &text)?
        }
        None => {
            let bar = progress_bar(global, 1, "planning");
            let options = args.planning.options(SearchMode::Incremental, 8.0);
            let report = plan::plan(&profile, options, &|done, total| {
                bar.set_length(total as u64);
                bar.set_position(done as u64);
            })?;
            bar.finish_and_clear();
            requirement::from_report(&profile, &report)
        }
    };
    let plan_secs = if args.plan.is_some() {
        0.0
    } else {
        started.elapsed().as_secs_f64()
    };
    let options = RosterOptions {
        rounds: args.rounds as usize,
        threads: args.planning.threads,
    };
    let bar = progress_bar(global, 1, "rostering");
    let agents = agents.as_deref();
    let report = roster::roster(
        &profile,
        required,
        plan_secs,
        options,
        agents,
        &|done, total| {
            bar.set_length(total as u64);
            bar.set_position(done as u64);
        },
    )?;
    bar.finish_and_clear();
    let output = Output::new(&report).map_err(Error::from)?;
    args.planning.emit_files(&output, stdout)?;
    emit(global, &output, stdout)
}
