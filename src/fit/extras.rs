//! The measurements a profile takes as they are, each from its own columns of the log: the bot
//! stage, transfers, the accept and first-response delays, and CSAT against the wait. Each is
//! `None` when the log lacks its columns (the profile then leaves the feature out), and says how
//! many chats are behind it so that thin figures are flagged rather than trusted.

use std::collections::BTreeMap;

use super::families::best_fit;
use super::history::{ChatFacts, History};
use super::report::{BotFit, CsatBand, CsatFit, DistFit, TransferFit};

/// Below this many observations a measurement gets a "thin data" warning.
pub const THIN_OBSERVATIONS: u64 = 30;

/// Upper ends of the CSAT wait bands, seconds; the last band runs to the longest wait.
const CSAT_BANDS_SECS: [f64; 5] = [30.0, 60.0, 120.0, 300.0, 600.0];

/// Every extra measurement of one queue.
#[derive(Debug, Clone, Default)]
pub struct Extras {
    /// Bot share and time.
    pub bot: Option<BotFit>,
    /// Transfer share and target.
    pub transfer: Option<TransferFit>,
    /// Delay from answer to the agent's first message.
    pub first_response: Option<DistFit>,
    /// Delay from offer to acceptance.
    pub accept_delay: Option<DistFit>,
    /// Survey response and score against wait.
    pub csat: Option<CsatFit>,
}

/// Every extra measurement of queue `q`.
pub fn extras(h: &History, q: u16) -> Extras {
    Extras {
        bot: bot(h, q),
        transfer: transfer(h, q),
        first_response: first_response(h, q),
        accept_delay: accept_delay(h, q),
        csat: csat(h, q),
    }
}

impl Extras {
    /// One "thin data" warning per measurement made from fewer than [`THIN_OBSERVATIONS`].
    pub fn warnings(&self, queue: &str) -> Vec<String> {
        let counts = [
            ("bot share", self.bot.as_ref().map(|b| b.chats)),
            ("transfer share", self.transfer.as_ref().map(|t| t.chats)),
            (
                "first-response delay",
                self.first_response.as_ref().map(|d| d.chats),
            ),
            ("accept delay", self.accept_delay.as_ref().map(|d| d.chats)),
            ("CSAT", self.csat.as_ref().map(|c| c.chats)),
        ];
        counts
            .into_iter()
            .filter_map(|(what, n)| n.filter(|&n| n < THIN_OBSERVATIONS).map(|n| (what, n)))
            .map(|(what, n)| {
                format!(
                    "queue {queue}: {what} rests on only {n} chats (fewer than \
                     {THIN_OBSERVATIONS}): thin data, take it as a rough guide"
                )
            })
            .collect()
    }
}

fn chats_of(h: &History, q: u16) -> impl Iterator<Item = &ChatFacts> {
    h.chats.iter().filter(move |c| c.queue == q)
}

/// A duration fit of the positive values (a zero delay carries no shape to fit).
fn fit_positive(values: impl Iterator<Item = f64>) -> Option<DistFit> {
    let positive: Vec<f64> = values.filter(|v| *v > 0.0 && v.is_finite()).collect();
    best_fit(&positive)
}

/// The bot's resolve share over chats with a `bot_resolved` value, and the time in the bot:
/// `closed - created` for resolved chats, `queued - created` for those handed to the queue
/// (when the log has `queued_at`).
pub fn bot(h: &History, q: u16) -> Option<BotFit> {
    if !h.has_column("bot_resolved") {
        return None;
    }
    let with_queued = h.has_column("queued_at");
    let (mut chats, mut resolved) = (0u64, 0u64);
    let mut times = Vec::new();
    for c in chats_of(h, q) {
        let Some(r) = c.bot_resolved else { continue };
        chats += 1;
        if r {
            resolved += 1;
            times.extend(c.closed.map(|closed| closed - c.created));
        } else if with_queued {
            times.push(c.queued - c.created);
        }
    }
    (chats > 0).then(|| BotFit {
        resolve_share: resolved as f64 / chats as f64,
        time: fit_positive(times.into_iter()),
        chats,
    })
}

