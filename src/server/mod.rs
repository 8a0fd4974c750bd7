//! `chatcap serve`: a real chat backend over the routing core, in wall-clock time.
//!
//! The simulator drives [`crate::routing::Router`] in virtual time; this module drives the very
//! same core from HTTP requests, so a load test against it measures the routing the planner
//! forecast with. The HTTP API is specified in `docs/api.md` (DESIGN.md §7).
//!
//! # Architecture
//!
//! - One actor task owns the router and everything around it (chat tokens, messages, offers,
//!   KPI tallies). Handlers send it closures over a bounded channel and await a oneshot reply,
//!   so inputs reach the core in one order and no lock is held across an await.
//! - The core's clock is wall microseconds since start (a monotonic `Instant`). Offer deadlines
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
//! - Connections are served by `listen` (hyper directly) with a header-read timeout and a
//!   shutdown deadline; `wire` gives hyper's own parse-error answers the API's JSON body.

mod actor;
mod auth;
mod core;
mod error;
mod http;
mod listen;
mod prom;
mod telemetry;
mod wire;

use std::net::SocketAddr;
use std::time::Duration;

use tokio::sync::watch;

use crate::profile::Profile;

pub use error::{ApiError, ServerError};
pub use listen::ShutdownReport;
pub use telemetry::{PROFILE_BUCKETS, WALL_BUCKETS};

/// The default listening address.
pub const DEFAULT_BIND: &str = "127.0.0.1:8080";

/// The `Retry-After` a full queue answers with, seconds.
pub const RETRY_AFTER_SECS: u64 = 5;

/// Size and time limits of the API.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ServerLimits {
    /// Largest request body, bytes (413 above).
    pub body_bytes: usize,
    /// Longest message or transfer note, characters.
    pub message_chars: usize,
    /// Most messages one chat may hold.
    pub messages_per_chat: usize,
    /// Ended chats (and answered offers) kept readable after they end.
    pub ended_kept: usize,
    /// Most agents that may register.
    pub max_agents: usize,
    /// Most live chats (queued, offered or active) at once; a new chat past it is refused with
    /// 503 `server_full` and counted as rejected. Each queue's `max_queue` applies as well.
    pub max_chats: usize,
    /// Longest long-poll `wait`, seconds.
    pub max_wait_secs: f64,
    /// Longest wait for a request body once its headers have arrived (408 after).
    pub body_timeout: Duration,
    /// Longest wait for a whole request head, and for the next request on an idle connection;
    /// the connection is closed after it.
    pub header_timeout: Duration,
    /// Longest URL (path and query), bytes (414 above).
    pub url_bytes: usize,
    /// Largest request head (request line and headers), bytes (431 above); at least 8 KiB.
    pub head_bytes: usize,
    /// How long a shutdown waits for open connections to finish before closing them.
    pub shutdown_timeout: Duration,
}

/// Smallest [`ServerLimits::head_bytes`] (the HTTP/1 parser's own minimum buffer).
pub const MIN_HEAD_BYTES: usize = 8 * 1024;

/// Largest [`ServerLimits::max_chats`].
pub const MAX_CHATS_LIMIT: usize = 10_000_000;

impl Default for ServerLimits {
    /// Limits that hold a busy contact centre and bound what a flood can take: 100,000 live
    /// chats is thousands of agents with several chats each plus long queues, in about 150 MB;
    /// 30 s for a request head is generous for any real client (and hyper's own default), and
    /// 10 s is long enough for in-flight requests to finish at shutdown (long-polls answer at
    /// once) and short enough for a rolling restart.
    fn default() -> Self {
        ServerLimits {
            body_bytes: 64 * 1024,
            message_chars: 4000,
            messages_per_chat: 1000,
            ended_kept: 10_000,
            max_agents: 100_000,
            max_chats: 100_000,
            max_wait_secs: 30.0,
            body_timeout: Duration::from_secs(10),
            header_timeout: Duration::from_secs(30),
            url_bytes: 8 * 1024,
            head_bytes: 64 * 1024,
            shutdown_timeout: Duration::from_secs(10),
        }
    }
}

impl ServerLimits {
    /// Checks the limits the server cannot run with.
    fn check(&self) -> Result<(), ServerError> {
        let bad = |what: String| Err(ServerError::Config(what));
        if !(1..=MAX_CHATS_LIMIT).contains(&self.max_chats) {
            return bad(format!(
                "a limit of {} live chats is out of range; use 1 to {MAX_CHATS_LIMIT}",
                self.max_chats
            ));
        }
        if self.head_bytes < MIN_HEAD_BYTES {
            return bad(format!(
                "a request head limit of {} bytes is too small; use at least {MIN_HEAD_BYTES}",
                self.head_bytes
            ));
        }
        if self.url_bytes == 0 || self.header_timeout.is_zero() || self.body_timeout.is_zero() {
            return bad(
                "the URL limit, the header timeout and the body timeout must be above zero"
                    .to_string(),
            );
        }
        Ok(())
    }
}

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

/// Checks the configuration, builds the routing core from the profile, binds the socket and
/// starts serving on the current tokio runtime.
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
    let core = core::Core::new(&config)?;
    let listener = tokio::net::TcpListener::bind(config.bind)
        .await
        .map_err(|cause| ServerError::Bind {
            addr: config.bind,
            cause,
        })?;
    let addr = listener.local_addr().map_err(ServerError::Io)?;
    let telemetry = core.telemetry();
    let (actor, _actor_task) = actor::spawn(core);
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
