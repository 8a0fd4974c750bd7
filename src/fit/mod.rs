//! `chatcap fit`: from chat history to a profile. The chat log (and optionally the agent log)
//! is read as a stream into a compact [`History`]; each queue's volume is forecast with
//! multiple seasonality and backtested, handle time and the slowdown per concurrency level are
//! measured from how many chats each agent held while each chat ran, patience is fitted with
//! answered chats as censored waits, and the rest (bot, transfers, delays, CSAT) wherever the
//! log has the columns. The result is a [`FitReport`] and a profile that `plan`, `simulate` and
//! `caps` take as it is.
//!
//! - `history.rs`: the compact history; `ingest.rs`: chat-log rows into it, every skip counted;
//! - `grid.rs`, `volume.rs`: intervals in the zone, counts, forecast and backtest;
//! - `families.rs`: maximum-likelihood fits of the duration families chatcap simulates;
//! - `legs.rs`: each agent's level path; `handling.rs`: handle time at concurrency 1 and
//!   slowdown per level;
//! - `survival.rs`: patience with censoring, Kaplan-Meier beside the fitted curve;
//! - `extras.rs`: bot, transfers, accept and first-response delays, CSAT against wait;
//! - `profile_out.rs`: the fitted profile as TOML; `document.rs`: tables and charts.

mod averaging;
mod document;
pub mod extras;
pub mod families;
pub(crate) mod grid;
pub mod handling;
pub mod history;
pub mod ingest;
mod legs;
mod profile_out;
pub mod report;
pub mod survival;
pub mod volume;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Instant;

use jiff::Zoned;
use jiff::tz::TimeZone;

pub use history::{History, RowCounts};
pub use report::FitReport;

use crate::chatlog::read::ReadOptions;
use handling::Handling;
use report::{FitHorizon, FitInterval, FitPerf, QueueFit, VolumeFit};

/// What `chatcap fit` reads and how.
#[derive(Debug, Clone)]
pub struct FitOptions {
    /// The chat log (CSV).
    pub chat_log: PathBuf,
    /// The agent log (CSV), if any.
    pub agent_log: Option<PathBuf>,
    /// Interval length of the counts and of the written profile, seconds (divides a day).
    pub interval_secs: f64,
    /// Days forecast and written to the profile.
    pub horizon_days: u32,
    /// Last days of the history held out for the forecast's backtest.
    pub holdout_days: u32,
    /// IANA name of the zone local timestamps are read in and intervals laid out in.
    pub timezone: String,
    /// Column renames, `(canonical, source)`.
    pub map: Vec<(String, String)>,
    /// The profile targets, routing, simulation settings and shrinkage are copied from, as
    /// text with its name (`None`: chatcap's defaults).
    pub base: Option<(String, String)>,
}

/// The fit's results: the report and the profile written from it.
#[derive(Debug, Clone)]
pub struct Fitted {
    /// Everything measured.
    pub report: FitReport,
    /// The fitted profile as TOML; it loads with [`crate::profile::parse`].
    pub profile_toml: String,
}

/// Reads the logs, measures every queue and group, forecasts the horizon and writes the
/// profile (checked by loading it back).
pub fn fit(options: &FitOptions) -> Result<Fitted, FitError> {
    let started = Instant::now();
    let zone = zone(&options.timezone)?;
    check_days(options)?;
    let read = ReadOptions {
        zone: zone.clone(),
        zone_name: options.timezone.clone(),
        map: options.map.clone(),
    };
    let history = ingest::read_history(&options.chat_log, options.agent_log.as_deref(), &read)?;
    let read_secs = started.elapsed().as_secs_f64();
    let (volumes, handled) = rayon::join(
        || {
            volume::forecast_volumes(
                &history,
                &zone,
                options.interval_secs,
                options.horizon_days,
                options.holdout_days,
            )
        },
        || handling::handling(&history),
    );
    let volumes = volumes?;
    let mut warnings = history.warnings.clone();
    warnings.extend(volumes.warnings.iter().cloned());
    warnings.extend(handled.warnings.iter().cloned());
    let mut queues = BTreeMap::new();
    for (q, (name, volume)) in volumes.queues.into_iter().enumerate() {
        let extras = extras::extras(&history, q as u16);
        warnings.extend(extras.warnings(&name));
        queues.insert(
            name,
            queue_fit(&history, q as u16, volume, &handled, extras),
        );
    }
    let mut report = FitReport {
        rows: history.rows.clone(),
        warnings,
        horizon: fit_horizon(&history, &zone, &volumes.forecast_start, options),
        queues,
        groups: handled.groups,
        intervals: Vec::new(),
        perf: FitPerf {
            elapsed_secs: 0.0,
            read_secs,
            rows_per_sec: history.rows.read as f64 / read_secs.max(1e-9),
        },
    };
    report.intervals = intervals(&report);
    let (profile_toml, fallbacks) = profile_out::write(&report, options)?;
    report.warnings.extend(fallbacks);
    report.perf.elapsed_secs = started.elapsed().as_secs_f64();
    Ok(Fitted {
        report,
        profile_toml,
    })
}

