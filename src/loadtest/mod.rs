//! `chatcap loadtest`: drives a chat backend (`chatcap serve`, or any HTTP chat API a target
//! file describes) with goose users playing customers and agents, and compares what it measures with what the
//! simulator forecasts for the same profile window, staffing and time scale (DESIGN.md §8).
//!
//! - `schedule`: the window of the profile's day, the seeded Poisson arrival schedule (an open
//!   model on an absolute clock, which goose's looping users lack) and the forecast;
//! - `staffing`: who is on duty in the window, one agent user per agent;
//! - `customer` and `agent`: the two goose scenarios, each a state machine that takes one short
//!   step per transaction call so the attack can stop between steps;
//! - `run_state`: what every user of one run shares: the clock, the counters that tell when
//!   the test has drained, the recorder;
//! - [`target`]: how to speak the backend's API (a target file; chatcap's own API is the
//!   built-in target), and `client`, the one executor of a target's calls;
//! - `stats`: the backend's own figures (the target's `run.stats`) before the run (is it the
//!   right server?) and around it;
//! - `record`: the run as data (what was measured, the plan's context, the forecast's
//!   figures); `summary` assembles the [`report`] from it; [`threshold`]: `--threshold` rules;
//! - `shard` and `result`: one load split across processes (`--shard K/N`, `--start-at`), each
//!   writing a mergeable result (`--result`) that [`merge`] sums into the one-process summary.
//!
//! A run: every user starts (agents log in), then the clock starts; customers follow the
//! schedule for `duration`, then no new chats arrive and in-flight chats end on their own for up
//! to the drain time, after which customers still in a chat leave. The run stops as soon as
//! every chat has ended, and the summary compares the chats' times (waits, answers, first
//! responses: the backend's timestamps when the target reads them, else what the customer saw)
//! with the forecast.

mod agent;
mod client;
mod customer;
mod logger;
#[doc(hidden)]
pub mod probe;
mod record;
pub(crate) mod report;
mod result;
mod run_state;
mod schedule;
mod shard;
mod staffing;
mod stats;
mod summary;
pub mod target;
pub(crate) mod threshold;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime};

use goose::client::GooseClientBuilder;
use goose::config::GooseConfiguration;
use goose::prelude::*;

pub use record::{EndpointRecord, ForecastFigures, RunContext, RunRecord};
pub use report::LoadTestReport;
pub use result::{ShardResult, merge};
pub use run_state::{ChatTally, EndedBy, OfferTally};
pub use schedule::{LoadPlan, PlanInputs, Window};
pub use shard::{Shard, parse_start_at};
pub use staffing::{AgentSlot, AgentsChoice};
pub use stats::{ServerSnapshot, check_host, preflight};
pub use target::{Target, TargetContext, TargetError};
pub use threshold::{Threshold, ThresholdResult};

use run_state::RunState;

/// A boxed step future, what goose's transaction functions return.
pub(crate) type BoxedStep<'r> = Pin<Box<dyn Future<Output = TransactionResult> + Send + 'r>>;

/// A step function of a user role.
type StepFn = for<'r> fn(&'r mut GooseUser, Arc<RunState>) -> BoxedStep<'r>;

/// Extra wall time after the drain deadline for customers' last requests.
const DRAIN_GRACE: Duration = Duration::from_secs(15);

