//! `[[queues]]`: names, demand (a volume list or a forecast file), handle time and the other
//! distributions, bot, transfer, queue limit, target override and CSAT model of each queue.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use toml::Value;

use super::super::forecast::Forecast;
use super::super::locate::{FieldPath, Issue};
use super::super::raw::{RawBot, RawCsat, RawDist, RawQueue, RawTransfer};
use super::super::{BotSpec, CsatSpec, QueueSpec, Targets, TransferSpec};
use super::Failure;
use super::dist::{DIST_EXAMPLE, dist};
use super::horizon::{Horizon, forecast_path, per_interval};
use super::targets::targets;
use super::values::{number, number_text, required_share, unique_names};

/// Longest queue when a profile gives no `max_queue`. Finite so that no queue (in the simulator
/// or in `chatcap serve`) grows without bound under overload; 10,000 waiting chats is far beyond
/// what any staffed queue holds, so the default never shapes a plan, only bounds a flood.
pub const DEFAULT_MAX_QUEUE: u32 = 10_000;

/// Fastest arrival rate of one queue, chats per second (36 million an hour): a higher volume is a
/// slip of the unit (volumes are chats per interval), and would only make a run that never ends.
const MAX_ARRIVAL_RATE: f64 = 10_000.0;

/// Largest `volume_cv` (forecast error as a share of the volume).
const MAX_VOLUME_CV: f64 = 3.0;

/// What every queue is checked against.
pub(super) struct QueueContext<'a> {
    /// The intervals every per-interval list must match.
    pub(super) horizon: &'a Horizon,
    /// The forecast files, by resolved path.
    pub(super) forecasts: &'a HashMap<PathBuf, Forecast>,
    /// Every queue's name, in file order.
    pub(super) queue_names: &'a [String],
    /// The profile's targets, which a queue may override.
    pub(super) targets: Targets,
    /// Where relative forecast paths are resolved.
    pub(super) base_dir: Option<&'a Path>,
}

/// The queue names, each present and unique; at least one queue.
pub(super) fn queue_names(raw: &[RawQueue]) -> Result<Vec<String>, Issue> {
    let queues_path = FieldPath::root().key("queues");
    if raw.is_empty() {
        return Err(Issue::new(
            &queues_path,
            "is missing; add at least one [[queues]] table with a name, a volume and a handle_time",
        ));
    }
    unique_names(
        raw.iter().map(|q| q.name.as_deref()),
        &queues_path,
        "name = \"orders\"",
    )
}

/// Every queue, in file order.
pub(super) fn queues(raw: &[RawQueue], ctx: &QueueContext<'_>) -> Result<Vec<QueueSpec>, Failure> {
    let queues_path = FieldPath::root().key("queues");
    raw.iter()
        .enumerate()
        .map(|(i, q)| queue(q, i, &queues_path.index(i), ctx))
        .collect()
}

fn queue(
    raw: &RawQueue,
    index: usize,
    path: &FieldPath,
    ctx: &QueueContext<'_>,
) -> Result<QueueSpec, Failure> {
    let name = ctx.queue_names.get(index).cloned().unwrap_or_default();
    let skill = match &raw.skill {
        None => name.clone(),
        Some(s) if s.trim().is_empty() => {
            return Err(Issue::new(
                &path.key("skill"),
                "= \"\" is empty; name a skill, or omit skill to use the queue name",
            )
            .into());
        }
        Some(s) => s.clone(),
    };
    let priority = match raw.priority {
        None => 0,
        Some(p) => i32::try_from(p).map_err(|_| {
            Issue::new(
                &path.key("priority"),
                format!("= {p} is out of range; use a small integer such as 0, 1 or 2"),
            )
        })?,
    };
    let handle_path = path.key("handle_time");
    let Some(raw_handle_time) = &raw.handle_time else {
        return Err(Issue::new(
            &handle_path,
            format!("is missing; add handle_time = {DIST_EXAMPLE}"),
        )
        .into());
    };
    let handle_time = dist(raw_handle_time, &handle_path, false)?;
    let (volume, aht_by_interval) = demand(raw, &name, handle_time.mean_secs, path, ctx)?;
    check_arrival_rate(raw, &volume, path, ctx.horizon)?;
    let volume_cv = match raw.volume_cv {
        None => 0.0,
        Some(cv) if (0.0..=MAX_VOLUME_CV).contains(&cv) => cv,
        Some(cv) => {
            return Err(Issue::new(&path.key("volume_cv"), format!("= {} is not a number from 0 to {MAX_VOLUME_CV}; use 0 for pure Poisson or e.g. 0.1 for 10% forecast error", number_text(cv))).into());
        }
    };
    let optional_dist = |d: &Option<RawDist>, key: &str, allow_zero: bool| {
        d.as_ref()
            .map(|d| dist(d, &path.key(key), allow_zero))
            .transpose()
    };
    Ok(QueueSpec {
        patience: optional_dist(&raw.patience, "patience", false)?,
        accept_delay: optional_dist(&raw.accept_delay, "accept_delay", true)?,
        first_response: optional_dist(&raw.first_response, "first_response", true)?,
        bot: raw
            .bot
            .as_ref()
            .map(|b| bot(b, &path.key("bot")))
            .transpose()?,
        transfer: (raw.transfer.as_ref())
            .map(|t| transfer(t, &name, &path.key("transfer"), ctx.queue_names))
            .transpose()?,
        max_queue: max_queue(raw.max_queue, &path.key("max_queue"))?,
        targets: targets(raw.targets.as_ref(), ctx.targets, &path.key("targets"))?,
        csat: raw
            .csat
            .as_ref()
            .map(|c| csat(c, &path.key("csat")))
            .transpose()?,
        name,
        skill,
        priority,
        volume,
        volume_cv,
        handle_time,
        aht_by_interval,
    })
}

