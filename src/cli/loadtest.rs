//! `chatcap loadtest`: checks the flags, plans the window, runs the goose attack on a tokio
//! runtime of its own, writes the summary and turns failed `--threshold` rules into exit code 1.

use std::io::Write;
use std::path::PathBuf;

use clap::{Args, Subcommand};

use super::progress::ClockBar;
use super::{GlobalArgs, emit};
use crate::error::{Error, Result};
use crate::loadtest::{self, AgentsChoice, LoadPlan, LoadTestConfig, PlanInputs, Threshold};
use crate::profile::{self, duration::parse_duration};
use crate::report::Output;

/// Arguments of `chatcap loadtest`.
#[derive(Debug, Clone, Args)]
pub(crate) struct LoadtestArgs {
    /// `merge`: the summary of shards' result files.
    #[command(subcommand)]
    pub command: Option<LoadtestCommand>,
    /// Base URL of the chat API (e.g. http://127.0.0.1:8080).
    #[arg(long, value_name = "URL", required = true)]
    pub host: Option<String>,
    /// Profile (TOML) the server also serves; the embedded default when omitted.
    #[arg(long, short, value_name = "FILE")]
    pub profile: Option<PathBuf>,
    /// Wall time of arrivals (e.g. 60s); it covers duration x time scale of profile time.
    #[arg(long, value_parser = parse_duration, value_name = "D", allow_hyphen_values = true, required = true)]
    pub duration: Option<f64>,
    /// Compress profile time K-fold on both sides; the server must run with the same value.
    #[arg(
        long,
        default_value_t = 1.0,
        value_name = "K",
        allow_negative_numbers = true
    )]
    pub time_scale: f64,
    /// Agents on duty: N in every agent group, or GROUP=N,... (default: the profile's
    /// staffing, else the closed-form estimate).
    #[arg(long, value_name = "N|GROUP=N,...")]
    pub agents: Option<String>,
    /// The server's operator token, with which each agent logs in for a token of its own.
    #[arg(
        long,
        env = "CHATCAP_AGENT_TOKEN",
        value_name = "T",
        hide_env_values = true
    )]
    pub agent_token: Option<String>,
    /// How to speak the backend's API: `chatcap` (its own API, docs/api.md) or a target file
    /// (docs/targets.md), e.g. targets/chatwoot.toml.
    #[arg(long, value_name = "chatcap|FILE", default_value = "chatcap")]
    pub target: String,
    /// A value for the target file's [vars] (repeatable), e.g. --var inbox=abc123.
    #[arg(long = "var", value_name = "NAME=VALUE", value_parser = parse_var)]
    pub vars: Vec<(String, String)>,
    /// A rule the run must meet, e.g. wait_p90<30s, service_level>0.8, route_p99<5ms,
    /// http_p99<200ms, abandon_rate<0.05 (repeatable); a failed rule exits with code 1.
    #[arg(long = "threshold", value_name = "EXPR")]
    pub thresholds: Vec<String>,
    /// Also write goose's own report (.html, .json or .md, optionally .gz; repeatable).
    #[arg(long = "report-file", value_name = "F")]
    pub report_files: Vec<String>,
    /// Interval start the test begins at: a clock time (on a dated horizon, the first day's) or,
    /// on a dated horizon, a local date-time YYYY-MM-DDTHH:MM (default: the first interval).
    #[arg(long, value_name = "WHEN")]
    pub start: Option<String>,
    /// Wall time after the arrivals for open chats to end before their customers leave.
    #[arg(long, value_parser = parse_duration, default_value = "60s", value_name = "D", allow_hyphen_values = true)]
    pub drain: f64,
    /// Customer users (default: sized from the arrival rate and the time a chat takes).
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    pub customers: Option<usize>,
    /// Profile time between an agent's status messages during a chat (0: none).
    #[arg(long, value_parser = parse_duration, default_value = "60s", value_name = "D", allow_hyphen_values = true)]
    pub status_every: f64,
    /// Replications of the forecast (overrides the profile).
    #[arg(long, short, allow_negative_numbers = true, value_parser = super::parse_replications)]
    pub replications: Option<u32>,
    /// Seed of the arrival schedule and the forecast (overrides the profile).
    #[arg(long, short, allow_negative_numbers = true, value_parser = super::parse_seed)]
    pub seed: Option<u64>,
    /// Play shard K of N (1-based): the arrivals and agents numbered K-1 modulo N, so that N
    /// processes together play the one-process schedule; needs --start-at when N > 1.
    #[arg(long, value_name = "K/N", value_parser = loadtest::Shard::parse)]
    pub shard: Option<loadtest::Shard>,
    /// The wall-clock instant the window starts, the same for every shard: RFC 3339
    /// (2026-12-04T17:00:00Z) or Unix seconds.
    #[arg(long, value_name = "TIME", value_parser = loadtest::parse_start_at)]
    pub start_at: Option<std::time::SystemTime>,
    /// Also write the mergeable result (counts, HDR histograms, forecast) for `loadtest merge`.
    #[arg(long, value_name = "FILE")]
    pub result: Option<PathBuf>,
}

