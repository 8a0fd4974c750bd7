//! One queue compiled from its profile spec: samplers instead of distribution specs, the
//! routing core's queue setup, and the figures its tallies are judged with.

use crate::model::{ArrivalProcess, DurationModel, ModelError};
use crate::profile::{CsatSpec, Dist, QueueSpec, Targets};
use crate::routing::QueueConfig;

/// One queue's stochastic model.
#[derive(Debug, Clone)]
pub struct QueueModel {
    /// Queue name.
    pub name: String,
    /// Skill an agent needs.
    pub skill: String,
    /// Routing priority.
    pub priority: i32,
    /// Longest queue before chats are rejected.
    pub max_queue: u32,
    /// Expected arrivals per interval.
    pub arrivals: ArrivalProcess,
    /// Forecast uncertainty (gamma mixing of the rate), 0 = Poisson.
    pub volume_cv: f64,
    /// Work content of a chat at concurrency 1.
    pub handle: DurationModel,
    /// Mean handle time per interval (scales `handle`).
    pub aht_by_interval: Vec<f64>,
    /// Time a customer waits before leaving.
    pub patience: Option<DurationModel>,
    /// Time an agent takes to accept an offer.
    pub accept_delay: Option<DurationModel>,
    /// Time from answer to the agent's first message.
    pub first_response: Option<DurationModel>,
    /// Bot stage: resolve share and bot time.
    pub bot: Option<(f64, DurationModel)>,
    /// Transfer: share of answered chats and target queue index.
    pub transfer: Option<(f64, usize)>,
    /// Service-level threshold, seconds.
    pub threshold_secs: f64,
    /// Abandons at or below this wait are short, seconds.
    pub short_abandon_secs: f64,
    /// Survey model.
    pub csat: Option<CsatSpec>,
    /// The profile's targets for this queue, which reports judge.
    pub targets: Targets,
}

impl QueueModel {
    /// Compiles queue `q` of a profile with intervals of `interval_secs`; errors name the
    /// queue and field at fault.
    pub(crate) fn compile(q: &QueueSpec, interval_secs: f64) -> Result<QueueModel, ModelError> {
        let what = |field: &str| format!("queues {:?} {field}", q.name);
        let optional = |d: &Option<Dist>, field: &str| {
            d.as_ref()
                .map(|d| DurationModel::new(d, &what(field)))
                .transpose()
        };
        let handle = DurationModel::new(&q.handle_time, &what("handle_time"))?;
        let bot = match &q.bot {
            Some(b) => Some((
                b.resolve_share,
                DurationModel::new(&b.time, &what("bot.time"))?,
            )),
            None => None,
        };
        Ok(QueueModel {
            name: q.name.clone(),
            skill: q.skill.clone(),
            priority: q.priority,
            max_queue: q.max_queue,
            arrivals: ArrivalProcess::new(&q.volume, interval_secs),
            volume_cv: q.volume_cv,
            handle,
            aht_by_interval: q.aht_by_interval.clone(),
            patience: optional(&q.patience, "patience")?,
            accept_delay: optional(&q.accept_delay, "accept_delay")?,
            first_response: optional(&q.first_response, "first_response")?,
            bot,
            transfer: q.transfer.as_ref().map(|t| (t.share, t.to)),
            threshold_secs: q.targets.threshold_secs,
            short_abandon_secs: q.targets.short_abandon_secs,
            csat: q.csat,
            targets: q.targets,
        })
    }

    /// The routing core's setup of this queue (name, skill, priority, longest queue).
    pub fn config(&self) -> QueueConfig {
        QueueConfig {
            name: self.name.clone(),
            skill: self.skill.clone(),
            priority: self.priority,
            max_len: Some(self.max_queue),
        }
    }
}
