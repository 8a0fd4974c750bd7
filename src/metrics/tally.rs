//! The KPI ledger: counters a driver updates as chats move, one per queue and interval (and per
//! agent group and interval). Adding tallies merges them, so any grouping (whole day, all
//! queues) is a sum.
//!
//! A [`QueueTally`]'s counters are written only by its `record_*` methods, one per event of a
//! chat's life (arrival, bot, queue entry, answer, abandon, first response, handling leg,
//! transfer, close). The simulator, the server and the load test call the same methods, so a
//! figure means the same thing whichever of them measured it.

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

use crate::model::saturating_u64;

/// Waits and response times in milliseconds, 2 significant figures (1% buckets).
///
/// Cheap to create and to clone, since a planner copies engines with a tally per queue and
/// interval: the counts are allocated on the first non-zero value, and grow to the largest
/// value recorded. Buckets depend only on the lowest value (1 ms) and the precision, so this
/// holds exactly the counts of a histogram sized for 30 days up front (26 KiB).
///
/// Most chats in a well-staffed queue never wait, so waits that round to 0 ms are counted
/// beside the histogram (a single increment). Every query answers exactly as a histogram
/// holding all values would: zeros only ever fill the lowest bucket.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(into = "WaitHistogramText", try_from = "WaitHistogramText")]
pub struct WaitHistogram {
    hist: Option<Box<Histogram<u64>>>,
    /// Values of 0 ms, not in `hist`.
    zeros: u64,
}

/// Longest duration kept exactly: 30 days in milliseconds; longer ones are clamped.
const MAX_MS: u64 = 30 * 24 * 3600 * 1000;

fn new_histogram() -> Box<Histogram<u64>> {
    // Starts at 2 KiB and grows a few times at most (values are clamped to 30 days).
    Box::new(Histogram::new(2).expect("valid histogram precision"))
}

impl WaitHistogram {
    /// Records a duration given in seconds (clamped to 0..30 days).
    #[inline]
    pub fn record_secs(&mut self, secs: f64) {
        let ms = saturating_u64(secs * 1000.0 + 0.5).min(MAX_MS);
        if ms == 0 {
            self.zeros += 1;
        } else {
            let _ = self.hist.get_or_insert_with(new_histogram).record(ms);
        }
    }

    /// The `q` quantile (0..1) in seconds, NaN when empty.
    pub fn quantile_secs(&self, q: f64) -> f64 {
        let hist = match &self.hist {
            Some(hist) if !hist.is_empty() => hist,
            _ if self.zeros > 0 => return 0.0,
            _ => return f64::NAN,
        };
        if self.zeros == 0 {
            return hist.value_at_quantile(q) as f64 / 1000.0;
        }
        // The rank HdrHistogram's `value_at_quantile` looks for, over all values.
        let q = if q > 1.0 { 1.0 } else { q };
        let rank = ((q * self.len() as f64).ceil() as u64).max(1);
        if rank <= self.zeros {
            // The lowest bucket holds exactly 0.
            return 0.0;
        }
        // Past the zeros, the walk goes on in `hist` with the rank lowered by them; asking
        // `hist` for the quantile `(rest - 0.5) / len` makes its own rank `ceil(..)` exactly
        // `rest` (the rounding error is far below the half step).
        let rest = rank - self.zeros;
        let q_rest = (rest as f64 - 0.5) / hist.len() as f64;
        hist.value_at_quantile(q_rest) as f64 / 1000.0
    }

    /// Number of recorded values.
    pub fn len(&self) -> u64 {
        self.hist.as_ref().map_or(0, |h| h.len()) + self.zeros
    }

    /// True when nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Adds another histogram's counts.
    pub fn merge(&mut self, other: &WaitHistogram) {
        if let Some(o) = other.hist.as_deref().filter(|o| !o.is_empty()) {
            let _ = self.hist.get_or_insert_with(new_histogram).add(o);
        }
        self.zeros += other.zeros;
    }
}