/// Subcommands of `chatcap loadtest`.
#[derive(Debug, Clone, Subcommand)]
pub(crate) enum LoadtestCommand {
    /// The summary of a sharded run from every shard's --result file, as one process would
    /// have printed it; a failed --threshold exits with code 1.
    Merge(MergeArgs),
}

/// Arguments of `chatcap loadtest merge`.
#[derive(Debug, Clone, Args)]
pub(crate) struct MergeArgs {
    /// Every shard's result file (written by `loadtest --result`).
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// A rule the merged run must meet (as for `loadtest`; repeatable).
    #[arg(long = "threshold", value_name = "EXPR")]
    pub thresholds: Vec<String>,
}

/// `NAME=VALUE` of `--var`.
fn parse_var(text: &str) -> std::result::Result<(String, String), String> {
    match text.split_once('=') {
        Some((name, value)) if !name.trim().is_empty() => {
            Ok((name.trim().to_string(), value.to_string()))
        }
        _ => Err(format!(
            "{text:?} is not NAME=VALUE; write e.g. --var inbox=abc123"
        )),
    }
}

/// Longest `--drain` or `--status-every`, seconds (a week).
const MAX_FLAG_SECS: f64 = 7.0 * 86_400.0;

/// Goose picks a report's format from its extension.
fn check_report_file(name: &str) -> Result<()> {
    let lower = name.to_ascii_lowercase();
    let base = lower.strip_suffix(".gz").unwrap_or(&lower);
    if [".html", ".htm", ".json", ".md"]
        .iter()
        .any(|ext| base.ends_with(ext))
    {
        Ok(())
    } else {
        Err(Error::invalid(
            "--report-file",
            format!("{name:?}: use a name ending in .html, .htm, .json or .md (optionally .gz)"),
        ))
    }
}

/// What the flags say once checked, before the profile is read.
struct CheckedFlags {
    host: String,
    duration: f64,
    shard: loadtest::Shard,
    thresholds: Vec<Threshold>,
    start: Option<profile::StartAt>,
    agents: AgentsChoice,
}

/// Checks every flag that needs no profile, so a mistake is named before any work starts.
fn check_flags(args: &LoadtestArgs) -> Result<CheckedFlags> {
    if !(args.time_scale.is_finite() && args.time_scale >= 1.0) {
        return Err(Error::invalid(
            "--time-scale",
            format!(
                "{}; give 1 (real time) or more (profile seconds per wall second), as the server's",
                args.time_scale
            ),
        ));
    }
    let duration = args.duration.unwrap_or(0.0);
    if duration <= 0.0 {
        return Err(Error::invalid(
            "--duration",
            "0 or missing; give the wall time of arrivals, e.g. 60s",
        ));
    }
    let host = loadtest::check_host(args.host.as_deref().unwrap_or(""))?;
    let shard = args.shard.unwrap_or_default();
    if shard.count > 1 && args.start_at.is_none() {
        return Err(Error::invalid(
            "--shard",
            format!(
                "{}/{} without --start-at: the shards would start apart; give every shard the \
                 same --start-at, e.g. $(date -u -d '+30 seconds' +%Y-%m-%dT%H:%M:%SZ)",
                shard.index, shard.count
            ),
        ));
    }
    if args.agent_token.as_deref().is_some_and(str::is_empty) {
        return Err(Error::invalid(
            "--agent-token",
            "an empty token; give the server's token or omit it",
        ));
    }
    // Wall and profile durations beyond a week are typing errors, and would overflow timers.
    for (flag, secs) in [
        ("--drain", args.drain),
        ("--status-every", args.status_every),
    ] {
        if secs > MAX_FLAG_SECS {
            return Err(Error::invalid(
                flag,
                format!("{secs} s; give at most a week (604800 s), e.g. 60s"),
            ));
        }
    }
    let thresholds = args
        .thresholds
        .iter()
        .map(|t| Threshold::parse(t).map_err(|e| Error::invalid("--threshold", e)))
        .collect::<Result<Vec<_>>>()?;
    for f in &args.report_files {
        check_report_file(f)?;
    }
    let start = args
        .start
        .as_deref()
        .map(profile::StartAt::parse)
        .transpose()
        .map_err(|e| Error::invalid("--start", e))?;
    let agents = match &args.agents {
        None => AgentsChoice::Profile,
        Some(text) => AgentsChoice::parse(text).map_err(|e| Error::invalid("--agents", e))?,
    };
    super::check_run_flags(args.replications, None)?;
    Ok(CheckedFlags {
        host,
        duration,
        shard,
        thresholds,
        start,
        agents,
    })
}