/// Volume and mean handle time per interval, from the volume list or the forecast file.
fn demand(
    raw: &RawQueue,
    name: &str,
    mean_handle_secs: f64,
    path: &FieldPath,
    ctx: &QueueContext<'_>,
) -> Result<(Vec<f64>, Vec<f64>), Failure> {
    let horizon = ctx.horizon;
    match (&raw.volume, &raw.forecast) {
        (Some(v), _) => {
            let volume = volume_list(v, &path.key("volume"), horizon)?;
            let entry = |i: usize| path.key("volume").index(i);
            let listed = matches!(v, Value::Array(_)).then_some(&entry as &dyn Fn(usize) -> _);
            let volume = closed_hours(volume, listed, horizon)?;
            Ok((volume, vec![mean_handle_secs; horizon.intervals]))
        }
        (None, Some(file)) => {
            let resolved = forecast_path(ctx.base_dir, file);
            let forecast = ctx.forecasts.get(&resolved).ok_or_else(|| {
                Issue::new(
                    &path.key("forecast"),
                    format!("= {file:?} could not be loaded"),
                )
            })?;
            let interval_of = |row: &_| horizon.interval_of(row);
            let (volume, aht) = forecast.series(name, interval_of, &horizon.labels)?;
            let row = |_: usize| path.key("forecast");
            let volume = closed_hours(volume, Some(&row), horizon)?;
            let aht = aht
                .into_iter()
                .map(|a| a.unwrap_or(mean_handle_secs))
                .collect();
            Ok((volume, aht))
        }
        (None, None) => Err(Issue::new(
            &path.key("volume"),
            "is missing; add volume = [120, 180, ...] (chats per interval), volume = 150 with intervals = N, or forecast = \"forecast.csv\"",
        )
        .into()),
    }
}

/// Closed intervals have no arrivals: a single-number volume is 0 there; a list or forecast
/// giving chats there is an error at `listed(interval)`, since the hours or the volumes are
/// then wrong.
fn closed_hours(
    mut volume: Vec<f64>,
    listed: Option<&dyn Fn(usize) -> FieldPath>,
    horizon: &Horizon,
) -> Result<Vec<f64>, Issue> {
    for (i, v) in volume.iter_mut().enumerate() {
        if horizon.open.get(i).copied().unwrap_or(true) || *v == 0.0 {
            continue;
        }
        let Some(at) = listed else {
            *v = 0.0;
            continue;
        };
        let label = horizon.labels.get(i).map_or("", String::as_str);
        return Err(Issue::new(
            &at(i),
            format!(
                "gives {} chats in interval {i} at {label}, which [hours] closes; give 0 chats \
                 there, or open that time in [hours]",
                number_text(*v)
            ),
        ));
    }
    Ok(volume)
}

/// No interval's volume beyond [`MAX_ARRIVAL_RATE`] chats per second.
fn check_arrival_rate(
    raw: &RawQueue,
    volume: &[f64],
    path: &FieldPath,
    horizon: &Horizon,
) -> Result<(), Issue> {
    let max_volume = MAX_ARRIVAL_RATE * horizon.interval_secs;
    let Some((i, v)) = volume.iter().enumerate().find(|(_, v)| **v > max_volume) else {
        return Ok(());
    };
    let at = match &raw.volume {
        Some(Value::Array(_)) => path.key("volume").index(i),
        Some(_) => path.key("volume"),
        None => path.key("forecast"),
    };
    let label = horizon.labels.get(i).map_or("", String::as_str);
    Err(Issue::new(
        &at,
        format!(
            "gives {} chats in the interval at {label}, over {MAX_ARRIVAL_RATE} chats per second; volume is chats per interval, check its unit",
            number_text(*v)
        ),
    ))
}