/// The forecast rows of every queue, interval by interval (queues in name order within one).
fn intervals(report: &FitReport) -> Vec<FitInterval> {
    let count = report
        .queues
        .values()
        .map(|q| q.volume.forecast.len())
        .max()
        .unwrap_or(0);
    (0..count)
        .flat_map(|i| {
            report.queues.iter().filter_map(move |(name, q)| {
                q.volume.forecast.get(i).map(|p| FitInterval {
                    start: p.start.clone(),
                    queue: name.clone(),
                    volume: p.volume,
                    low: p.low,
                    high: p.high,
                })
            })
        })
        .collect()
}

/// Parses `--map canonical=Source,...` into `(canonical, source)` pairs.
pub fn parse_map(text: &str) -> Result<Vec<(String, String)>, FitError> {
    crate::chatlog::read::parse_map(text).map_err(FitError::from)
}

/// The zone named by `--timezone`.
fn zone(name: &str) -> Result<TimeZone, FitError> {
    TimeZone::get(name).map_err(|_| FitError::Option {
        flag: "--timezone".into(),
        message: format!(
            "{name:?} is not a time zone name; give an IANA name such as \"Europe/Paris\" or \"UTC\""
        ),
    })
}

/// The horizon and holdout lengths in days.
fn check_days(options: &FitOptions) -> Result<(), FitError> {
    let secs = |days: u32| f64::from(days) * crate::profile::DAY_SECS;
    whole_days("--horizon", secs(options.horizon_days), 1)?;
    whole_days("--holdout", secs(options.holdout_days), 0)?;
    Ok(())
}

/// A duration in whole days from `least` to [`MAX_HORIZON_DAYS`] (`flag` names it in the
/// error).
pub fn whole_days(flag: &str, secs: f64, least: u32) -> Result<u32, FitError> {
    let days = secs / crate::profile::DAY_SECS;
    if days.fract() == 0.0 && days >= f64::from(least) && days <= f64::from(MAX_HORIZON_DAYS) {
        return Ok(days as u32);
    }
    let zero = if least == 0 { " (0d: no backtest)" } else { "" };
    Err(FitError::Option {
        flag: flag.to_string(),
        message: format!(
            "{} is not whole days from {least}d to {MAX_HORIZON_DAYS}d; give e.g. 7d{zero}",
            crate::profile::duration::format_duration(secs),
        ),
    })
}

/// Longest horizon (and holdout) `fit` forecasts: five weeks.
pub const MAX_HORIZON_DAYS: u32 = 35;

/// Everything measured for queue `q` besides its volume.
fn queue_fit(
    history: &History,
    q: u16,
    volume: VolumeFit,
    handled: &Handling,
    extras: extras::Extras,
) -> QueueFit {
    let (handle_time, slowdown) = handled
        .queues
        .get(usize::from(q))
        .cloned()
        .unwrap_or_default();
    QueueFit {
        chats: history.chats.iter().filter(|c| c.queue == q).count() as u64,
        volume,
        handle_time,
        slowdown,
        patience: survival::patience(history, q),
        bot: extras.bot,
        transfer: extras.transfer,
        first_response: extras.first_response,
        accept_delay: extras.accept_delay,
        csat: extras.csat,
    }
}

/// The history's span and the horizon, for the report.
fn fit_horizon(
    history: &History,
    zone: &TimeZone,
    forecast_start: &Zoned,
    options: &FitOptions,
) -> FitHorizon {
    let text = |secs: f64| {
        history
            .instant(secs)
            .map(|t| rfc3339(&t.to_zoned(zone.clone())))
            .unwrap_or_default()
    };
    FitHorizon {
        history_start: text(0.0),
        history_end: text(history.chats.last().map_or(0.0, |c| c.created)),
        forecast_start: rfc3339(forecast_start),
        days: options.horizon_days,
        interval_secs: options.interval_secs,
        timezone: options.timezone.clone(),
        holdout_days: options.holdout_days,
    }
}

/// A local time as RFC 3339 with its offset (`2026-12-07T08:30:00+01:00`), unambiguous in a
/// fold.
fn rfc3339(z: &Zoned) -> String {
    z.strftime("%Y-%m-%dT%H:%M:%S%:z").to_string()
}

/// A chat log, agent log or fit option that cannot be used. Every message is one line naming
/// the file (and line and column where known) and the fix.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FitError {
    /// A chat log or agent log cannot be read, or a row of it cannot be used (the reader's
    /// error, naming the file, line and column, as it is).
    #[error(transparent)]
    Log(#[from] crate::chatlog::read::ReadError),
    /// A flag's value is unusable (`--interval`, `--horizon`, `--holdout`...).
    #[error("invalid {flag}: {message}")]
    Option {
        /// The flag.
        flag: String,
        /// What is wrong and what would be right.
        message: String,
    },
    /// The history is too thin to fit anything (e.g. no chat at all of a queue).
    #[error("{0}")]
    Thin(String),
    /// The base profile (`--profile`) is unusable.
    #[error("invalid --profile: {0}")]
    Base(String),
    /// The profile written from the fit does not load: a fault of `chatcap fit` itself.
    #[error(
        "the fitted profile does not load ({0}); please report this with the chat log's header"
    )]
    Written(String),
}
