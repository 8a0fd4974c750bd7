//! The summary of a finished run, assembled from what the users recorded, the server's two
//! `/v1/stats` snapshots and the forecast: chats by state, measured figures beside the
//! forecast, HTTP latency per endpoint, the custom timings, warnings and threshold results.

use std::collections::BTreeMap;
use std::time::Instant;

use crate::metrics::QueueTally;
use crate::sim::SimulationReport;

use super::endpoint::Endpoint;
use super::report::{
    self, ChatsOut, EndpointOut, Figures, Forecast, HttpOut, LatencyOut, LoadTestReport, Measured,
    RunOut, StaffingOut,
};
use super::run_state::{EndedBy, Recorder, RunState, micros_histogram};
use super::schedule::LoadPlan;
use super::{LoadTestConfig, stats};
use crate::api::{ChatCounts, ChatState, Stats};

/// The summary of the run `run` recorded, thresholds evaluated.
pub(super) fn build_report(
    config: &LoadTestConfig,
    host: &str,
    run: &RunState,
    forecast: SimulationReport,
) -> LoadTestReport {
    let plan = &run.plan;
    let (ended_by, elapsed) = ending(run);
    let mut warnings = run
        .warnings
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .clone();
    let (server, server_route_latency) = server_window(run, &mut warnings);
    let rec = run.rec();
    let measured = measured(plan, &rec.tallies);
    let reps = forecast.replications;
    let comparison = report::compare(&measured.overall, &forecast.summary.overall, reps);
    let chats = chats_of(&rec, server);
    let http = http_of(&rec, elapsed);
    let arrival_lag = LatencyOut::of(&rec.arrival_lag_us);
    warnings.extend(run_warnings(&chats, &arrival_lag, ended_by));
    warnings.extend(forecast.warnings.iter().map(|w| format!("forecast: {w}")));

    let mut report = LoadTestReport {
        profile: plan.profile.name.clone(),
        host: host.to_string(),
        seed: plan.seed,
        window: plan.window.clone(),
        staffing: staffing_of(plan),
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

/// Why the run ended, and the wall seconds from the window start to its end.
fn ending(run: &RunState) -> (EndedBy, f64) {
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
    (ended_by, elapsed)
}

/// What the server's snapshots before and after the run say about the run alone: its chat
/// counts and its route latency (a warning when the latter cannot be told apart).
fn server_window(
    run: &RunState,
    warnings: &mut Vec<String>,
) -> (Option<ChatCounts>, Option<LatencyOut>) {
    let before = run.stats_before.lock().unwrap_or_else(|p| p.into_inner());
    let after = run.stats_after.lock().unwrap_or_else(|p| p.into_inner());
    let counts = match (before.as_ref(), after.as_ref()) {
        (Some(b), Some(a)) => Some(server_chats(b, a)),
        _ => None,
    };
    let route_latency = stats::route_latency_window(before.as_ref(), after.as_ref())
        .unwrap_or_else(|why| {
            warnings.push(why);
            None
        });
    (counts, route_latency)
}

/// The server's chat counts over the test: created and ended ones as the change between the
/// snapshots, live ones as they are at the end.
fn server_chats(before: &Stats, after: &Stats) -> ChatCounts {
    let (b, a) = (&before.chats, &after.chats);
    ChatCounts {
        created: a.created.saturating_sub(b.created),
        queued: a.queued,
        offered: a.offered,
        active: a.active,
        closed: a.closed.saturating_sub(b.closed),
        abandoned: a.abandoned.saturating_sub(b.abandoned),
        rejected: a.rejected.saturating_sub(b.rejected),
    }
}

/// The measured figures, overall and per queue, from the ledger's tallies.
fn measured(plan: &LoadPlan, tallies: &[QueueTally]) -> Measured {
    let mut overall = QueueTally::default();
    for t in tallies {
        overall.merge(t);
    }
    Measured {
        overall: Figures::of(&overall),
        queues: plan
            .profile
            .queues
            .iter()
            .zip(tallies)
            .map(|(q, t)| (q.name.clone(), Figures::of(t)))
            .collect(),
    }
}

/// Chats by state: ended ones as tallied, live ones by the last state their customer saw.
fn chats_of(rec: &Recorder, server: Option<ChatCounts>) -> ChatsOut {
    let mut live = [0u64; 3];
    for state in rec.live.values() {
        match state {
            ChatState::Queued => live[0] += 1,
            ChatState::Offered => live[1] += 1,
            ChatState::Active => live[2] += 1,
            _ => {}
        }
    }
    report::chats_out(&rec.chats, live, server)
}

/// Requests, failures and latencies per endpoint and over all but the long-polls.
fn http_of(rec: &Recorder, elapsed: f64) -> HttpOut {
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
    HttpOut {
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
    }
}

/// What the run itself says about its figures: a lagging generator, chats sent away or lost,
/// counts that differ from the server's, an interrupted run.
fn run_warnings(chats: &ChatsOut, arrival_lag: &LatencyOut, ended_by: EndedBy) -> Vec<String> {
    let mut warnings = Vec::new();
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
    warnings
}

/// The staffing played: its source, the agent users, and per group the agents on duty.
fn staffing_of(plan: &LoadPlan) -> StaffingOut {
    StaffingOut {
        source: plan.staffing_source,
        agents: plan.agents.len(),
        groups: plan
            .profile
            .agents
            .iter()
            .zip(&plan.staffing.groups)
            .map(|(g, s)| (g.name.clone(), s.clone()))
            .collect(),
    }
}
