//! State shared by every goose user of one load test: the plan and its scenario (the samplers),
//! the absolute clock, counters that decide when the test has drained, and the recorder that
//! collects what the summary reports. Locks are held for a few counter updates and never across
//! an await.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;

use crate::api::ChatState;
use crate::metrics::QueueTally;
use crate::scenario::{AgentGroup, QueueModel};

use super::LoadTestError;
use super::schedule::LoadPlan;
use super::stats::ServerSnapshot;
use super::target::Target;

/// Latencies in microseconds, 1 µs to 10 minutes, 3 significant digits.
pub(crate) fn micros_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 600_000_000, 3).expect("valid histogram bounds")
}

/// Requests, failures and latencies of one endpoint.
#[derive(Debug, Clone)]
pub(crate) struct EndpointStats {
    pub requests: u64,
    pub failures: u64,
    pub latency_us: Histogram<u64>,
}

impl Default for EndpointStats {
    fn default() -> Self {
        EndpointStats {
            requests: 0,
            failures: 0,
            latency_us: micros_histogram(),
        }
    }
}

/// Chats as the load test saw them end.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ChatTally {
    /// Chat creations the server accepted (201) or refused as queue or server full (503): what
    /// the server counts as created.
    pub created: u64,
    /// Closed by an agent (or by the customer leaving an active chat).
    pub closed: u64,
    /// The customer left before an answer.
    pub abandoned: u64,
    /// Refused: the queue was full.
    pub rejected: u64,
    /// Customers resolved by the bot before reaching a queue (never sent to the server).
    pub bot_resolved: u64,
    /// Creations that failed otherwise (transport error, unexpected status): not created.
    pub create_failed: u64,
    /// Chats the customer left because the drain time ran out.
    pub forced_leaves: u64,
}

/// Offers as the agents saw them.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct OfferTally {
    /// Offers and assignments delivered to agents.
    pub delivered: u64,
    /// Offers accepted.
    pub accepted: u64,
    /// Offers left to lapse because the sampled accept delay ran past the deadline.
    pub left_to_lapse: u64,
    /// Accepts refused (withdrawn or expired offers).
    pub accept_refused: u64,
    /// Transfers made.
    pub transfers: u64,
    /// Active chats whose customer left, as the inbox told the agent (work on them stopped).
    pub customers_left: u64,
}

impl ChatTally {
    /// Adds another process's chats (shards of one run).
    pub fn merge(&mut self, o: &ChatTally) {
        self.created += o.created;
        self.closed += o.closed;
        self.abandoned += o.abandoned;
        self.rejected += o.rejected;
        self.bot_resolved += o.bot_resolved;
        self.create_failed += o.create_failed;
        self.forced_leaves += o.forced_leaves;
    }
}

impl OfferTally {
    /// Adds another process's offers (shards of one run).
    pub fn merge(&mut self, o: &OfferTally) {
        self.delivered += o.delivered;
        self.accepted += o.accepted;
        self.left_to_lapse += o.left_to_lapse;
        self.accept_refused += o.accept_refused;
        self.transfers += o.transfers;
        self.customers_left += o.customers_left;
    }
}

/// Everything measured, behind one lock.
pub(crate) struct Recorder {
    pub tallies: Vec<QueueTally>,
    pub endpoints: Vec<EndpointStats>,
    pub route_us: Histogram<u64>,
    pub arrival_lag_us: Histogram<u64>,
    pub time_to_answer_us: Histogram<u64>,
    pub first_response_us: Histogram<u64>,
    pub chats: ChatTally,
    pub offers: OfferTally,
    /// Live chats by id with the last state their customer saw.
    pub live: HashMap<String, ChatState>,
    /// Unexpected outcomes: message -> count (at most [`MAX_ERROR_KINDS`] kinds).
    pub errors: BTreeMap<String, u64>,
}

/// Distinct error messages kept.
const MAX_ERROR_KINDS: usize = 20;

impl Recorder {
    fn new(queues: usize, endpoints: usize) -> Recorder {
        Recorder {
            tallies: vec![QueueTally::default(); queues],
            endpoints: vec![EndpointStats::default(); endpoints],
            route_us: micros_histogram(),
            arrival_lag_us: micros_histogram(),
            time_to_answer_us: micros_histogram(),
            first_response_us: micros_histogram(),
            chats: ChatTally::default(),
            offers: OfferTally::default(),
            live: HashMap::new(),
            errors: BTreeMap::new(),
        }
    }