/// A load test that cannot run or failed.
#[derive(Debug, thiserror::Error)]
pub enum LoadTestError {
    /// A flag is out of range or inconsistent with the profile.
    #[error("invalid {flag}: {message}")]
    Invalid {
        /// The flag, e.g. `--duration`.
        flag: String,
        /// What is wrong and what would be right.
        message: String,
    },
    /// The profile cannot drive a load test.
    #[error("profile: {0}")]
    Profile(String),
    /// The server did not answer.
    #[error(
        "cannot reach the chat server at {host}: {detail}; start it (chatcap serve) or check --host"
    )]
    Unreachable {
        /// Base URL.
        host: String,
        /// What happened.
        detail: String,
    },
    /// The server runs with settings that do not match the load test.
    #[error("the server at {host} does not match the load test: {detail}")]
    Mismatch {
        /// Base URL.
        host: String,
        /// What differs and how to fix it.
        detail: String,
    },
    /// The load test could not complete.
    #[error("the load test failed: {0}")]
    Run(String),
    /// Goose refused the setup or failed.
    #[error("goose: {0}")]
    Goose(String),
    /// The forecast could not be simulated.
    #[error("forecast: {0}")]
    Forecast(#[from] crate::sim::SimError),
    /// The target file cannot be used.
    #[error(transparent)]
    Target(#[from] TargetError),
}

impl LoadTestError {
    /// Shorthand for [`LoadTestError::Invalid`].
    pub fn invalid(flag: &str, message: impl Into<String>) -> LoadTestError {
        LoadTestError::Invalid {
            flag: flag.to_string(),
            message: message.into(),
        }
    }

    /// True for errors in the input (flags, profile, a mismatched server): exit code 2.
    pub fn is_input(&self) -> bool {
        match self {
            LoadTestError::Invalid { .. }
            | LoadTestError::Profile(_)
            | LoadTestError::Mismatch { .. }
            | LoadTestError::Target(_) => true,
            LoadTestError::Forecast(e) => e.is_input(),
            _ => false,
        }
    }
}

impl From<GooseError> for LoadTestError {
    fn from(e: GooseError) -> Self {
        LoadTestError::Goose(e.to_string())
    }
}

/// Everything a load test run needs.
#[derive(Debug, Clone)]
pub struct LoadTestConfig {
    /// Base URL of the chat API, e.g. `http://127.0.0.1:8080`.
    pub host: String,
    /// Window, staffing, schedule.
    pub plan: LoadPlan,
    /// How to speak the backend's API.
    pub target: Arc<Target>,
    /// What the backend check before the run found worth saying.
    pub early_warnings: Vec<String>,
    /// Wall seconds after the arrivals for chats to end before customers are sent away.
    pub drain_secs: f64,
    /// Profile seconds between an agent's status messages (0: none).
    pub status_every_secs: f64,
    /// Replications of the forecast.
    pub replications: u32,
    /// Goose report files (`.html`, `.htm`, `.json`, `.md`, optionally `.gz`).
    pub report_files: Vec<String>,
    /// Rules evaluated on the summary.
    pub thresholds: Vec<Threshold>,
    /// No goose warnings on standard error.
    pub quiet: bool,
    /// The wall-clock instant the window starts (shards of one run share it); `None`: as soon
    /// as every user is ready.
    pub start_at: Option<SystemTime>,
}

/// Runs the load test to the end and returns its summary (thresholds evaluated, not enforced)
/// and its mergeable result.
pub async fn run(config: LoadTestConfig) -> Result<(LoadTestReport, ShardResult), LoadTestError> {
    logger::install(config.quiet);
    let host = check_host(&config.host)?;
    let plan = config.plan.clone();
    let replications = config.replications;
    let forecast = tokio::task::spawn_blocking(move || plan.forecast(replications))
        .await
        .map_err(|e| LoadTestError::Run(format!("the forecast task failed: {e}")))??;

    let users = config.plan.shard_agents.len() + config.plan.customers;
    let drain = Duration::from_secs_f64(config.drain_secs);
    let start_at = config
        .start_at
        .map(|at| {
            shard::instant_of(at).ok_or_else(|| {
                LoadTestError::invalid(
                    "--start-at",
                    "the instant has passed; give one far enough ahead for every shard to start",
                )
            })
        })
        .transpose()?;
    let run = Arc::new(RunState::new(
        config.plan.clone(),
        config.target.clone(),
        config.status_every_secs,
        drain,
        start_at,
    )?);
    for warning in &config.early_warnings {
        run.warn(warning.clone());
    }
    if !run.target.transfers()
        && run
            .plan
            .scenario
            .queues
            .iter()
            .any(|q| q.transfer.is_some())
    {
        run.warn(format!(
            "the target {} has no agent.transfer: chats the profile transfers are closed instead",
            run.target.name
        ));
    }
    let mut launch_budget = Duration::from_secs(60) + Duration::from_millis(users as u64);
    if let Some(start) = start_at {
        launch_budget = launch_budget.max(start.saturating_duration_since(Instant::now()));
    }
    let run_time = launch_budget
        + Duration::from_secs_f64(run.plan.window.wall_secs)
        + drain
        + DRAIN_GRACE
        + Duration::from_secs(30);
    let attack = attack(&config, &host, &run, run_time)?;

    let done = Arc::new(AtomicBool::new(false));
    let watcher = tokio::spawn(monitor(
        run.clone(),
        host.clone(),
        launch_budget,
        done.clone(),
    ));
    let outcome = attack.execute().await;
    done.store(true, Ordering::SeqCst);
    let _ = watcher.await;
    // Goose keeps the killswitch set until the next run starts; clear it for the process.
    goose::reset_killswitch();

    if let Some(fatal) = run.fatal.lock().unwrap_or_else(|p| p.into_inner()).take() {
        return Err(fatal);
    }
    outcome?;
    let context = record::RunContext::of(&run.plan, &host, config.drain_secs, &config.report_files);
    let forecast = ForecastFigures::of(&forecast);
    let record = RunRecord::of(&run);
    let report = summary::build_report(&context, &record, &forecast, &config.thresholds);
    let started_unix = run.t0().map_or(0.0, |t0| {
        let ago = Instant::now().saturating_duration_since(t0);
        (SystemTime::now() - ago)
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs_f64())
    });
    let result = ShardResult::new(run.plan.shard, started_unix, context, forecast, record);
    Ok((report, result))
}

