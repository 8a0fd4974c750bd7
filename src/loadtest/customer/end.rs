//! How a chat's end is recorded: its final view (the backend's timestamps when the target
//! reads them, else what the customer saw) tallied in the KPI ledger.

use std::sync::atomic::Ordering;
use std::time::Instant;

use serde_json::Value;

use super::InChat;
use crate::api::ChatState;
use crate::loadtest::run_state::{RunState, record_secs};
use crate::loadtest::target::{Pointer, View, read};

/// A chat's end as the summary records it: its state and times (wall seconds, on one clock).
#[derive(Debug, Clone)]
pub(super) struct FinalView {
    pub(super) state: ChatState,
    pub(super) created_at: f64,
    /// Each agent's answer and, once over, its end.
    pub(super) legs: Vec<(f64, Option<f64>)>,
    pub(super) first_response_at: Option<f64>,
    pub(super) closed_at: Option<f64>,
    pub(super) transfers: u32,
    pub(super) csat: Option<f64>,
}

/// The final view from an answer: the backend's times when the target maps `created_at`,
/// else the customer's own observations.
pub(super) fn read_view(run: &RunState, c: &InChat, v: &View, body: &Value) -> Option<FinalView> {
    let state = run.target.state(&read::text(body, &v.state)?)?;
    let Some(created_pointer) = &v.created_at else {
        let mut view = view_of(run, c, state);
        view.transfers = v
            .transfers
            .as_ref()
            .and_then(|p| read::count(body, p))
            .unwrap_or(0) as u32;
        view.csat = v.csat.as_ref().and_then(|p| read::number(body, p));
        return Some(view);
    };
    let time = |p: &Option<Pointer>| p.as_ref().and_then(|p| read::time(body, p, v.time));
    let legs = match &v.legs {
        Some((items, answered, ended)) => read::items(body, items)
            .iter()
            .filter_map(|leg| {
                let at = read::time(leg, answered, v.time)?;
                let end = ended.as_ref().and_then(|p| read::time(leg, p, v.time));
                Some((at, end))
            })
            .collect(),
        None => Vec::new(),
    };
    Some(FinalView {
        state: adjusted(run, c, state),
        created_at: read::time(body, created_pointer, v.time)?,
        legs,
        first_response_at: time(&v.first_response_at),
        closed_at: time(&v.closed_at),
        transfers: v
            .transfers
            .as_ref()
            .and_then(|p| read::count(body, p))
            .unwrap_or(0) as u32,
        csat: v.csat.as_ref().and_then(|p| read::number(body, p)),
    })
}

/// A backend that does not tell abandoned chats from closed ones: a chat its customer left
/// before seeing an agent is abandoned.
fn adjusted(run: &RunState, c: &InChat, state: ChatState) -> ChatState {
    if state == ChatState::Closed && c.left && !c.seen_active() && !run.target.tells_abandoned() {
        ChatState::Abandoned
    } else {
        state
    }
}

/// The final view from the customer's own observations, on the run's clock.
pub(super) fn view_of(run: &RunState, c: &InChat, state: ChatState) -> FinalView {
    let t0 = run.t0().unwrap_or(c.posted);
    let secs = |at: Instant| at.saturating_duration_since(t0).as_secs_f64();
    let end = secs(Instant::now());
    FinalView {
        state: adjusted(run, c, state),
        created_at: secs(c.posted),
        legs: c
            .answered_seen
            .map(|a| (secs(a), Some(end)))
            .into_iter()
            .collect(),
        first_response_at: c.heard_agent.map(secs),
        closed_at: Some(end),
        transfers: 0,
        csat: None,
    }
}

/// Tallies an ended chat from its final view (wall seconds, turned into profile seconds) in
/// the KPI ledger. Returns the wall time to the first answer, if it was answered.
pub(super) fn finish(run: &RunState, c: &InChat, v: &FinalView) -> Option<f64> {
    let k = run.scale;
    let model = run.queue(c.queue);
    let transferred = v.transfers > 0;
    let mut tta = None;
    {
        let mut guard = run.rec();
        let rec = &mut *guard;
        rec.live.remove(&c.id);
        match v.state {
            ChatState::Closed => rec.chats.closed += 1,
            ChatState::Abandoned => rec.chats.abandoned += 1,
            other => rec.error(format!("chat ended in unexpected state {}", other.as_str())),
        }
        let closed = v.state == ChatState::Closed;
        let t = &mut rec.tallies[c.queue];
        match (v.legs.first(), v.closed_at) {
            (Some(&(answered, _)), closed_at) if closed || transferred => {
                let wait_wall = (answered - v.created_at).max(0.0);
                let wait = wait_wall * k;
                t.record_answer(wait, model.threshold_secs);
                if let Some(shown) = c.shown_ewt {
                    t.record_shown_wait(shown, wait);
                }
                tta = Some(wait_wall);
                if let Some(fr) = v.first_response_at {
                    t.record_first_response((fr - v.created_at).max(0.0) * k);
                }
                for &(answered_at, ended_at) in &v.legs {
                    if let Some(ended) = ended_at {
                        t.record_handling((ended - answered_at).max(0.0) * k);
                    }
                }
                if let Some(closed_at) = closed_at
                    && closed
                {
                    t.record_close((closed_at - v.created_at).max(0.0) * k, transferred, v.csat);
                }
                if transferred {
                    t.record_transfer();
                }
            }
            (_, Some(closed_at)) if v.state == ChatState::Abandoned => {
                t.record_abandon(
                    (closed_at - v.created_at).max(0.0) * k,
                    model.short_abandon_secs,
                );
            }
            _ => rec.error(format!(
                "chat view without the times of a {} chat",
                v.state.as_str()
            )),
        }
        if let Some(tta) = tta {
            record_secs(&mut rec.time_to_answer_us, tta);
        }
    }
    run.in_flight.fetch_sub(1, Ordering::SeqCst);
    tta
}

/// Counts a chat whose final view is gone (forgotten by the server) by its last state.
pub(super) fn finish_blind(run: &RunState, c: &InChat) {
    {
        let mut rec = run.rec();
        rec.live.remove(&c.id);
        match c.state {
            ChatState::Closed => rec.chats.closed += 1,
            ChatState::Abandoned => rec.chats.abandoned += 1,
            _ => {}
        }
        rec.error(format!(
            "chat forgotten by the server before its final view (last seen {})",
            c.state.as_str()
        ));
    }
    run.in_flight.fetch_sub(1, Ordering::SeqCst);
}
