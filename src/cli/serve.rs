//! `chatcap serve`: runs the chat HTTP API over the routing core until SIGINT or SIGTERM. The
//! tokio runtime lives only inside this command; the rest of chatcap stays synchronous.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

use super::GlobalArgs;
use crate::error::{Error, Result};
use crate::profile::{
    self,
    duration::{format_duration, parse_duration},
};
use crate::server::{
    self, DEFAULT_BIND, MAX_CHATS_LIMIT, ServerConfig, ServerError, ServerLimits, ShutdownReport,
};

/// Arguments of `chatcap serve`.
#[derive(Debug, Clone, Args)]
pub(crate) struct ServeArgs {
    /// Profile (TOML) giving queues, routing policies and targets; the embedded default when
    /// omitted.
    #[arg(long, short, value_name = "FILE")]
    pub profile: Option<PathBuf>,
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, default_value = DEFAULT_BIND, value_name = "ADDR")]
    pub bind: SocketAddr,
    /// Compress profile time K-fold: offer timeouts become timeout / K, and KPIs are reported
    /// in profile seconds (wall seconds x K).
    #[arg(long, default_value_t = 1.0, value_name = "K")]
    pub time_scale: f64,
    /// Operator token that logs agents in (each then acts with a token of its own); without
    /// one, login is open to agents that are not online.
    #[arg(
        long,
        env = "CHATCAP_AGENT_TOKEN",
        value_name = "T",
        hide_env_values = true
    )]
    pub agent_token: Option<String>,
    /// Most live chats (queued, offered or active) at once; past it a new chat gets 503
    /// `server_full` with Retry-After and counts as rejected.
    #[arg(
        long,
        default_value_t = ServerLimits::default().max_chats as i64,
        value_name = "N",
        allow_hyphen_values = true,
        value_parser = clap::value_parser!(i64).range(1..=MAX_CHATS_LIMIT as i64)
    )]
    pub max_chats: i64,
    /// How long a shutdown (SIGINT, SIGTERM) waits for open requests before closing the
    /// connections still open.
    #[arg(long, value_parser = parse_duration, default_value = "10s", value_name = "D", allow_hyphen_values = true)]
    pub shutdown_timeout: f64,
}

/// Longest `--shutdown-timeout`, seconds.
const MAX_SHUTDOWN_SECS: f64 = 3600.0;

/// Checks the flags before the profile is read: serve writes no report, and each value is in
/// its range.
fn check_flags(global: &GlobalArgs, args: &ServeArgs) -> Result<()> {
    super::refuse_format(
        global,
        &[],
        "serve",
        "no report, only log lines on standard error",
    )?;
    if let Some(out) = &global.out {
        return Err(Error::invalid(
            "--out",
            format!(
                "{} does nothing for `chatcap serve`, which writes no report (its figures are at \
                 /v1/stats and /metrics); drop --out",
                out.display()
            ),
        ));
    }
    if !(args.time_scale.is_finite() && args.time_scale >= 1.0) {
        return Err(Error::invalid(
            "--time-scale",
            format!(
                "{}; give 1 (real time) or more (profile seconds per wall second)",
                args.time_scale
            ),
        ));
    }
    if args.agent_token.as_deref().is_some_and(str::is_empty) {
        return Err(Error::invalid(
            "--agent-token",
            "an empty token; give a non-empty token or omit it",
        ));
    }
    if !(0.0..=MAX_SHUTDOWN_SECS).contains(&args.shutdown_timeout) {
        return Err(Error::invalid(
            "--shutdown-timeout",
            format!(
                "{} s; give 0s (close at once) to {MAX_SHUTDOWN_SECS} s",
                args.shutdown_timeout
            ),
        ));
    }
    Ok(())
}

pub(crate) fn run(global: &GlobalArgs, args: &ServeArgs) -> Result<()> {
    check_flags(global, args)?;
    let profile = profile::load_or_default(args.profile.as_deref())?;
    let profile_name = profile.name.clone();
    let config = ServerConfig {
        profile,
        bind: args.bind,
        time_scale: args.time_scale,
        agent_token: args.agent_token.clone(),
        limits: ServerLimits {
            max_chats: usize::try_from(args.max_chats).unwrap_or(MAX_CHATS_LIMIT),
            shutdown_timeout: Duration::from_secs_f64(args.shutdown_timeout),
            ..ServerLimits::default()
        },
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(ServerError::Io)?;
    let quiet = global.quiet;
    runtime.block_on(async move {
        let running = server::bind(config).await?;
        if !quiet {
            eprintln!(
                "chatcap serve: listening on http://{} (profile {profile_name:?}, time scale {}, agent token {})",
                running.local_addr(),
                args.time_scale,
                if args.agent_token.is_some() { "required" } else { "not required" }
            );
        }
        server::termination_signal().await;
        if !quiet {
            eprintln!(
                "chatcap serve: shutting down (open requests get up to {})",
                format_duration(args.shutdown_timeout)
            );
        }
        running.shutdown();
        let report = running.join().await?;
        if !quiet {
            eprintln!("chatcap serve: {}", shutdown_line(&report, args.shutdown_timeout));
        }
        Ok::<(), ServerError>(())
    })?;
    Ok(())
}

/// The last line of a shutdown: whether the deadline had to cut anything.
fn shutdown_line(report: &ShutdownReport, timeout_secs: f64) -> String {
    if report.connections_closed == 0 {
        return "stopped; every connection ended by itself".to_string();
    }
    let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
    format!(
        "stopped at the {} shutdown deadline: closed {} still open, cutting {} in progress",
        format_duration(timeout_secs),
        plural(report.connections_closed, "connection"),
        plural(report.requests_cut, "request"),
    )
}