/// A [`WaitHistogram`] as stored: the zeros, and the histogram in HdrHistogram's text form.
#[derive(Serialize, Deserialize)]
struct WaitHistogramText {
    zeros: u64,
    hist: Option<String>,
}

impl From<WaitHistogram> for WaitHistogramText {
    fn from(w: WaitHistogram) -> Self {
        WaitHistogramText {
            zeros: w.zeros,
            hist: w.hist.as_deref().map(super::hdr_text::encode),
        }
    }
}

impl TryFrom<WaitHistogramText> for WaitHistogram {
    type Error = String;

    fn try_from(t: WaitHistogramText) -> Result<Self, String> {
        let hist = t
            .hist
            .map(|text| super::hdr_text::decode(&text))
            .transpose()?;
        Ok(WaitHistogram {
            hist: hist.map(Box::new),
            zeros: t.zeros,
        })
    }
}

/// Counters of one queue over one interval (chats attributed to the interval they arrived in).
/// They serialize field by field, so that a load test's shard can hand them to the merge.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct QueueTally {
    /// Chats that arrived, before the bot.
    pub(super) arrivals: u64,
    /// Chats resolved by the bot.
    pub(super) bot_resolved: u64,
    /// Chats that entered the queue (rejections included).
    pub(super) offered: u64,
    /// Chats refused by a full queue.
    pub(super) rejected: u64,
    /// Chats still waiting when the run ended with no agent left to serve them.
    pub(super) stranded: u64,
    /// Chats answered.
    pub(super) answered: u64,
    /// Chats answered within the threshold.
    pub(super) answered_within: u64,
    /// Chats abandoned after the short-abandon time.
    pub(super) abandoned: u64,
    /// Chats abandoned within the short-abandon time.
    pub(super) short_abandoned: u64,
    /// Chats that left the queue (answered or abandoned) after a wait above zero.
    pub(super) waited: u64,
    /// Sum of waits of answered chats, seconds.
    pub(super) wait_sum_answered: f64,
    /// Sum of waits of abandoned chats (short ones included), seconds.
    pub(super) wait_sum_abandoned: f64,
    /// Sum of handling legs (answered to closed or to transferred away), seconds.
    pub(super) handle_sum: f64,
    /// Handling legs ended (closes and transfers).
    pub(super) handled: u64,
    /// Sum of queued-to-first-response times, seconds.
    pub(super) frt_sum: f64,
    /// Chats with a first response.
    pub(super) frt_count: u64,
    /// Sum of arrival-to-final-close times, seconds.
    pub(super) art_sum: f64,
    /// Chats finally closed (by agent or bot).
    pub(super) art_count: u64,
    /// Answered chats transferred away.
    pub(super) transferred: u64,
    /// Answered chats closed without any transfer.
    pub(super) closed_without_transfer: u64,
    /// Sum of survey scores.
    pub(super) csat_sum: f64,
    /// Surveys answered.
    pub(super) csat_count: u64,
    /// Sum of |shown estimated wait - actual wait| of answered chats, seconds.
    pub(super) ewt_abs_error_sum: f64,
    /// Answered chats with a shown estimated wait.
    pub(super) ewt_count: u64,
    /// Waits of answered chats.
    pub(super) wait_hist: WaitHistogram,
    /// First-response times.
    pub(super) frt_hist: WaitHistogram,
}

