//! What `chatcap fit` found: the results struct is the contract of `--format json`, so every
//! field is documented and the keys stay stable.

use std::collections::BTreeMap;

use serde::Serialize;

use super::history::RowCounts;

/// Everything `chatcap fit` measured.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct FitReport {
    /// Rows of the chat log read, used and skipped by reason.
    pub rows: RowCounts,
    /// Thin data, fallbacks and anything else the planner should know, one sentence each.
    pub warnings: Vec<String>,
    /// The history's span and the forecast horizon.
    pub horizon: FitHorizon,
    /// Per queue, by name.
    pub queues: BTreeMap<String, QueueFit>,
    /// Per agent group (from the agent log, else one group of every agent).
    pub groups: Vec<GroupFit>,
    /// Every queue's forecast per interval, one row each: the volumes written to the profile
    /// (the CSV rows; the same figures as each queue's `volume.forecast`).
    pub intervals: Vec<FitInterval>,
    /// Timing of the fit.
    pub perf: FitPerf,
}

/// The history read and the horizon forecast.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct FitHorizon {
    /// First chat's creation, ISO 8601 in the zone.
    pub history_start: String,
    /// Last chat's creation, ISO 8601 in the zone.
    pub history_end: String,
    /// Start of the first forecast interval, ISO 8601 in the zone.
    pub forecast_start: String,
    /// Number of days forecast.
    pub days: u32,
    /// Interval length, seconds.
    pub interval_secs: f64,
    /// The time zone intervals are laid out in (IANA name).
    pub timezone: String,
    /// Days held out for the backtest.
    pub holdout_days: u32,
}

/// What was measured for one queue.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct QueueFit {
    /// Chats of the queue in the history.
    pub chats: u64,
    /// Volume forecast and its backtest.
    pub volume: VolumeFit,
    /// Handle time at concurrency 1.
    pub handle_time: Option<DistFit>,
    /// Slowdown factor per concurrency level for this queue's chats (level 1 is 1).
    pub slowdown: Vec<SlowdownLevel>,
    /// Patience, from abandons with answered chats censored at their wait.
    pub patience: Option<PatienceFit>,
    /// Bot share and time, when the log has `bot_resolved`.
    pub bot: Option<BotFit>,
    /// Transfer share and target, when the log has `transferred_to`.
    pub transfer: Option<TransferFit>,
    /// Delay from answer to the agent's first message, when the log has `first_response_at`.
    pub first_response: Option<DistFit>,
    /// Delay from offer to acceptance, when the log has `offered_at`.
    pub accept_delay: Option<DistFit>,
    /// Survey response and score against wait, when the log has `csat`.
    pub csat: Option<CsatFit>,
}

/// The volume forecast of one queue.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct VolumeFit {
    /// The forecasting model, e.g. `"MSTL(48,336)+ETS"`, or the fallback used on thin data.
    pub model: String,
    /// Weighted absolute percentage error of the model on the held-out days (0.1 is 10%).
    pub wape: Option<f64>,
    /// The same error for the seasonal-naive forecast (same interval one week before).
    pub baseline_wape: Option<f64>,
    /// Forecast uncertainty written to the profile as `volume_cv`.
    pub volume_cv: f64,
    /// Expected chats per interval over the horizon, with a 95% prediction interval.
    pub forecast: Vec<ForecastPoint>,
    /// Chats per interval of the history (for the report's chart, not serialized).
    #[serde(skip)]
    #[schemars(skip)]
    pub history: Vec<(String, f64)>,
}

/// One forecast interval.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct ForecastPoint {
    /// Start of the interval, ISO 8601 in the zone.
    pub start: String,
    /// Expected chats.
    pub volume: f64,
    /// Lower end of the 95% prediction interval.
    pub low: f64,
    /// Upper end of the 95% prediction interval.
    pub high: f64,
}

/// A duration distribution fitted by maximum likelihood among the families chatcap simulates.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct DistFit {
    /// The chosen family (`exponential`, `lognormal`, `gamma`, `weibull`).
    pub dist: String,
    /// Mean, seconds.
    pub mean_secs: f64,
    /// Coefficient of variation.
    pub cv: f64,
    /// 95% confidence interval of the mean, seconds.
    pub mean_ci_low: f64,
    /// Upper end of that interval.
    pub mean_ci_high: f64,
    /// Observations behind the fit.
    pub chats: u64,
    /// Every family tried, best first, with its log-likelihood.
    pub candidates: Vec<FamilyFit>,
}

