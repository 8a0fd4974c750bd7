//! `chatcap loadtest`: drives a chat backend that speaks docs/api.md (such as `chatcap serve`)
//! with goose users playing customers and agents, and compares what it measures with what the
//! simulator forecasts for the same profile window, staffing and time scale (DESIGN.md §8).
//!
//! - `schedule`: the window of the profile's day, the seeded Poisson arrival schedule (an open
//!   model on an absolute clock, which goose's looping users lack) and the forecast;
//! - `staffing`: who is on duty in the window, one agent user per agent;
//! - `customer` and `agent`: the two goose scenarios, each a state machine that takes one short
//!   step per transaction call so the attack can stop between steps;
//! - `run_state`: what every user of one run shares: the clock, the counters that tell when
//!   the test has drained, the recorder;
//! - [`report`]: the summary; [`threshold`]: `--threshold` rules.
//!
//! A run: every user starts (agents log in), then the clock starts; customers follow the
//! schedule for `duration`, then no new chats arrive and in-flight chats end on their own for up
//! to the drain time, after which customers still in a chat leave. The run stops as soon as
//! every chat has ended, and the summary compares the chats' server timestamps (waits, answers,
//! first responses) with the forecast.

mod agent;
mod customer;
mod http;
mod logger;
pub mod report;
mod run_state;
mod schedule;
mod staffing;
mod stats;
pub mod threshold;

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use goose::client::GooseClientBuilder;
use goose::config::GooseConfiguration;
use goose::prelude::*;
use serde_json::Value;

pub use report::LoadTestReport;
pub use run_state::{ChatTally, EndedBy, OfferTally};
pub use schedule::{LoadPlan, PlanInputs, Window};
pub use staffing::{AgentSlot, AgentsChoice};
pub use stats::{check_host, preflight};
pub use threshold::{Threshold, ThresholdResult};

use report::{
    ChatsOut, EndpointOut, Figures, Forecast, HttpOut, LatencyOut, Measured, RunOut, ServerChats,
    StaffingOut,
};
use run_state::{Endpoint, RunState, micros_histogram};

/// A boxed step future, what goose's transaction functions return.
pub(crate) type BoxedStep<'r> = Pin<Box<dyn Future<Output = TransactionResult> + Send + 'r>>;

/// A step function of a user role.
type StepFn = for<'r> fn(&'r mut GooseUser, Arc<RunState>) -> BoxedStep<'r>;

/// Whether a chat state is final.
pub(crate) fn terminal(state: &str) -> bool {
    matches!(state, "closed" | "abandoned" | "rejected")
}

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
            | LoadTestError::Mismatch { .. } => true,
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
    /// The operator token agents log in with (`None`: the server's login is open).
    pub agent_token: Option<String>,
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
}

/// Runs the load test to the end and returns its summary (thresholds evaluated, not enforced).
pub async fn run(config: LoadTestConfig) -> Result<LoadTestReport, LoadTestError> {
    logger::install(config.quiet);
    let host = check_host(&config.host)?;
    let early_warnings = preflight(&host, &config.plan).await?;
    let plan = config.plan.clone();
    let replications = config.replications;
    let forecast = tokio::task::spawn_blocking(move || plan.forecast(replications))
        .await
        .map_err(|e| LoadTestError::Run(format!("the forecast task failed: {e}")))??;

    let n_agents = config.plan.agents.len();
    let n_customers = config.plan.customers;
    let users = n_agents + n_customers;
    let drain = Duration::from_secs_f64(config.drain_secs);
    let run = Arc::new(RunState::new(
        config.plan.clone(),
        config.agent_token.clone(),
        config.status_every_secs,
        drain,
    )?);
    for warning in early_warnings {
        run.warn(warning);
    }
    let launch_budget = Duration::from_secs(60) + Duration::from_millis(users as u64);
    let run_time = (launch_budget
        + Duration::from_secs_f64(run.plan.window.wall_secs)
        + drain
        + DRAIN_GRACE
        + Duration::from_secs(30))
    .as_secs() as usize;

    let mut goose_config = GooseConfiguration::default();
    goose_config.report_file = config.report_files.clone();
    let attack = GooseAttack::initialize_with_config(goose_config)?
        .set_client_builder_without_cookies(
            GooseClientBuilder::new()
                .without_cookies()
                .timeout(Duration::from_secs(60)),
        )?
        .set_scheduler(GooseScheduler::RoundRobin)
        .register_scenario(
            Scenario::new("agent")
                .set_weight(n_agents)?
                .register_transaction(
                    transaction(&run, agent::login)
                        .set_name("agent login")
                        .set_on_start(),
                )
                .register_transaction(transaction(&run, agent::step).set_name("agent step"))
                .register_transaction(
                    transaction(&run, agent::logout)
                        .set_name("agent logout")
                        .set_on_stop(),
                ),
        )
        .register_scenario(
            Scenario::new("customer")
                .set_weight(n_customers)?
                .register_transaction(
                    transaction(&run, customer::on_start)
                        .set_name("customer start")
                        .set_on_start(),
                )
                .register_transaction(transaction(&run, customer::step).set_name("customer step")),
        )
        .test_start(transaction(&run, stats_before).set_name("server check"))
        .test_stop(transaction(&run, stats_after).set_name("server counts"))
        .set_default(GooseDefault::Host, host.as_str())?
        .set_default(GooseDefault::Users, users)?
        .set_default(
            GooseDefault::IncreaseRate,
            users.max(1).to_string().as_str(),
        )?
        .set_default(GooseDefault::RunTime, run_time)?
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

    let done = Arc::new(AtomicBool::new(false));
    let watcher = tokio::spawn(monitor(run.clone(), launch_budget, done.clone()));
    let outcome = attack.execute().await;
    done.store(true, Ordering::SeqCst);
    let _ = watcher.await;
    // Goose keeps the killswitch set until the next run starts; clear it for the process.
    goose::reset_killswitch();

    if let Some(fatal) = run.fatal.lock().unwrap_or_else(|p| p.into_inner()).take() {
        return Err(fatal);
    }
    outcome?;
    let report = build_report(&config, &host, &run, forecast);
    Ok(report)
}