impl QueueTally {
    /// Adds another tally's counts.
    pub fn merge(&mut self, o: &QueueTally) {
        self.arrivals += o.arrivals;
        self.bot_resolved += o.bot_resolved;
        self.offered += o.offered;
        self.rejected += o.rejected;
        self.stranded += o.stranded;
        self.answered += o.answered;
        self.answered_within += o.answered_within;
        self.abandoned += o.abandoned;
        self.short_abandoned += o.short_abandoned;
        self.waited += o.waited;
        self.wait_sum_answered += o.wait_sum_answered;
        self.wait_sum_abandoned += o.wait_sum_abandoned;
        self.handle_sum += o.handle_sum;
        self.handled += o.handled;
        self.frt_sum += o.frt_sum;
        self.frt_count += o.frt_count;
        self.art_sum += o.art_sum;
        self.art_count += o.art_count;
        self.transferred += o.transferred;
        self.closed_without_transfer += o.closed_without_transfer;
        self.csat_sum += o.csat_sum;
        self.csat_count += o.csat_count;
        self.ewt_abs_error_sum += o.ewt_abs_error_sum;
        self.ewt_count += o.ewt_count;
        self.wait_hist.merge(&o.wait_hist);
        self.frt_hist.merge(&o.frt_hist);
    }

    /// Records an answered chat with its wait (seconds) against `threshold_secs`.
    #[inline]
    pub fn record_answer(&mut self, wait: f64, threshold_secs: f64) {
        self.answered += 1;
        self.answered_within += u64::from(wait <= threshold_secs);
        self.waited += u64::from(wait > 0.0);
        self.wait_sum_answered += wait;
        self.wait_hist.record_secs(wait);
    }

    /// Records a chat answered with no wait: [`Self::record_answer`] of 0 s, which is within
    /// any threshold.
    #[inline]
    pub fn record_immediate_answer(&mut self) {
        self.answered += 1;
        self.answered_within += 1;
        self.wait_hist.zeros += 1;
    }

    /// Records one leg of handling: an agent's answer to the close, or to the transfer that
    /// moved the chat on (seconds). A transferred chat has a leg per agent, and `aht_secs` is
    /// the mean leg, so the simulator, the server and the load test count handle time alike.
    #[inline]
    pub fn record_handling(&mut self, secs: f64) {
        self.handle_sum += secs;
        self.handled += 1;
    }

    /// Records an abandon with its wait (seconds).
    #[inline]
    pub fn record_abandon(&mut self, wait: f64, short_abandon_secs: f64) {
        if wait > short_abandon_secs {
            self.abandoned += 1;
        } else {
            self.short_abandoned += 1;
        }
        self.waited += u64::from(wait > 0.0);
        self.wait_sum_abandoned += wait;
    }

    /// Records a chat's arrival, before any bot.
    #[inline]
    pub fn record_arrival(&mut self) {
        self.arrivals += 1;
    }

    /// Records a chat the bot resolved, `art_secs` after it arrived.
    #[inline]
    pub fn record_bot_resolution(&mut self, art_secs: f64) {
        self.bot_resolved += 1;
        self.art_sum += art_secs;
        self.art_count += 1;
    }

    /// Records a chat entering its queue (a later rejection included).
    #[inline]
    pub fn record_queue_entry(&mut self) {
        self.offered += 1;
    }

    /// Records a chat refused by a full queue (or a full server).
    #[inline]
    pub fn record_rejection(&mut self) {
        self.rejected += 1;
    }

    /// Records a chat still waiting when the run ended with no agent left to serve it.
    #[inline]
    pub fn record_stranded(&mut self) {
        self.stranded += 1;
    }

    /// Records how far the estimated wait shown to a customer was from the wait they had
    /// (seconds).
    #[inline]
    pub fn record_shown_wait(&mut self, shown_secs: f64, wait_secs: f64) {
        self.ewt_abs_error_sum += (shown_secs - wait_secs).abs();
        self.ewt_count += 1;
    }

    /// Records a chat's first agent message, `frt_secs` after it was queued.
    #[inline]
    pub fn record_first_response(&mut self, frt_secs: f64) {
        self.frt_sum += frt_secs;
        self.frt_count += 1;
        self.frt_hist.record_secs(frt_secs);
    }