    pub(crate) fn error(&mut self, message: String) {
        count_error(&mut self.errors, message, 1);
    }
}

/// Adds `count` errors of kind `message` to `errors`, keeping at most [`MAX_ERROR_KINDS`]
/// kinds: the others count as `(other errors)`.
pub(crate) fn count_error(errors: &mut BTreeMap<String, u64>, message: String, count: u64) {
    let key = if errors.len() < MAX_ERROR_KINDS || errors.contains_key(&message) {
        message
    } else {
        "(other errors)".to_string()
    };
    *errors.entry(key).or_insert(0) += count;
}

/// Records `d` (clamped to the histogram's range) in microseconds.
pub(crate) fn record_duration(hist: &mut Histogram<u64>, d: Duration) {
    let us = (d.as_micros() as u64).clamp(1, 600_000_000);
    let _ = hist.record(us);
}

/// `secs` wall seconds as a duration, clamped to 0..6e8 s (NaN: zero), so
/// that no number a server sends can make the conversion panic.
pub(crate) fn duration_of_secs(secs: f64) -> Duration {
    Duration::try_from_secs_f64(secs.clamp(0.0, 6e8)).unwrap_or_default()
}

/// Records `secs` (wall seconds; negative clock skew clamps to 1 µs).
pub(crate) fn record_secs(hist: &mut Histogram<u64>, secs: f64) {
    let us = if secs.is_finite() {
        (secs * 1e6).round().clamp(1.0, 6e8) as u64
    } else {
        return;
    };
    let _ = hist.record(us);
}

/// Why the attack ended.
/// Ordered from the cleanest end: merged shards end as the worst of them.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum EndedBy {
    /// Every scheduled customer finished: the normal end.
    Drained,
    /// The drain time ran out; customers still in a chat were sent away, then the test stopped.
    DrainLimit,
    /// Stopped from outside (Ctrl-C) or by goose's run-time cap.
    Interrupted,
}

/// What every user of one run reads and records into.
pub(crate) struct RunState {
    pub plan: LoadPlan,
    pub scale: f64,
    /// How to speak the backend's API.
    pub target: Arc<Target>,
    /// Wall time between agent status messages while handling a chat.
    pub status_every: Option<Duration>,
    /// Wall time allowed after the arrivals for chats to end.
    pub drain: Duration,
    t0: OnceLock<Instant>,
    /// The instant the clock must start at (`--start-at`).
    pub start_at: Option<Instant>,
    pub agents_ready: AtomicUsize,
    pub customers_ready: AtomicUsize,
    pub next_agent: AtomicUsize,
    pub next_arrival: AtomicUsize,
    /// Customers holding an arrival: due, creating, or in a chat.
    pub in_flight: AtomicUsize,
    pub stopping: AtomicBool,
    pub ended_by: Mutex<Option<EndedBy>>,
    pub fatal: Mutex<Option<LoadTestError>>,
    /// The backend's counts before and after the test (`None`: not available).
    pub stats_before: Mutex<Option<ServerSnapshot>>,
    pub stats_after: Mutex<Option<ServerSnapshot>>,
    /// Things the summary should mention.
    pub warnings: Mutex<Vec<String>>,
    pub finished_at: Mutex<Option<Instant>>,
    recorder: Mutex<Recorder>,
}

impl RunState {
    pub(crate) fn new(
        plan: LoadPlan,
        target: Arc<Target>,
        status_every_profile_secs: f64,
        drain: Duration,
        start_at: Option<Instant>,
    ) -> Result<RunState, LoadTestError> {
        let scale = plan.window.time_scale;
        let status_every = (status_every_profile_secs > 0.0)
            .then(|| duration_of_secs(status_every_profile_secs / scale));
        let recorder = Recorder::new(plan.scenario.queues.len(), target.endpoints.len());
        Ok(RunState {
            plan,
            scale,
            target,
            status_every,
            drain,
            t0: OnceLock::new(),
            start_at,
            agents_ready: AtomicUsize::new(0),
            customers_ready: AtomicUsize::new(0),
            next_agent: AtomicUsize::new(0),
            next_arrival: AtomicUsize::new(0),
            in_flight: AtomicUsize::new(0),
            stopping: AtomicBool::new(false),
            ended_by: Mutex::new(None),
            fatal: Mutex::new(None),
            stats_before: Mutex::new(None),
            stats_after: Mutex::new(None),
            warnings: Mutex::new(Vec::new()),
            finished_at: Mutex::new(None),
            recorder: Mutex::new(recorder),
        })
    }

