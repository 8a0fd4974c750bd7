//! KPI definitions shared by the simulator, the server and the load test (DESIGN.md §4).
//!
//! Drivers count raw events into [`QueueTally`] (per queue and interval) and [`AgentTally`]
//! (per agent group and interval); [`QueueKpis::from_tallies`] and [`AgentKpis::from_tallies`]
//! turn one replication's tallies into figures; [`Estimate::from_samples`] turns per-replication
//! figures into a mean with a 95% Student-t confidence interval; [`Targets`] are the service
//! goals, judged everywhere through [`Goal::met_by`].

mod estimate;
pub mod hdr_text;
mod tally;
mod targets;

pub(crate) use estimate::finite_or_null;
pub use estimate::{Domain, Estimate, student_t_975};
pub use tally::{AgentTally, QueueTally, WaitHistogram};
pub use targets::{Figure, Goal, TARGET_TOLERANCE, Targets};

use serde::Serialize;

/// Figures of one queue (or all queues) for one replication, DESIGN.md §4.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct QueueKpis {
    /// Chats that arrived (before the bot).
    pub arrivals: f64,
    /// Chats that entered the queue (after the bot; rejections included).
    pub offered: f64,
    /// Chats answered by an agent.
    pub answered: f64,
    /// Chats abandoned after the short-abandon time.
    pub abandoned: f64,
    /// Chats refused by a full queue.
    pub rejected: f64,
    /// Answered within threshold / (answered + abandoned after short_abandon + stranded).
    pub service_level: f64,
    /// Answered within threshold / answered.
    pub service_level_answered: f64,
    /// Mean wait of answered chats, seconds.
    pub asa_secs: f64,
    /// Mean wait of all chats that left the queue (answered and abandoned), seconds.
    pub mean_wait_secs: f64,
    /// Abandoned after short_abandon / offered to the queue.
    pub abandon_rate: f64,
    /// Share of chats leaving the queue that waited at all.
    pub prob_wait: f64,
    /// Mean queued-to-first-agent-message time of answered chats, seconds.
    pub frt_secs: f64,
    /// Mean handling leg (answered to closed, or to transferred away), concurrent handling
    /// included, seconds.
    pub aht_secs: f64,
    /// Mean arrival-to-final-close time (bot and transfers included), seconds.
    pub art_secs: f64,
    /// Share of answered chats closed without a transfer.
    pub fcr: f64,
    /// Share of arrivals resolved by the bot.
    pub bot_resolved: f64,
    /// Share of answered chats transferred to another queue.
    pub transfer_rate: f64,
    /// Mean survey score where the profile models CSAT (NaN otherwise).
    pub csat: f64,
    /// Mean absolute error of the estimated wait shown at enqueue against the actual wait, seconds.
    pub ewt_mae_secs: f64,
}

/// `num / den`, NaN when there is nothing to divide by.
pub(crate) fn ratio(num: f64, den: f64) -> f64 {
    if den > 0.0 { num / den } else { f64::NAN }
}

impl QueueKpis {
    /// Figures from one replication's tally.
    pub fn from_tally(t: &QueueTally) -> QueueKpis {
        let answered = t.answered as f64;
        let abandoned = t.abandoned as f64;
        let left = answered + abandoned + t.short_abandoned as f64;
        QueueKpis {
            arrivals: t.arrivals as f64,
            offered: t.offered as f64,
            answered,
            abandoned,
            rejected: t.rejected as f64,
            // A chat never answered because nobody was left to serve it missed the target too.
            service_level: ratio(
                t.answered_within as f64,
                answered + abandoned + t.stranded as f64,
            ),
            service_level_answered: ratio(t.answered_within as f64, answered),
            asa_secs: ratio(t.wait_sum_answered, answered),
            mean_wait_secs: ratio(t.wait_sum_answered + t.wait_sum_abandoned, left),
            abandon_rate: ratio(abandoned, t.offered as f64),
            prob_wait: ratio(t.waited as f64, left),
            frt_secs: ratio(t.frt_sum, t.frt_count as f64),
            aht_secs: ratio(t.handle_sum, t.handled as f64),
            art_secs: ratio(t.art_sum, t.art_count as f64),
            fcr: ratio(t.closed_without_transfer as f64, answered),
            bot_resolved: ratio(t.bot_resolved as f64, t.arrivals as f64),
            transfer_rate: ratio(t.transferred as f64, answered),
            csat: ratio(t.csat_sum, t.csat_count as f64),
            ewt_mae_secs: ratio(t.ewt_abs_error_sum, t.ewt_count as f64),
        }
    }
}

/// Agent-side figures of one agent group (or all groups) for one replication.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct AgentKpis {
    /// Mean agents on duty.
    pub staffed_agents: f64,
    /// Busy slot time / staffed slot time (slots = agents x cap).
    pub occupancy: f64,
    /// Time with at least one chat / staffed time.
    pub utilization: f64,
    /// Mean active chats per staffed agent.
    pub mean_concurrency: f64,
}

impl AgentKpis {
    /// Figures from one replication's tally over `span_secs` of planned time.
    pub fn from_tally(t: &AgentTally, span_secs: f64) -> AgentKpis {
        AgentKpis {
            staffed_agents: ratio(t.staffed_secs, span_secs),
            occupancy: ratio(t.busy_slot_secs, t.staffed_slot_secs),
            utilization: ratio(t.with_chat_secs, t.staffed_secs),
            mean_concurrency: ratio(t.busy_slot_secs, t.staffed_secs),
        }
    }
}