    /// Takes the first-response figures from the answers: for a queue whose agents answer
    /// with a message, the first response comes at the answer.
    pub fn record_first_responses_at_answers(&mut self) {
        self.frt_sum = self.wait_sum_answered;
        self.frt_count = self.answered;
        self.frt_hist = self.wait_hist.clone();
    }

    /// Records an answered chat transferred away (once per chat, however many transfers).
    #[inline]
    pub fn record_transfer(&mut self) {
        self.transferred += 1;
    }

    /// Records a chat's final close by an agent, `art_secs` after it arrived, with the survey
    /// score its customer gave, if any.
    #[inline]
    pub fn record_close(&mut self, art_secs: f64, transferred: bool, csat: Option<f64>) {
        self.art_sum += art_secs;
        self.art_count += 1;
        self.closed_without_transfer += u64::from(!transferred);
        if let Some(score) = csat {
            self.csat_sum += score;
            self.csat_count += 1;
        }
    }

    /// Chats that arrived, before the bot.
    pub fn arrivals(&self) -> u64 {
        self.arrivals
    }

    /// Chats resolved by the bot.
    pub fn bot_resolved(&self) -> u64 {
        self.bot_resolved
    }

    /// Chats that entered the queue (rejections included).
    pub fn offered(&self) -> u64 {
        self.offered
    }

    /// Chats refused by a full queue.
    pub fn rejected(&self) -> u64 {
        self.rejected
    }

    /// Chats still waiting when the run ended with no agent left to serve them.
    pub fn stranded(&self) -> u64 {
        self.stranded
    }

    /// Chats answered.
    pub fn answered(&self) -> u64 {
        self.answered
    }

    /// Chats answered within the threshold.
    pub fn answered_within(&self) -> u64 {
        self.answered_within
    }

    /// Chats abandoned after the short-abandon time.
    pub fn abandoned(&self) -> u64 {
        self.abandoned
    }

    /// Chats abandoned within the short-abandon time.
    pub fn short_abandoned(&self) -> u64 {
        self.short_abandoned
    }

    /// Sum of waits of answered chats, seconds.
    pub fn wait_sum_answered(&self) -> f64 {
        self.wait_sum_answered
    }

    /// Waits of answered chats.
    pub fn wait_hist(&self) -> &WaitHistogram {
        &self.wait_hist
    }

    /// First-response times.
    pub fn frt_hist(&self) -> &WaitHistogram {
        &self.frt_hist
    }
}

/// Time integrals of one agent group over one interval, in seconds.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct AgentTally {
    /// Agent-seconds on duty.
    pub(super) staffed_secs: f64,
    /// Slot-seconds on duty (agent-seconds x cap).
    pub(super) staffed_slot_secs: f64,
    /// Chat-seconds handled by agents on duty.
    pub(super) busy_slot_secs: f64,
    /// Agent-seconds on duty with at least one chat.
    pub(super) with_chat_secs: f64,
}

impl AgentTally {
    /// A span of the group's levels: `staffed_secs` agent-seconds on duty with `cap` slots
    /// each, `busy_slot_secs` chat-seconds handled, `with_chat_secs` agent-seconds holding at
    /// least one chat.
    pub fn record_levels(
        &mut self,
        staffed_secs: f64,
        cap: u32,
        busy_slot_secs: f64,
        with_chat_secs: f64,
    ) {
        self.staffed_secs += staffed_secs;
        self.staffed_slot_secs += staffed_secs * f64::from(cap);
        self.busy_slot_secs += busy_slot_secs;
        self.with_chat_secs += with_chat_secs;
    }

    /// Slot-seconds on duty (agent-seconds x cap).
    pub fn staffed_slot_secs(&self) -> f64 {
        self.staffed_slot_secs
    }

    /// Chat-seconds handled by agents on duty.
    pub fn busy_slot_secs(&self) -> f64 {
        self.busy_slot_secs
    }