/// The goose attack: agent and customer scenarios (one step per transaction call), the
/// server snapshots before and after, and goose's settings for a run of at most `run_time`.
fn attack(
    config: &LoadTestConfig,
    host: &str,
    run: &Arc<RunState>,
    run_time: Duration,
) -> Result<Box<GooseAttack>, LoadTestError> {
    let users = run.plan.shard_agents.len() + run.plan.customers;
    let mut goose_config = GooseConfiguration::default();
    goose_config.report_file = config.report_files.clone();
    let mut attack = GooseAttack::initialize_with_config(goose_config)?
        .set_client_builder_without_cookies(
            GooseClientBuilder::new()
                .without_cookies()
                .timeout(Duration::from_secs(60)),
        )?
        .set_scheduler(GooseScheduler::RoundRobin);
    // A shard of more shards than agents may play none (goose refuses a weight of 0).
    if !run.plan.shard_agents.is_empty() {
        attack = attack.register_scenario(
            Scenario::new("agent")
                .set_weight(run.plan.shard_agents.len())?
                .register_transaction(
                    transaction(run, agent::login)
                        .set_name("agent login")
                        .set_on_start(),
                )
                .register_transaction(transaction(run, agent::step).set_name("agent step"))
                .register_transaction(
                    transaction(run, agent::logout)
                        .set_name("agent logout")
                        .set_on_stop(),
                ),
        );
    }
    let attack = attack
        .register_scenario(
            Scenario::new("customer")
                .set_weight(run.plan.customers)?
                .register_transaction(
                    transaction(run, customer::on_start)
                        .set_name("customer start")
                        .set_on_start(),
                )
                .register_transaction(transaction(run, customer::step).set_name("customer step")),
        )
        .test_start(transaction(run, stats_before).set_name("server check"))
        .test_stop(transaction(run, stats_after).set_name("server counts"))
        .set_default(GooseDefault::Host, host)?
        .set_default(GooseDefault::Users, users)?
        .set_default(
            GooseDefault::IncreaseRate,
            users.max(1).to_string().as_str(),
        )?
        .set_default(GooseDefault::RunTime, run_time.as_secs() as usize)?
        .set_default(GooseDefault::NoTelnet, true)?
        .set_default(GooseDefault::NoPrintMetrics, true)?
        // Every transaction is one step of a state machine: their timings mean nothing.
        .set_default(GooseDefault::NoTransactionMetrics, true)?
        .set_default(GooseDefault::NoScenarioMetrics, true)?
        .set_default(GooseDefault::Quiet, 1)?
        .set_default(
            GooseDefault::CoordinatedOmissionMitigation,
            GooseCoordinatedOmissionMitigation::Disabled,
        )?;
    Ok(attack)
}

fn transaction(run: &Arc<RunState>, f: StepFn) -> Transaction {
    let run = run.clone();
    Transaction::new(Arc::new(move |user: &mut GooseUser| f(user, run.clone())))
}