/// One family's maximum-likelihood fit.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct FamilyFit {
    /// The family.
    pub dist: String,
    /// Mean, seconds.
    pub mean_secs: f64,
    /// Coefficient of variation.
    pub cv: f64,
    /// Log-likelihood of the observations.
    pub log_likelihood: f64,
    /// Akaike's information criterion (2 parameters - 2 log-likelihood; the exponential has
    /// one parameter, the others two): the lowest is chosen.
    pub aic: f64,
}

/// The slowdown at one concurrency level.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct SlowdownLevel {
    /// Chats the agent held.
    pub level: u32,
    /// Handle time at this level over handle time at level 1.
    pub factor: f64,
    /// Lower end of the factor's 95% confidence interval.
    pub ci_low: f64,
    /// Upper end of the factor's 95% confidence interval.
    pub ci_high: f64,
    /// Hours of chat handling observed at this level (the exposure behind the factor).
    pub chat_hours: f64,
}

/// Patience measured with censoring.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct PatienceFit {
    /// The chosen family.
    pub dist: String,
    /// Mean patience, seconds.
    pub mean_secs: f64,
    /// Coefficient of variation.
    pub cv: f64,
    /// 95% confidence interval of the mean, seconds.
    pub mean_ci_low: f64,
    /// Upper end of that interval.
    pub mean_ci_high: f64,
    /// Share of waits censored (answered before the customer gave up).
    pub censored_share: f64,
    /// Waits behind the fit (abandons and censored).
    pub chats: u64,
    /// Abandons among them.
    pub abandons: u64,
    /// Every family tried, best first.
    pub candidates: Vec<FamilyFit>,
    /// Kaplan-Meier survival at each abandon time, `(secs, survival)` (for the report's
    /// chart, not serialized).
    #[serde(skip)]
    #[schemars(skip)]
    pub kaplan_meier: Vec<(f64, f64)>,
}

/// The bot stage.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct BotFit {
    /// Share of chats the bot resolved.
    pub resolve_share: f64,
    /// Time in the bot stage, when measurable.
    pub time: Option<DistFit>,
    /// Chats behind the share.
    pub chats: u64,
}

/// Transfers out of the queue.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct TransferFit {
    /// Share of answered chats transferred.
    pub share: f64,
    /// The queue most transfers went to.
    pub to: String,
    /// Answered chats behind the share.
    pub chats: u64,
    /// Transfers per target queue.
    pub targets: BTreeMap<String, u64>,
}

/// Survey response and score against the wait.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct CsatFit {
    /// Share of closed, answered chats with a score.
    pub response: f64,
    /// Score at no wait (the line's intercept).
    pub score: f64,
    /// Score lost per minute of wait (the line's slope, positive when waits hurt).
    pub drop_per_minute: f64,
    /// Lowest score seen.
    pub floor: f64,
    /// Scores behind the line.
    pub chats: u64,
    /// Mean score per band of wait.
    pub by_wait: Vec<CsatBand>,
}

/// Mean score of the chats that waited within one band.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct CsatBand {
    /// Lower end of the band, seconds of wait.
    pub wait_from_secs: f64,
    /// Upper end of the band.
    pub wait_to_secs: f64,
    /// Mean score.
    pub score: f64,
    /// Scores in the band.
    pub chats: u64,
}

/// One agent group as measured.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct GroupFit {
    /// Group name (from the agent log, or `agents`).
    pub name: String,
    /// Agents seen in the group.
    pub agents: u64,
    /// Queues its agents answered, busiest first.
    pub skills: Vec<String>,
    /// Most chats one agent of the group held at once.
    pub concurrency: u32,
    /// Slowdown per level, all the group's chats pooled.
    pub slowdown: Vec<SlowdownLevel>,
    /// Chats its agents answered.
    pub chats: u64,
}

/// Timing of the fit.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct FitPerf {
    /// Wall-clock seconds, reading included.
    pub elapsed_secs: f64,
    /// Seconds spent reading the logs.
    pub read_secs: f64,
    /// Chat-log rows read per wall-clock second.
    pub rows_per_sec: f64,
}

/// One queue's forecast for one interval of the horizon.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct FitInterval {
    /// Start of the interval, ISO 8601 in the zone.
    pub start: String,
    /// The queue.
    pub queue: String,
    /// Expected chats (the profile's volume).
    pub volume: f64,
    /// Lower end of the 95% prediction interval.
    pub low: f64,
    /// Upper end of the 95% prediction interval.
    pub high: f64,
}