    /// Adds another tally.
    pub fn merge(&mut self, o: &AgentTally) {
        self.staffed_secs += o.staffed_secs;
        self.staffed_slot_secs += o.staffed_slot_secs;
        self.busy_slot_secs += o.busy_slot_secs;
        self.with_chat_secs += o.with_chat_secs;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::QueueKpis;

    #[test]
    fn service_level_definitions() {
        let mut t = QueueTally {
            offered: 10,
            arrivals: 10,
            ..QueueTally::default()
        };
        for wait in [0.0, 5.0, 10.0, 25.0, 40.0, 50.0, 60.0, 0.0] {
            t.record_answer(wait, 30.0);
        }
        t.record_abandon(2.0, 5.0); // short: excluded
        t.record_abandon(45.0, 5.0);
        let k = QueueKpis::from_tally(&t);
        assert_eq!(k.service_level, 5.0 / 9.0);
        assert_eq!(k.service_level_answered, 5.0 / 8.0);
        assert_eq!(k.abandon_rate, 0.1);
        assert_eq!(k.asa_secs, 190.0 / 8.0);
        assert_eq!(k.mean_wait_secs, 237.0 / 10.0);
        assert_eq!(k.prob_wait, 8.0 / 10.0);
        // Median of {0, 0, 5, 10, 25, 40, 50, 60}: the 4th value, within the 1% bucket width.
        let median = t.wait_hist.quantile_secs(0.5);
        assert!((median - 10.0).abs() <= 0.1, "{median}");
    }

    #[test]
    fn immediate_answer_is_an_answer_after_no_wait() {
        let (mut a, mut b) = (QueueTally::default(), QueueTally::default());
        for wait in [0.0, 3.5, 0.0] {
            a.record_answer(wait, 20.0);
            if wait == 0.0 {
                b.record_immediate_answer();
            } else {
                b.record_answer(wait, 20.0);
            }
        }
        assert_eq!(format!("{a:?}"), format!("{b:?}"));
        assert_eq!((b.answered, b.answered_within, b.waited), (3, 3, 1));
    }

    /// The zero count beside the histogram and the growing histogram answer every quantile
    /// exactly as one histogram sized for 30 days up front that holds every value.
    #[test]
    fn wait_histogram_matches_a_plain_histogram() {
        let mut state = 7u64;
        let mut draw = move || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 11) as f64 / (1u64 << 53) as f64
        };
        let quantiles = [0.0, 1e-9, 0.1, 0.25, 0.5, 0.6, 0.9, 0.99, 0.999, 1.0, 1.5];
        for zero_share in [0.0, 0.3, 0.7, 0.999, 1.0] {
            let mut parts: Vec<(WaitHistogram, Histogram<u64>)> = Vec::new();
            for part in 0..3 {
                let mut ours = WaitHistogram::default();
                let mut plain = Histogram::<u64>::new_with_bounds(1, MAX_MS, 2).unwrap();
                for _ in 0..(20_000 * part + 1) {
                    let secs = if draw() < zero_share {
                        draw() * 0.0004 // rounds to 0 ms
                    } else {
                        // 1 ms to beyond 30 days, log-spread.
                        10f64.powf(draw() * 9.5 - 3.0)
                    };
                    ours.record_secs(secs);
                    let ms = ((secs * 1000.0 + 0.5) as u64).min(MAX_MS);
                    plain.record(ms).unwrap();
                }
                parts.push((ours, plain));
            }
            let mut ours = WaitHistogram::default();
            let mut plain = Histogram::<u64>::new_with_bounds(1, MAX_MS, 2).unwrap();
            for (o, p) in &parts {
                ours.merge(o);
                plain.add(p).unwrap();
                assert_eq!(ours.len(), plain.len());
                for q in quantiles {
                    let expected = plain.value_at_quantile(q) as f64 / 1000.0;
                    assert_eq!(ours.quantile_secs(q), expected, "share {zero_share} q {q}");
                }
            }
        }
        assert!(WaitHistogram::default().quantile_secs(0.5).is_nan());
    }
}