/// The share of answered chats transferred and where they went; `None` without the column,
/// an answered chat, or a transfer.
pub fn transfer(h: &History, q: u16) -> Option<TransferFit> {
    if !h.has_column("transferred_to") {
        return None;
    }
    let mut answered = 0u64;
    let mut targets: BTreeMap<String, u64> = BTreeMap::new();
    for c in chats_of(h, q).filter(|c| c.answered.is_some()) {
        answered += 1;
        if let Some(leg) = c.transfer {
            *targets
                .entry(h.queues[usize::from(leg.to)].clone())
                .or_insert(0) += 1;
        }
    }
    let transferred: u64 = targets.values().sum();
    if answered == 0 || transferred == 0 {
        return None;
    }
    // The busiest target; the first by name among equals.
    let to = targets
        .iter()
        .fold(None::<(&String, u64)>, |best, (name, &n)| match best {
            Some((_, m)) if m >= n => best,
            _ => Some((name, n)),
        })
        .map(|(name, _)| name.clone())
        .unwrap_or_default();
    Some(TransferFit {
        share: transferred as f64 / answered as f64,
        to,
        chats: answered,
        targets,
    })
}

/// The delay from answer to the agent's first message (`first_response_at - answered_at`).
pub fn first_response(h: &History, q: u16) -> Option<DistFit> {
    if !h.has_column("first_response_at") {
        return None;
    }
    fit_positive(chats_of(h, q).filter_map(|c| Some(c.first_response? - c.answered?)))
}

/// The delay from offer to acceptance (`answered_at - offered_at`).
pub fn accept_delay(h: &History, q: u16) -> Option<DistFit> {
    if !h.has_column("offered_at") {
        return None;
    }
    fit_positive(chats_of(h, q).filter_map(|c| Some(c.answered? - c.offered?)))
}

/// Survey response over closed answered chats, and the score against the wait in the queue:
/// a least-squares line `score = a - b * wait_minutes` through the scores above the lowest
/// one (scores at the floor are clipped, so they would flatten the line), with that lowest
/// score as the floor.
pub fn csat(h: &History, q: u16) -> Option<CsatFit> {
    if !h.has_column("csat") {
        return None;
    }
    let mut eligible = 0u64;
    let mut points: Vec<(f64, f64)> = Vec::new();
    for c in chats_of(h, q) {
        let (Some(answered), Some(_)) = (c.answered, c.closed) else {
            continue;
        };
        eligible += 1;
        if let Some(score) = c.csat {
            points.push(((answered - c.queued).max(0.0), f64::from(score)));
        }
    }
    if points.is_empty() {
        return None;
    }
    let floor = points.iter().map(|p| p.1).fold(f64::INFINITY, f64::min);
    let above: Vec<(f64, f64)> = points.iter().copied().filter(|p| p.1 > floor).collect();
    let line_points = if distinct_waits(&above) {
        &above
    } else {
        &points
    };
    let (score, drop_per_minute) = least_squares(line_points);
    Some(CsatFit {
        response: points.len() as f64 / eligible as f64,
        score,
        drop_per_minute,
        floor,
        chats: points.len() as u64,
        by_wait: bands(&points),
    })
}

fn distinct_waits(points: &[(f64, f64)]) -> bool {
    points.len() >= 2 && points.iter().any(|p| p.0 != points[0].0)
}

/// Intercept and drop per minute of `score = a - b * wait_minutes` (b = 0 when every wait is
/// the same).
fn least_squares(points: &[(f64, f64)]) -> (f64, f64) {
    let n = points.len() as f64;
    let mean_x = points.iter().map(|p| p.0 / 60.0).sum::<f64>() / n;
    let mean_y = points.iter().map(|p| p.1).sum::<f64>() / n;
    let (mut sxy, mut sxx) = (0.0, 0.0);
    for &(wait, score) in points {
        let dx = wait / 60.0 - mean_x;
        sxy += dx * (score - mean_y);
        sxx += dx * dx;
    }
    let slope = if sxx > 0.0 { sxy / sxx } else { 0.0 };
    (mean_y - slope * mean_x, -slope)
}

/// Mean score per wait band, empty bands left out.
fn bands(points: &[(f64, f64)]) -> Vec<CsatBand> {
    let longest = points.iter().map(|p| p.0).fold(0.0, f64::max);
    let mut edges = vec![0.0];
    edges.extend(CSAT_BANDS_SECS.iter().copied().filter(|&e| e < longest));
    edges.push(longest.max(CSAT_BANDS_SECS[0]));
    let mut out = Vec::new();
    for (k, pair) in edges.windows(2).enumerate() {
        let last = k == edges.len() - 2;
        let inside = |w: f64| w >= pair[0] && (w < pair[1] || (last && w <= pair[1]));
        let (sum, n) = points
            .iter()
            .filter(|p| inside(p.0))
            .fold((0.0, 0u64), |(s, n), p| (s + p.1, n + 1));
        if n > 0 {
            out.push(CsatBand {
                wait_from_secs: pair[0],
                wait_to_secs: pair[1],
                score: sum / n as f64,
                chats: n,
            });
        }
    }
    out
}