    /// Why the run ended, and the wall seconds from the window start to its end.
    pub(crate) fn ending(&self) -> (EndedBy, f64) {
        let ended_by = self
            .ended_by
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .unwrap_or(EndedBy::Interrupted);
        let finished = self
            .finished_at
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .unwrap_or_else(Instant::now);
        let elapsed = self.t0().map_or(0.0, |t0| {
            finished.saturating_duration_since(t0).as_secs_f64()
        });
        (ended_by, elapsed)
    }

    /// The recorder; a poisoned lock (a panicked user) still yields the data.
    pub(crate) fn rec(&self) -> MutexGuard<'_, Recorder> {
        self.recorder.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The instant profile time 0 of the window maps to, once every user is ready.
    pub(crate) fn t0(&self) -> Option<Instant> {
        self.t0.get().copied()
    }

    pub(crate) fn start_clock(&self, at: Instant) {
        let _ = self.t0.set(at);
    }

    /// Profile seconds since the window start (0 before it).
    pub(crate) fn profile_time(&self, now: Instant) -> f64 {
        self.t0().map_or(0.0, |t0| {
            now.saturating_duration_since(t0).as_secs_f64() * self.scale
        })
    }

    /// Wall duration of `secs` profile seconds.
    pub(crate) fn wall(&self, secs: f64) -> Duration {
        duration_of_secs(secs / self.scale)
    }

    /// When customers still in a chat leave: the end of the arrivals plus the drain time.
    pub(crate) fn drain_deadline(&self) -> Option<Instant> {
        self.t0()
            .map(|t0| t0 + Duration::from_secs_f64(self.plan.window.wall_secs) + self.drain)
    }

    /// Stops the test with an error (the first one is kept).
    pub(crate) fn fail(&self, error: LoadTestError) {
        let mut fatal = self.fatal.lock().unwrap_or_else(|p| p.into_inner());
        if fatal.is_none() {
            *fatal = Some(error);
        }
        self.stopping.store(true, Ordering::SeqCst);
    }

    pub(crate) fn has_failed(&self) -> bool {
        self.fatal
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .is_some()
    }

    pub(crate) fn warn(&self, message: String) {
        self.warnings
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(message);
    }

    pub(crate) fn is_stopping(&self) -> bool {
        self.stopping.load(Ordering::SeqCst)
    }

    /// Queue `q`'s model, the simulator's own, so that both sample chats the same way.
    pub(crate) fn queue(&self, q: usize) -> &QueueModel {
        &self.plan.scenario.queues[q]
    }

    /// Agent group `g`'s model: cap, skills, slowdown table.
    pub(crate) fn group(&self, g: usize) -> &AgentGroup {
        &self.plan.scenario.groups[g]
    }

    /// Mean handle time of queue `q` in the window interval of profile time `t`.
    pub(crate) fn aht(&self, q: usize, t: f64) -> f64 {
        let i = self.plan.interval_at(t);
        let model = self.queue(q);
        model
            .aht_by_interval
            .get(i)
            .copied()
            .unwrap_or(model.handle.mean())
    }

    /// The queues agent group `g` has a skill for.
    pub(crate) fn queues_of_group(&self, g: usize) -> Vec<usize> {
        let group = self.group(g);
        let queues = &self.plan.scenario.queues;
        (0..queues.len())
            .filter(|&q| group.skills.iter().any(|(s, _)| *s == queues[q].skill))
            .collect()
    }

    pub(crate) fn queue_index(&self, name: &str) -> Option<usize> {
        self.plan
            .scenario
            .queues
            .iter()
            .position(|q| q.name == name)
    }
}
