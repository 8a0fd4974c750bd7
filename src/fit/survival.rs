//! Patience measured with censoring. A customer's patience is only seen when they give up: a
//! chat answered after waiting w says the patience exceeded w. Abandons are events and answered
//! chats are right-censored at their wait, so the fit is the censored maximum likelihood of
//! `families.rs` (the naive mean of abandon times would be biased low: the patient customers
//! are the ones answered). The Kaplan-Meier curve goes beside it, free of any family.

use super::families::best_fit_censored;
use super::history::History;
use super::report::PatienceFit;

/// The Kaplan-Meier estimate of the survival function: at each distinct event time, the share
/// still waiting, `(secs, survival)`. Censored durations tied with an event count as still at
/// risk at that time. Non-finite times are left out.
pub fn kaplan_meier(times: &[f64], observed: &[bool]) -> Vec<(f64, f64)> {
    let mut order: Vec<(f64, bool)> = times
        .iter()
        .zip(observed)
        .filter(|(t, _)| t.is_finite())
        .map(|(t, o)| (*t, *o))
        .collect();
    // Events before censored at the same time.
    order.sort_by(|x, y| x.0.total_cmp(&y.0).then(y.1.cmp(&x.1)));
    let mut at_risk = order.len() as f64;
    let mut survival = 1.0;
    let mut curve = Vec::new();
    let mut i = 0;
    while i < order.len() {
        let t = order[i].0;
        let (mut events, mut leaving) = (0.0, 0.0);
        while i < order.len() && order[i].0 == t {
            events += if order[i].1 { 1.0 } else { 0.0 };
            leaving += 1.0;
            i += 1;
        }
        if events > 0.0 {
            survival *= 1.0 - events / at_risk;
            curve.push((t, survival));
        }
        at_risk -= leaving;
    }
    curve
}

/// The waits of queue `q`'s customers: from entering the agents' queue (after the bot) to the
/// abandon (event), the answer (censored), or the end of the history for those still waiting
/// (censored). Bot-resolved chats never waited, and chats closed without an answer in a log
/// that does not say whether the bot resolved them are left out too; a transferred chat's
/// second wait is not patience (the customer was already served once).
pub fn waits(h: &History, q: u16) -> (Vec<f64>, Vec<bool>) {
    let history_end = h
        .chats
        .iter()
        .flat_map(|c| [Some(c.created), c.answered, c.closed, c.abandoned])
        .flatten()
        .fold(f64::NEG_INFINITY, f64::max);
    let mut times = Vec::new();
    let mut observed = Vec::new();
    for c in h.chats.iter().filter(|c| c.queue == q) {
        if c.bot_resolved == Some(true) {
            continue;
        }
        let (end, event) = match (c.answered, c.abandoned, c.closed) {
            (Some(answered), _, _) => (answered, false),
            (None, Some(abandoned), _) => (abandoned, true),
            (None, None, Some(_)) => continue,
            (None, None, None) => (history_end, false),
        };
        let wait = end - c.queued;
        if wait.is_finite() && wait >= 0.0 {
            times.push(wait);
            observed.push(event);
        }
    }
    (times, observed)
}

/// Patience of queue `q`: the best family by AIC on the censored waits, with the interval of
/// its mean, the censored share and the Kaplan-Meier curve. `None` when the queue has fewer
/// than 30 abandons (too few to say anything about patience).
pub fn patience(h: &History, q: u16) -> Option<PatienceFit> {
    let (times, observed) = waits(h, q);
    let fit = best_fit_censored(&times, &observed)?;
    let abandons = observed.iter().filter(|o| **o).count() as u64;
    let chats = times.len() as u64;
    Some(PatienceFit {
        dist: fit.dist,
        mean_secs: fit.mean_secs,
        cv: fit.cv,
        mean_ci_low: fit.mean_ci_low,
        mean_ci_high: fit.mean_ci_high,
        censored_share: (chats - abandons) as f64 / chats as f64,
        chats,
        abandons,
        candidates: fit.candidates,
        kaplan_meier: kaplan_meier(&times, &observed),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The textbook example: events at 1, 3, 3 and censored at 2, 4 among 6 (one event at 5).
    #[test]
    fn kaplan_meier_matches_a_hand_computation() {
        let times = [1.0, 2.0, 3.0, 3.0, 4.0, 5.0];
        let observed = [true, false, true, true, false, true];
        let curve = kaplan_meier(&times, &observed);
        let expected = [(1.0, 5.0 / 6.0), (3.0, 5.0 / 6.0 * 2.0 / 4.0), (5.0, 0.0)];
        assert_eq!(curve.len(), expected.len());
        for ((t, s), (et, es)) in curve.iter().zip(expected) {
            assert_eq!(*t, et);
            assert!((s - es).abs() < 1e-12, "{t}: {s} vs {es}");
        }
    }
}
