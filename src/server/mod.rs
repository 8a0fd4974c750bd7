//! `chatcap serve`: a real chat backend over the routing core, in wall-clock time.
//!
//! The simulator drives [`crate::routing::Router`] in virtual time; this module drives the very
//! same core from HTTP requests, so a load test against it measures the routing the planner
//! forecast with. The HTTP API is specified in `docs/api.md` (DESIGN.md §7).
//!
//! # Architecture
//!
//! - Two layers: `http` (axum routes, extractors, middleware, long-poll loops) over the `desk`
//!   (the state: the router and everything around it, chat tokens, messages, offers, agent
//!   sessions and inboxes, KPI tallies; no HTTP type). The desk refuses with a `DeskError`;
//!   `error` maps each kind to its status, code and headers in one place. The request and
//!   response bodies are the wire types of [`crate::api`].
//! - The desk is built from a [`crate::scenario::Scenario`], the profile compiled once as for
//!   the simulator (queues, router policies, agent groups, handle times).
//! - One actor task owns the desk. Handlers send it closures over a bounded channel and await
//!   a oneshot reply, so inputs reach the core in one order and no lock is held across an
//!   await.
//! - The desk's clock is wall microseconds since start (a monotonic `Instant`). Offer deadlines
//!   become tokio sleeps that post a timeout back to the actor; stale ones change nothing.
//! - Long-polls (agent offers, customer messages) wait on per-agent and per-chat watch
//!   channels, never inside the actor, and return at once when the server shuts down.
//! - `--time-scale K` compresses profile time K-fold: offer timeouts, the priority weight and
//!   the handle-time hint are divided by K, and every KPI is reported in profile seconds
//!   (wall × K), so figures compare with `chatcap simulate` for the same profile.
//! - KPIs use [`crate::metrics::QueueTally`] exactly as the simulator does; route latency (a
//!   chat meeting a free slot to the offer reaching the agent) goes into an HDR histogram.
//! - Ended chats are released from the router at once; the last [`ServerLimits::ended_kept`]
//!   stay readable through the API, and live chats are capped per queue (`max_queue`) and in
//!   all ([`ServerLimits::max_chats`]), so memory stays flat under sustained load or a flood.
//! - Every limit is a named constant or a [`ServerLimits`] field in `limits`.
//! - Connections are served by `listen` (hyper directly) with a header-read timeout and a
//!   shutdown deadline; `wire` gives hyper's own parse-error answers the API's JSON body.

mod actor;
mod desk;
mod error;
mod http;
mod limits;
mod listen;
mod prom;
mod telemetry;
mod wire;

use std::net::SocketAddr;

use tokio::sync::watch;

use crate::profile::Profile;
use crate::scenario::{Scenario, Staffing};

pub use error::ServerError;
pub use limits::{MAX_CHATS_LIMIT, MIN_HEAD_BYTES, RETRY_AFTER_SECS, ServerLimits};
pub use listen::ShutdownReport;
pub use telemetry::{PROFILE_BUCKETS, WALL_BUCKETS};

/// The default listening address.
pub const DEFAULT_BIND: &str = "127.0.0.1:8080";

/// Everything the server needs to start. Its `Debug` output hides the agent token.
#[derive(Clone)]
pub struct ServerConfig {
    /// Queues, routing policies, targets and agent groups (for registration defaults).
    pub profile: Profile,
    /// Address to listen on; port 0 picks a free port.
    pub bind: SocketAddr,
    /// Profile seconds per wall second, >= 1.
    pub time_scale: f64,
    /// The operator token that logs agents in (each agent then acts with a token of its own);
    /// `None` leaves login open to agents that are not online.
    pub agent_token: Option<String>,
    /// API limits.
    pub limits: ServerLimits,
}

impl std::fmt::Debug for ServerConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerConfig")
            .field("profile", &self.profile.name)
            .field("bind", &self.bind)
            .field("time_scale", &self.time_scale)
            .field(
                "agent_token",
                &self.agent_token.as_ref().map(|_| "<hidden>"),
            )
            .field("limits", &self.limits)
            .finish()
    }
}

impl ServerConfig {
    /// A configuration for `profile` on [`DEFAULT_BIND`], time scale 1, no agent token.
    pub fn new(profile: Profile) -> ServerConfig {
        ServerConfig {
            profile,
            bind: SocketAddr::from(([127, 0, 0, 1], 8080)),
            time_scale: 1.0,
            agent_token: None,
            limits: ServerLimits::default(),
        }
    }
}

/// A server accepting connections. Dropping it does not stop it; call
/// [`RunningServer::shutdown`] and then [`RunningServer::join`].
pub struct RunningServer {
    addr: SocketAddr,
    shutdown: watch::Sender<bool>,
    task: tokio::task::JoinHandle<ShutdownReport>,
}

impl RunningServer {
    /// The address actually bound (the real port when port 0 was asked for).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Starts a graceful shutdown: no new connections; pending long-polls answer at once with
    /// what they have; in-flight requests finish, until [`ServerLimits::shutdown_timeout`]
    /// closes the connections still open.
    pub fn shutdown(&self) {
        self.shutdown.send_replace(true);
    }

    /// Waits until the server has stopped, and says what the shutdown deadline cut.
    pub async fn join(self) -> Result<ShutdownReport, ServerError> {
        self.task
            .await
            .map_err(|e| ServerError::Task(e.to_string()))
    }
}

/// Checks the configuration, compiles the profile into a scenario and the desk's routing core
/// from it, binds the socket and starts serving on the current tokio runtime.
pub async fn bind(config: ServerConfig) -> Result<RunningServer, ServerError> {
    if !(config.time_scale.is_finite() && config.time_scale >= 1.0) {
        return Err(ServerError::Config(format!(
            "time scale {} is out of range; use 1 (real time) or more (profile seconds per wall second)",
            config.time_scale
        )));
    }
    if config.agent_token.as_deref().is_some_and(str::is_empty) {
        return Err(ServerError::Config(
            "the agent token is empty; give a non-empty token or none".to_string(),
        ));
    }
    config.limits.check()?;
    let profile = &config.profile;
    let staffing = Staffing::constant(profile.agents.len(), profile.intervals, 0);
    let scenario = Scenario::new(profile, &staffing)
        .map_err(|e| ServerError::Config(format!("profile {:?}: {e}", profile.name)))?;
    let desk = desk::Desk::new(desk::DeskConfig {
        scenario: &scenario,
        time_scale: config.time_scale,
        agent_token: config.agent_token.clone(),
        limits: config.limits,
    })
    .map_err(ServerError::Config)?;
    let listener = tokio::net::TcpListener::bind(config.bind)
        .await
        .map_err(|cause| ServerError::Bind {
            addr: config.bind,
            cause,
        })?;
    let addr = listener.local_addr().map_err(ServerError::Io)?;
    let telemetry = desk.telemetry();
    let (actor, _actor_task) = actor::spawn(desk);
    let (shutdown, shutdown_rx) = watch::channel(false);
    let in_flight = listen::InFlight::default();
    let app = http::router(http::AppState {
        actor,
        shutdown: shutdown_rx.clone(),
        limits: config.limits,
        in_flight: in_flight.clone(),
        telemetry,
    });
    let task = tokio::spawn(listen::run(
        listener,
        app,
        config.limits,
        shutdown_rx,
        in_flight,
    ));
    Ok(RunningServer {
        addr,
        shutdown,
        task,
    })
}

/// Resolves on SIGINT (Ctrl-C) or, on Unix, SIGTERM.
pub async fn termination_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