fn bot(raw: &RawBot, path: &FieldPath) -> Result<BotSpec, Issue> {
    let resolve_share = required_share(
        raw.resolve_share,
        &path.key("resolve_share"),
        "is missing; add resolve_share = 0.25 (share of chats the bot resolves)",
    )?;
    let time_path = path.key("time");
    let time = match &raw.time {
        None => {
            return Err(Issue::new(
                &time_path,
                "is missing; add time = { dist = \"exponential\", mean = \"45s\" }",
            ));
        }
        Some(d) => dist(d, &time_path, false)?,
    };
    Ok(BotSpec {
        resolve_share,
        time,
    })
}

fn transfer(
    raw: &RawTransfer,
    name: &str,
    path: &FieldPath,
    queue_names: &[String],
) -> Result<TransferSpec, Issue> {
    let share = required_share(
        raw.share,
        &path.key("share"),
        "is missing; add share = 0.05 (share of handled chats transferred)",
    )?;
    let to_path = path.key("to");
    let others: Vec<&str> = queue_names
        .iter()
        .filter(|n| *n != name)
        .map(String::as_str)
        .collect();
    let to = raw.to.as_deref().ok_or_else(|| {
        Issue::new(
            &to_path,
            format!(
                "is missing; add to = \"<queue>\" naming one of {}",
                list_or_none(&others)
            ),
        )
    })?;
    if to == name {
        return Err(Issue::new(
            &to_path,
            format!(
                "= {to:?} is the queue itself; transfer to another queue: {}",
                list_or_none(&others)
            ),
        ));
    }
    let to = queue_names.iter().position(|n| n == to).ok_or_else(|| {
        Issue::new(
            &to_path,
            format!(
                "= {to:?} is not a queue of this profile; use one of {}",
                list_or_none(&others)
            ),
        )
    })?;
    Ok(TransferSpec { share, to })
}

fn list_or_none(names: &[&str]) -> String {
    if names.is_empty() {
        "(no other queue)".to_string()
    } else {
        names.join(", ")
    }
}

fn max_queue(value: Option<i64>, path: &FieldPath) -> Result<u32, Issue> {
    match value {
        None => Ok(DEFAULT_MAX_QUEUE),
        Some(m) if (1..=i64::from(u32::MAX)).contains(&m) => Ok(m as u32),
        Some(m) => Err(Issue::new(
            path,
            format!(
                "= {m} is out of range; use 1 to {}, or omit max_queue for the default {DEFAULT_MAX_QUEUE}",
                u32::MAX
            ),
        )),
    }
}

fn csat(raw: &RawCsat, path: &FieldPath) -> Result<CsatSpec, Issue> {
    let response_share = required_share(
        raw.response,
        &path.key("response"),
        "is missing; add response = 0.3 (share of customers answering the survey)",
    )?;
    let score_path = path.key("score");
    let score = raw.score.ok_or_else(|| {
        Issue::new(
            &score_path,
            "is missing; add score = 4.6 (score at zero wait, 1 to 5)",
        )
    })?;
    if !(1.0..=5.0).contains(&score) {
        return Err(Issue::new(
            &score_path,
            format!("= {score} is outside 1..5; use the score at zero wait, e.g. 4.6"),
        ));
    }
    let drop_path = path.key("drop_per_minute");
    let drop_per_minute = raw.drop_per_minute.ok_or_else(|| {
        Issue::new(
            &drop_path,
            "is missing; add drop_per_minute = 0.1 (score lost per minute of waiting)",
        )
    })?;
    if !drop_per_minute.is_finite() || drop_per_minute < 0.0 {
        return Err(Issue::new(
            &drop_path,
            format!("= {drop_per_minute} is not a number >= 0; use e.g. 0.1"),
        ));
    }
    let floor = raw.floor.unwrap_or(1.0);
    if !(1.0..=score).contains(&floor) {
        return Err(Issue::new(
            &path.key("floor"),
            format!("= {floor} is outside 1..{score}; use a lowest score between 1 and score"),
        ));
    }
    Ok(CsatSpec {
        response_share,
        score,
        drop_per_minute,
        floor,
    })
}

/// One volume for every interval, or a list with one per interval.
fn volume_list(value: &Value, path: &FieldPath, horizon: &Horizon) -> Result<Vec<f64>, Issue> {
    let chats = |item: &Value, at: &FieldPath| -> Result<f64, Issue> {
        match number(item) {
            Some(v) if v.is_finite() && v >= 0.0 => Ok(v),
            Some(v) if v < 0.0 => Err(Issue::new(
                at,
                format!("= {item} is negative; volume is expected chats per interval, 0 or more"),
            )),
            _ => Err(Issue::new(
                at,
                format!("= {item} is not a number of chats; write e.g. 120"),
            )),
        }
    };
    per_interval(value, path, horizon, "volume", chats)
}
