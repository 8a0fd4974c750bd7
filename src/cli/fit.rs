//! `chatcap fit`: chat history in, a profile and a report out. The global `--out` names the
//! profile file (the issue's `chatcap fit --log chats.csv --out profile.toml`); the report goes
//! to standard output in `--format`, and to `--html` as a page with charts.

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::Args;

use super::{GlobalArgs, emit, emit_html};
use crate::error::{Error, Result};
use crate::fit::{self, FitError, FitOptions};
use crate::profile::duration::parse_duration;
use crate::report::Output;

/// Arguments of `chatcap fit`.
#[derive(Debug, Clone, Args)]
pub(crate) struct FitArgs {
    /// The chat log (CSV, one row per chat; see the README's "Chat log format").
    #[arg(long, value_name = "FILE")]
    pub log: PathBuf,
    /// The agent log (CSV, one row per status span): agent groups and staffing history.
    #[arg(long, value_name = "FILE")]
    pub agent_log: Option<PathBuf>,
    /// Interval length of the forecast and the profile; must divide a day.
    #[arg(long, value_parser = parse_duration, default_value = "30m", value_name = "DURATION", allow_hyphen_values = true)]
    pub interval: f64,
    /// Days forecast after the history's last whole day (written as the profile's `days`).
    #[arg(long, value_parser = parse_duration, default_value = "7d", value_name = "DAYS", allow_hyphen_values = true)]
    pub horizon: f64,
    /// Last days of the history held out to backtest the forecast (0d: no backtest).
    #[arg(long, value_parser = parse_duration, default_value = "7d", value_name = "DAYS", allow_hyphen_values = true)]
    pub holdout: f64,
    /// Time zone local timestamps are read in and intervals laid out in (IANA name).
    #[arg(long, default_value = "UTC", value_name = "ZONE")]
    pub timezone: String,
    /// Column names of the log's own export: `created_at=Started,queue=Team,...`.
    #[arg(long, value_name = "CANONICAL=SOURCE,...")]
    pub map: Option<String>,
    /// Profile whose targets, routing, simulation settings and shrinkage the fitted profile
    /// copies (chatcap's defaults otherwise).
    #[arg(long, short, value_name = "BASE")]
    pub profile: Option<PathBuf>,
    /// Also write a standalone HTML report with charts to FILE.
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
}

pub(crate) fn run(global: &GlobalArgs, args: &FitArgs, stdout: &mut dyn Write) -> Result<()> {
    let profile_out = profile_path(global)?;
    let options = options(args)?;
    let fitted = fit::fit(&options)?;
    let mut report = fitted.report;
    if profile_out.is_none() {
        report.warnings.push(
            "no profile written: give --out profile.toml to write the fitted profile".to_string(),
        );
    }
    if let Some(path) = profile_out {
        std::fs::write(path, &fitted.profile_toml).map_err(|cause| Error::Write {
            path: path.to_path_buf(),
            cause,
        })?;
    }
    let output = Output::new(&report).map_err(Error::from)?;
    if let Some(path) = &args.html {
        emit_html(path, &output, stdout)?;
    }
    // The report goes to standard output whatever --out says: --out is the profile.
    let report_global = GlobalArgs {
        out: None,
        ..global.clone()
    };
    emit(&report_global, &output, stdout)
}

/// The profile file (`--out`); `-` is refused because the report is what standard output
/// carries. (That no output names a log being read is checked with every command's outputs.)
fn profile_path(global: &GlobalArgs) -> Result<Option<&Path>> {
    match global.out.as_deref() {
        Some(out) if out == Path::new("-") => Err(Error::invalid(
            "--out",
            "- would mix the profile with the report on standard output; give --out a file \
             such as profile.toml (the report goes to standard output)",
        )),
        out => Ok(out),
    }
}

/// The fit's options from the flags: whole days, the map parsed, the base profile read.
fn options(args: &FitArgs) -> Result<FitOptions> {
    let map = match &args.map {
        Some(text) => fit::parse_map(text)?,
        None => Vec::new(),
    };
    let base = match &args.profile {
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|e| {
                FitError::Base(format!(
                    "cannot read {}: {}",
                    path.display(),
                    crate::profile::read_hint(&e, "check the path and permissions")
                ))
            })?;
            Some((path.display().to_string(), text))
        }
        None => None,
    };
    Ok(FitOptions {
        chat_log: args.log.clone(),
        agent_log: args.agent_log.clone(),
        interval_secs: fit::grid::check_interval(args.interval)? as f64,
        horizon_days: fit::whole_days("--horizon", args.horizon, 1)?,
        holdout_days: fit::whole_days("--holdout", args.holdout, 0)?,
        timezone: args.timezone.trim().to_string(),
        map,
        base,
    })
}