fn transaction(run: &Arc<RunState>, f: StepFn) -> Transaction {
    let run = run.clone();
    Transaction::new(Arc::new(move |user: &mut GooseUser| f(user, run.clone())))
}

/// Starts the clock once every user is up, then ends the attack when every chat has ended, the
/// drain time ran out, or a fatal error happened.
async fn monitor(run: Arc<RunState>, launch_budget: Duration, done: Arc<AtomicBool>) {
    let started = Instant::now();
    let agents = run.plan.agents.len();
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
                    if ready_agents == agents && ready_customers == customers {
                        run.start_clock(Instant::now() + Duration::from_millis(100));
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
                        run.next_arrival.load(Ordering::SeqCst) >= run.plan.schedule.len();
                    let drained =
                        arrivals_over && all_taken && run.in_flight.load(Ordering::SeqCst) == 0;
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

/// `GET /v1/stats` outside goose's metrics: `Ok(None)` when the server has no such endpoint.
async fn fetch_stats(user: &mut GooseUser) -> Result<Option<Value>, String> {
    let builder = user
        .get_request_builder(&GooseMethod::Get, stats::SNAPSHOT_PATH)
        .map_err(|e| format!("{e:?}"))?;
    let response = builder
        .send()
        .await
        .map_err(|e| http::transport_cause(&e))?;
    if !response.status().is_success() {
        return Ok(None);
    }
    let bytes = response
        .bytes()
        .await
        .map_err(|e| e.without_url().to_string())?;
    Ok(serde_json::from_slice(&bytes).ok())
}

/// Snapshots the server's stats before any user starts (the checks ran before the banner).
fn stats_before(user: &mut GooseUser, run: Arc<RunState>) -> BoxedStep<'_> {
    Box::pin(async move {
        let host = user.base_url.to_string();
        match fetch_stats(user).await {
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
            && let Ok(Some(stats)) = fetch_stats(user).await
        {
            *run.stats_after.lock().unwrap_or_else(|p| p.into_inner()) = Some(stats);
        }
        Ok(())
    })
}

/// The server's chat counts over the test, when both snapshots exist.
fn server_chats(before: &Value, after: &Value) -> Option<ServerChats> {
    let get = |v: &Value, k: &str| v["chats"][k].as_u64();
    let delta = |k: &str| Some(get(after, k)?.saturating_sub(get(before, k)?));
    Some(ServerChats {
        created: delta("created")?,
        queued: get(after, "queued")?,
        offered: get(after, "offered")?,
        active: get(after, "active")?,
        closed: delta("closed")?,
        abandoned: delta("abandoned")?,
        rejected: delta("rejected")?,
    })
}

fn build_report(
    config: &LoadTestConfig,
    host: &str,
    run: &RunState,
    forecast: crate::sim::SimulationReport,
) -> LoadTestReport {
    let plan = &run.plan;
    let ended_by = run
        .ended_by
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .unwrap_or(EndedBy::Interrupted);
    let finished = run
        .finished_at
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .unwrap_or_else(Instant::now);
    let elapsed = run.t0().map_or(0.0, |t0| {
        finished.saturating_duration_since(t0).as_secs_f64()
    });
    let before = run
        .stats_before
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .clone();
    let after = run
        .stats_after
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .clone();
    let server = match (&before, &after) {
        (Some(b), Some(a)) => server_chats(b, a),
        _ => None,
    };
    let mut warnings = run
        .warnings
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .clone();
    let server_route_latency = stats::route_latency_window(before.as_ref(), after.as_ref())
        .unwrap_or_else(|why| {
            warnings.push(why);
            None
        });
    let rec = run.rec();

    let mut overall = crate::metrics::QueueTally::default();
    for t in &rec.tallies {
        overall.merge(t);
    }
    let measured = Measured {
        overall: Figures::of(&overall),
        queues: plan
            .profile
            .queues
            .iter()
            .zip(&rec.tallies)
            .map(|(q, t)| (q.name.clone(), Figures::of(t)))
            .collect(),
    };
    let reps = forecast.replications;
    let comparison = report::compare(&measured.overall, &forecast.summary.overall, reps);

    let mut live = [0u64; 3];
    for state in rec.live.values() {
        match *state {
            "queued" => live[0] += 1,
            "offered" => live[1] += 1,
            "active" => live[2] += 1,
            _ => {}
        }
    }
    let chats: ChatsOut = report::chats_out(&rec.chats, live, server);

    let mut endpoints = BTreeMap::new();
    let mut all = micros_histogram();
    let (mut requests, mut failures) = (0, 0);
    for ep in Endpoint::ALL {
        let stats = &rec.endpoints[ep as usize];
        requests += stats.requests;
        failures += stats.failures;
        if !ep.long_poll() {
            let _ = all.add(&stats.latency_us);
        }
        endpoints.insert(
            ep.name().to_string(),
            EndpointOut {
                route: ep.route(),
                long_poll: ep.long_poll(),
                requests: stats.requests,
                failures: stats.failures,
                latency: LatencyOut::of(&stats.latency_us),
            },
        );
    }
    let http = HttpOut {
        requests,
        failures,
        error_rate: if requests > 0 {
            failures as f64 / requests as f64
        } else {
            f64::NAN
        },
        rps: if elapsed > 0.0 {
            requests as f64 / elapsed
        } else {
            f64::NAN
        },
        all: LatencyOut::of(&all),
        endpoints,
    };
    let arrival_lag = LatencyOut::of(&rec.arrival_lag_us);
    if arrival_lag.p99_ms > 100.0 {
        warnings.push(format!(
            "arrival lag p99 {:.0} ms: the generator fell behind its schedule (too few customer \
             users, or the machine is saturated); raise --customers or lower the time scale",
            arrival_lag.p99_ms
        ));
    }
    if chats.forced_leaves > 0 {
        warnings.push(format!(
            "{} chats were still open when the drain time ran out and their customers left; \
             raise --drain to let them finish",
            chats.forced_leaves
        ));
    }
    if chats.lost > 0 {
        warnings.push(format!(
            "{} chats were created but not seen to end",
            chats.lost
        ));
    }
    if chats.conserved == Some(false) {
        warnings
            .push("the server's chat counts differ from the load test's (see chats.server)".into());
    }
    if ended_by == EndedBy::Interrupted {
        warnings.push("the run was interrupted before every chat ended".into());
    }
    warnings.extend(forecast.warnings.iter().map(|w| format!("forecast: {w}")));

    let mut report = LoadTestReport {
        profile: plan.profile.name.clone(),
        host: host.to_string(),
        seed: plan.seed,
        window: plan.window.clone(),
        staffing: StaffingOut {
            source: plan.staffing_source,
            agents: plan.agents.len(),
            groups: plan
                .profile
                .agents
                .iter()
                .zip(&plan.staffing.groups)
                .map(|(g, s)| (g.name.clone(), s.clone()))
                .collect(),
        },
        customers: plan.customers,
        chats,
        measured,
        forecast: Forecast {
            replications: reps,
            overall: forecast.summary.overall,
            queues: forecast.summary.queues.clone(),
        },
        comparison,
        http,
        route_latency: LatencyOut::of(&rec.route_us),
        arrival_lag,
        time_to_answer: LatencyOut::of(&rec.time_to_answer_us),
        first_response: LatencyOut::of(&rec.first_response_us),
        offers: rec.offers,
        server_route_latency,
        errors: rec.errors.clone(),
        thresholds: Vec::new(),
        run: RunOut {
            ended_by,
            elapsed_secs: elapsed,
            arrivals_secs: plan.window.wall_secs,
            drain_limit_secs: config.drain_secs,
            users: plan.agents.len() + plan.customers,
            report_files: config.report_files.clone(),
        },
        warnings,
    };
    report.thresholds = config
        .thresholds
        .iter()
        .map(|t| t.evaluate(report.metric(&t.metric)))
        .collect();
    report
}