/// The forecast's replications: `--replications`, else the profile's; at least 2.
fn forecast_replications(args: &LoadtestArgs, profile: &profile::Profile) -> Result<u32> {
    let replications = args.replications.unwrap_or(profile.simulation.replications);
    if replications < 2 {
        return Err(Error::invalid(
            "--replications",
            format!(
                "{replications}; the forecast needs at least 2 for a confidence interval (20 is \
                 typical): set --replications or [simulation] replications"
            ),
        ));
    }
    Ok(replications)
}

/// The line on standard error that says what the test will do, and the preflight's warnings.
fn announce(plan: &LoadPlan, host: &str, target: &loadtest::Target, warnings: &[String]) {
    eprintln!(
        "chatcap loadtest: {} from {} for {:.0} profile s ({:.1} s wall at time scale {}), \
         {} scheduled customers, {} agents, {} customer users{} -> {} (target {})",
        plan.profile.name,
        plan.window.start,
        plan.window.profile_secs,
        plan.window.wall_secs,
        plan.window.time_scale,
        plan.shard_arrivals.len(),
        plan.shard_agents.len(),
        plan.customers,
        if plan.shard.count > 1 {
            format!(" (shard {}/{})", plan.shard.index, plan.shard.count)
        } else {
            String::new()
        },
        host,
        target.name
    );
    for warning in warnings {
        eprintln!("warning: {warning}");
    }
}

pub(crate) fn run(global: &GlobalArgs, args: &LoadtestArgs, stdout: &mut dyn Write) -> Result<()> {
    if let Some(LoadtestCommand::Merge(merge)) = &args.command {
        return run_merge(global, merge, stdout);
    }
    let flags = check_flags(args)?;
    let profile = profile::load_or_default(args.profile.as_deref())?;
    let replications = forecast_replications(args, &profile)?;
    let plan = LoadPlan::new(
        profile,
        &PlanInputs {
            duration_secs: flags.duration,
            time_scale: args.time_scale,
            start: flags.start,
            agents: flags.agents,
            customers: args.customers,
            seed: args.seed,
            shard: flags.shard,
        },
    )?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| loadtest::LoadTestError::Run(format!("cannot start the runtime: {e}")))?;
    // A server that is not there, or serves something else, is named before the banner.
    let context = loadtest::TargetContext {
        agent_token: args.agent_token.clone().unwrap_or_default(),
        time_scale: args.time_scale,
        vars: args.vars.iter().cloned().collect(),
    };
    let target = std::sync::Arc::new(
        loadtest::target::load(&args.target, &context).map_err(loadtest::LoadTestError::from)?,
    );
    let early_warnings = runtime.block_on(loadtest::preflight(&flags.host, &plan, &target))?;
    if !global.quiet {
        announce(&plan, &flags.host, &target, &early_warnings);
    }
    let wall_secs = plan.window.wall_secs;
    let config = LoadTestConfig {
        host: flags.host,
        plan,
        target,
        early_warnings: early_warnings.clone(),
        drain_secs: args.drain,
        status_every_secs: args.status_every,
        replications,
        report_files: args.report_files.clone(),
        thresholds: flags.thresholds,
        quiet: global.quiet,
        start_at: args.start_at,
    };
    let bar = ClockBar::start(
        global,
        "load test: arrivals (s)",
        wall_secs,
        "load test: draining (s)",
        args.drain,
    );
    let report = runtime.block_on(loadtest::run(config));
    drop(bar);
    let (report, result) = report?;
    if let Some(path) = &args.result {
        result.write(path)?;
    }
    finish(global, &report, stdout)
}

/// `chatcap loadtest merge`: the shards' results summed into one summary.
fn run_merge(global: &GlobalArgs, args: &MergeArgs, stdout: &mut dyn Write) -> Result<()> {
    let thresholds = args
        .thresholds
        .iter()
        .map(|t| Threshold::parse(t).map_err(|e| Error::invalid("--threshold", e)))
        .collect::<Result<Vec<_>>>()?;
    let results = args
        .files
        .iter()
        .map(|f| Ok((f.display().to_string(), loadtest::ShardResult::read(f)?)))
        .collect::<Result<Vec<_>>>()?;
    let report = loadtest::merge(&results, &thresholds)?;
    finish(global, &report, stdout)
}

/// Writes the summary and turns failed thresholds into exit code 1.
fn finish(
    global: &GlobalArgs,
    report: &loadtest::LoadTestReport,
    stdout: &mut dyn Write,
) -> Result<()> {
    let output = Output::new(report).map_err(Error::from)?;
    emit(global, &output, stdout)?;
    let failed = report.failed_thresholds();
    if failed.is_empty() {
        Ok(())
    } else {
        Err(Error::ThresholdsFailed { failed })
    }
}