/// Starts the clock once every user is up, then ends the attack when every chat has ended, the
/// drain time ran out, or a fatal error happened.
async fn monitor(run: Arc<RunState>, host: String, launch_budget: Duration, done: Arc<AtomicBool>) {
    let started = Instant::now();
    let mut others = OtherShards::new(&host, run.target.clone(), run.plan.shard.count > 1);
    let agents = run.plan.shard_agents.len();
    let customers = run.plan.customers;
    while !done.load(Ordering::SeqCst) {
        let ended = run
            .ended_by
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .is_some();
        if run.has_failed() || ended {
            // Repeated: goose clears the killswitch as a run starts.
            goose::trigger_killswitch("chatcap loadtest finished");
        } else {
            match run.t0() {
                None => {
                    let ready_agents = run.agents_ready.load(Ordering::SeqCst);
                    let ready_customers = run.customers_ready.load(Ordering::SeqCst);
                    let ready = ready_agents == agents && ready_customers == customers;
                    let start_at = run.start_at;
                    if ready && start_at.is_none() {
                        run.start_clock(Instant::now() + Duration::from_millis(100));
                    } else if let Some(at) = start_at.filter(|_| ready) {
                        run.start_clock(at);
                    } else if start_at.is_some_and(|at| Instant::now() >= at) {
                        run.fail(LoadTestError::Run(format!(
                            "only {ready_agents} of {agents} agents and {ready_customers} of \
                             {customers} customers had started at --start-at; give a later \
                             instant"
                        )));
                    } else if started.elapsed() > launch_budget {
                        run.fail(LoadTestError::Run(format!(
                            "only {ready_agents} of {agents} agents and {ready_customers} of \
                             {customers} customers started within {} s; lower the time scale or \
                             --customers",
                            launch_budget.as_secs()
                        )));
                    }
                }
                Some(t0) => {
                    let now = Instant::now();
                    let arrivals_over =
                        now >= t0 + Duration::from_secs_f64(run.plan.window.wall_secs);
                    let all_taken =
                        run.next_arrival.load(Ordering::SeqCst) >= run.plan.shard_arrivals.len();
                    let own_drained =
                        arrivals_over && all_taken && run.in_flight.load(Ordering::SeqCst) == 0;
                    // This shard's agents serve every shard's chats: they stay until the
                    // server holds none.
                    let drained = own_drained && others.done().await;
                    let limit = run.drain_deadline().is_some_and(|d| now >= d + DRAIN_GRACE);
                    if drained || limit {
                        *run.ended_by.lock().unwrap_or_else(|p| p.into_inner()) =
                            Some(if drained {
                                EndedBy::Drained
                            } else {
                                EndedBy::DrainLimit
                            });
                        *run.finished_at.lock().unwrap_or_else(|p| p.into_inner()) = Some(now);
                        run.stopping.store(true, Ordering::SeqCst);
                    }
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Whether the other shards of a run are done with the backend: its figures (the target's
/// `run.stats`) show no live chat (asked at most every [`OtherShards::EVERY`]). A lone process
/// never waits; without such figures, a shard waits for its drain time.
struct OtherShards {
    client: Option<reqwest::Client>,
    host: String,
    target: Arc<Target>,
    asked: Option<Instant>,
}

impl OtherShards {
    const EVERY: Duration = Duration::from_millis(250);

    fn new(host: &str, target: Arc<Target>, sharded: bool) -> OtherShards {
        let client = sharded
            .then(|| stats::stats_client(Duration::from_secs(2)).ok())
            .flatten();
        OtherShards {
            client,
            host: host.to_string(),
            target,
            asked: None,
        }
    }

    async fn done(&mut self) -> bool {
        let Some(client) = &self.client else {
            return true;
        };
        if self.asked.is_some_and(|at| at.elapsed() < Self::EVERY) {
            return false;
        }
        self.asked = Some(Instant::now());
        match stats::fetch_snapshot(client, &self.host, &self.target).await {
            Ok(Some(snapshot)) => snapshot.live() == Some(0),
            _ => false,
        }
    }
}

/// The backend's figures now: `Err` when it does not answer.
async fn snapshot(user: &GooseUser, run: &RunState) -> Result<Option<ServerSnapshot>, String> {
    let client = stats::stats_client(Duration::from_secs(10)).map_err(|e| e.to_string())?;
    let host = user.base_url.as_str().trim_end_matches('/');
    stats::fetch_snapshot(&client, host, &run.target).await
}

/// Snapshots the backend's figures before any user starts (the checks ran before the banner).
fn stats_before(user: &mut GooseUser, run: Arc<RunState>) -> BoxedStep<'_> {
    Box::pin(async move {
        let host = user.base_url.to_string();
        match snapshot(user, &run).await {
            Err(detail) => run.fail(LoadTestError::Unreachable { host, detail }),
            Ok(None) => {}
            Ok(Some(stats)) => {
                *run.stats_before.lock().unwrap_or_else(|p| p.into_inner()) = Some(stats);
            }
        }
        Ok(())
    })
}

fn stats_after(user: &mut GooseUser, run: Arc<RunState>) -> BoxedStep<'_> {
    Box::pin(async move {
        if run
            .stats_before
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .is_some()
            && let Ok(Some(stats)) = snapshot(user, &run).await
        {
            *run.stats_after.lock().unwrap_or_else(|p| p.into_inner()) = Some(stats);
        }
        Ok(())
    })
}
