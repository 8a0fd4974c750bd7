//! The summary of a finished run, assembled from what the users recorded, the server's two
//! `/v1/stats` snapshots and the forecast: chats by state, measured figures beside the
//! forecast, HTTP latency per endpoint, the custom timings, warnings and threshold results.

use std::collections::BTreeMap;

use crate::metrics::QueueTally;

use super::record::{ForecastFigures, RunContext, RunRecord};
use super::report::{
    self, ChatsOut, EndpointOut, Figures, Forecast, HttpOut, LatencyOut, LoadTestReport, Measured,
    RunOut,
};
use super::run_state::{EndedBy, micros_histogram};
use super::stats;
use super::stats::ServerSnapshot;
use super::threshold::Threshold;

/// The summary of a run: what it recorded, its plan and flags, and the forecast; `thresholds`
/// evaluated, not enforced. One process and the merge of its shards both end here.
pub(super) fn build_report(
    context: &RunContext,
    record: &RunRecord,
    forecast: &ForecastFigures,
    thresholds: &[Threshold],
) -> LoadTestReport {
    let (ended_by, elapsed) = (record.ended_by, record.elapsed_secs);
    let mut warnings = record.warnings.clone();
    let (mut server, server_route_latency) = server_window(record, &mut warnings);
    if context.shard.count > 1 && server.is_some() {
        // The server counts every shard's chats: only the merge can compare with them.
        server = None;
        warnings.push(format!(
            "shard {}/{}: the server's counts cover every shard; `chatcap loadtest merge` \
             compares them with the whole run",
            context.shard.index, context.shard.count
        ));
    }
    let measured = measured(context, &record.tallies);
    let reps = forecast.replications;
    let comparison = report::compare(&measured.overall, &forecast.overall, reps);
    let chats = report::chats_out(&record.chats, record.live, server);
    let http = http_of(record, elapsed);
    let arrival_lag = LatencyOut::of(&record.arrival_lag_us);
    warnings.extend(run_warnings(&chats, &arrival_lag, ended_by));
    warnings.extend(forecast.warnings.iter().map(|w| format!("forecast: {w}")));

    let mut report = LoadTestReport {
        profile: context.profile.clone(),
        host: context.host.clone(),
        seed: context.seed,
        window: context.window.clone(),
        staffing: context.staffing.clone(),
        customers: context.customers,
        chats,
        measured,
        forecast: Forecast {
            replications: reps,
            overall: forecast.overall,
            queues: forecast.queues.clone(),
        },
        comparison,
        http,
        route_latency: LatencyOut::of(&record.route_us),
        arrival_lag,
        time_to_answer: LatencyOut::of(&record.time_to_answer_us),
        first_response: LatencyOut::of(&record.first_response_us),
        offers: record.offers,
        server_route_latency,
        errors: record.errors.clone(),
        thresholds: Vec::new(),
        run: RunOut {
            ended_by,
            elapsed_secs: elapsed,
            arrivals_secs: context.window.wall_secs,
            drain_limit_secs: context.drain_limit_secs,
            users: context.users,
            report_files: context.report_files.clone(),
        },
        warnings,
    };
    report.thresholds = thresholds
        .iter()
        .map(|t| t.evaluate(report.metric(&t.metric)))
        .collect();
    report
}

/// What the backend's snapshots before and after the run say about the run alone: its chat
/// counts and its route latency (a warning when the latter cannot be told apart).
fn server_window(
    record: &RunRecord,
    warnings: &mut Vec<String>,
) -> (Option<BTreeMap<String, u64>>, Option<LatencyOut>) {
    let (before, after) = (&record.stats_before, &record.stats_after);
    let counts = match (before.as_ref(), after.as_ref()) {
        (Some(b), Some(a)) if !a.counts.is_empty() => Some(server_chats(b, a)),
        _ => None,
    };
    let route_latency = stats::route_latency_window(before.as_ref(), after.as_ref())
        .unwrap_or_else(|why| {
            warnings.push(why);
            None
        });
    (counts, route_latency)
}

/// The backend's chat counts over the test: created and ended ones as the change between the
/// snapshots, live ones as they are at the end.
fn server_chats(before: &ServerSnapshot, after: &ServerSnapshot) -> BTreeMap<String, u64> {
    after
        .counts
        .iter()
        .map(|(name, &a)| {
            let live = matches!(name.as_str(), "queued" | "offered" | "active" | "live");
            let b = before.counts.get(name).copied().unwrap_or(0);
            (name.clone(), if live { a } else { a.saturating_sub(b) })
        })
        .collect()
}

/// The measured figures, overall and per queue, from the ledger's tallies.
fn measured(context: &RunContext, tallies: &[QueueTally]) -> Measured {
    let mut overall = QueueTally::default();
    for t in tallies {
        overall.merge(t);
    }
    Measured {
        overall: Figures::of(&overall),
        queues: context
            .queues
            .iter()
            .zip(tallies)
            .map(|(q, t)| (q.clone(), Figures::of(t)))
            .collect(),
    }
}

/// Requests, failures and latencies per endpoint and over all but the long-polls.
fn http_of(record: &RunRecord, elapsed: f64) -> HttpOut {
    let mut endpoints = BTreeMap::new();
    let mut all = micros_histogram();
    let (mut requests, mut failures) = (0, 0);
    for (name, stats) in &record.endpoints {
        requests += stats.requests;
        failures += stats.failures;
        if !stats.long_poll {
            let _ = all.add(&stats.latency_us);
        }
        endpoints.insert(
            name.clone(),
            EndpointOut {
                route: stats.route.clone(),
                long_poll: stats.long_poll,
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
