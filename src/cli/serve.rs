//! `chatcap serve`: runs the chat HTTP API over the routing core until SIGINT or SIGTERM. The
//! tokio runtime lives only inside this command; the rest of chatcap stays synchronous.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Args;

use super::GlobalArgs;
use crate::error::{Error, Result};
use crate::profile;
use crate::server::{self, DEFAULT_BIND, ServerConfig, ServerError, ServerLimits};

/// Arguments of `chatcap serve`.
#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
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
    /// Bearer token agents must send; without one, agent endpoints are open.
    #[arg(
        long,
        env = "CHATCAP_AGENT_TOKEN",
        value_name = "T",
        hide_env_values = true
    )]
    pub agent_token: Option<String>,
}

pub(crate) fn run(global: &GlobalArgs, args: &ServeArgs) -> Result<()> {
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
    let profile = profile::load_or_default(args.profile.as_deref())?;
    let profile_name = profile.name.clone();
    let config = ServerConfig {
        profile,
        bind: args.bind,
        time_scale: args.time_scale,
        agent_token: args.agent_token.clone(),
        limits: ServerLimits::default(),
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
            eprintln!("chatcap serve: shutting down");
        }
        running.shutdown();
        running.join().await
    })?;
    Ok(())
}
