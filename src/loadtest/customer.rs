//! The customer user: an open-model arrival source. Goose runs a fixed set of users in loops (a
//! closed model), so arrivals are precomputed from a seeded Poisson process (see `schedule`) and
//! each free customer takes the next one from the shared schedule and sleeps until its instant
//! on the absolute clock. How late it gets there is the arrival lag, the generator's own health.
//!
//! One call of [`step`] makes at most one request or sleeps at most 500 ms, so goose can stop
//! the user between calls. A chat: create it, say hello, long-poll the messages (replying to
//! the agent), leave when patience runs out before an answer, and read the final chat view
//! whose server timestamps feed the measured KPIs.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use goose::prelude::*;
use rand::RngExt;

use super::BoxedStep;
use super::client::{Client, Outcome};
use super::run_state::{RunState, duration_of_secs, record_duration, record_secs};
use super::schedule::CUSTOMER_STREAM;
use crate::api::{Chat, ChatState, CreateChatRequest, MessageFrom, Messages};
use crate::model::stream;

/// Longest nap of one step.
const MAX_NAP: Duration = Duration::from_millis(500);
/// Longest message long-poll; a chat end or a message ends it at once.
const MAX_POLL: Duration = Duration::from_secs(5);

#[derive(Debug, Clone)]
enum Customer {
    Idle,
    Due(Due),
    Chat(Box<InChat>),
    Done,
}

#[derive(Debug, Clone)]
struct Due {
    idx: usize,
    queue: usize,
    at: Instant,
    /// Profile seconds this customer waits for an answer.
    patience: Option<f64>,
}

/// A chat in progress as its customer sees it.
#[derive(Debug, Clone)]
struct InChat {
    id: String,
    token: String,
    queue: usize,
    posted: Instant,
    patience_at: Option<Instant>,
    state: ChatState,
    seen_active: bool,
    last_seq: u64,
    reply_due: bool,
    heard_agent: bool,
    shown_ewt: Option<f64>,
    needs_view: bool,
}

pub(crate) fn on_start(user: &mut GooseUser, run: Arc<RunState>) -> BoxedStep<'_> {
    Box::pin(async move {
        user.set_session_data(Customer::Idle);
        run.customers_ready.fetch_add(1, Ordering::SeqCst);
        Ok(())
    })
}

pub(crate) fn step(user: &mut GooseUser, run: Arc<RunState>) -> BoxedStep<'_> {
    Box::pin(run_step(user, run))
}

async fn run_step(user: &mut GooseUser, run: Arc<RunState>) -> TransactionResult {
    let Some(t0) = run.t0() else {
        tokio::time::sleep(Duration::from_millis(20)).await;
        return Ok(());
    };
    let state = user
        .get_session_data_mut::<Customer>()
        .map(|c| std::mem::replace(c, Customer::Idle))
        .unwrap_or(Customer::Idle);
    let next = match state {
        Customer::Idle => take_arrival(&run, t0),
        Customer::Due(d) => due(user, &run, d).await?,
        Customer::Chat(c) => chat(user, &run, *c).await?,
        Customer::Done => {
            tokio::time::sleep(MAX_NAP).await;
            Customer::Done
        }
    };
    user.set_session_data(next);
    Ok(())
}

/// Takes the next arrival of the schedule; bot-resolved customers end here (they never reach
/// the server) and the next one is taken.
fn take_arrival(run: &RunState, t0: Instant) -> Customer {
    if run.is_stopping() {
        return Customer::Done;
    }
    loop {
        let taken = run.next_arrival.fetch_add(1, Ordering::SeqCst);
        let Some(&idx) = run.plan.shard_arrivals.get(taken) else {
            return Customer::Done;
        };
        let arrival = &run.plan.schedule[idx];
        let q = arrival.queue as usize;
        let model = run.queue(q);
        let mut rng = stream(run.plan.seed, CUSTOMER_STREAM, idx as u64);
        let (resolved, bot_secs) = match &model.bot {
            Some((share, time)) => (rng.random::<f64>() < *share, time.sample(&mut rng)),
            None => (false, 0.0),
        };
        let patience = model.patience.as_ref().map(|p| p.sample(&mut rng));
        if resolved {
            let mut rec = run.rec();
            rec.chats.bot_resolved += 1;
            // The bot's time is the chat's whole resolution time, as in the simulator.
            rec.tallies[q].record_arrival();
            rec.tallies[q].record_bot_resolution(bot_secs);
            continue;
        }
        run.in_flight.fetch_add(1, Ordering::SeqCst);
        return Customer::Due(Due {
            idx,
            queue: q,
            at: t0 + run.wall(arrival.at + bot_secs),
            patience,
        });
    }
}

async fn due(
    user: &mut GooseUser,
    run: &RunState,
    d: Due,
) -> Result<Customer, Box<TransactionError>> {
    let now = Instant::now();
    if now < d.at {
        tokio::time::sleep((d.at - now).min(MAX_NAP)).await;
        return Ok(Customer::Due(d));
    }
    let lag = now - d.at;
    record_duration(&mut run.rec().arrival_lag_us, lag);
    user.record_custom_request_duration("CHAT", "arrival_lag", lag, true, None, None)
        .await?;
    let request = CreateChatRequest {
        queue: run.queue(d.queue).name.clone(),
        customer: Some(format!("lt-{}", d.idx)),
        priority: None,
    };
    let posted = Instant::now();
    let outcome = Client::new(user, run).create_chat(&request).await?;
    let q = d.queue;
    let mut rec = run.rec();
    match outcome {
        Outcome::Done(created) => {
            let state = created.state;
            let shown_ewt = (state == ChatState::Queued).then_some(created.estimated_wait_secs);
            rec.chats.created += 1;
            rec.tallies[q].record_arrival();
            rec.tallies[q].record_queue_entry();
            rec.live.insert(created.id.clone(), state);
            return Ok(Customer::Chat(Box::new(InChat {
                id: created.id,
                token: created.token,
                queue: q,
                posted,
                patience_at: d.patience.map(|p| posted + run.wall(p)),
                state,
                seen_active: state == ChatState::Active,
                last_seq: 0,
                reply_due: true,
                heard_agent: false,
                shown_ewt,
                needs_view: false,
            })));
        }
        // A full queue and a full server both record the chat as created and rejected.
        Outcome::Refused(r) if r.status == 503 => {
            rec.chats.created += 1;
            rec.chats.rejected += 1;
            let t = &mut rec.tallies[q];
            t.record_arrival();
            t.record_queue_entry();
            t.record_rejection();
        }
        Outcome::Refused(_) | Outcome::Failed => rec.chats.create_failed += 1,
    }
    drop(rec);
    run.in_flight.fetch_sub(1, Ordering::SeqCst);
    Ok(Customer::Idle)
}

/// One step of a chat in progress: read the final view of an ended chat, leave at the drain
/// deadline or when patience runs out, reply to the agent, or long-poll the messages.
async fn chat(
    user: &mut GooseUser,
    run: &RunState,
    mut c: InChat,
) -> Result<Customer, Box<TransactionError>> {
    let now = Instant::now();
    if c.needs_view {
        return final_view(user, run, c).await;
    }
    let drain_deadline = run.drain_deadline();
    if drain_deadline.is_some_and(|d| now >= d) {
        return leave(user, run, c, true).await;
    }
    if c.reply_due {
        let text = if c.heard_agent {
            "Thanks, that helps."
        } else {
            "Hello, I have a question about my order."
        };
        let outcome = Client::new(user, run)
            .customer_message(&c.id, &c.token, text)
            .await?;
        c.reply_due = false;
        match outcome {
            // Skip our own message on the next poll when nothing came in between.
            Outcome::Done(message) if message.seq == c.last_seq + 1 => c.last_seq += 1,
            Outcome::Refused(r) if matches!(r.status, 404 | 409) => c.needs_view = true,
            _ => {}
        }
        return Ok(Customer::Chat(Box::new(c)));
    }
    let waiting = matches!(c.state, ChatState::Queued | ChatState::Offered) && !c.seen_active;
    if waiting && c.patience_at.is_some_and(|p| now >= p) {
        return leave(user, run, c, false).await;
    }
    let mut wait = MAX_POLL;
    if waiting && let Some(p) = c.patience_at {
        wait = wait.min(p.saturating_duration_since(now));
    }
    if let Some(d) = drain_deadline {
        wait = wait.min(d.saturating_duration_since(now));
    }
    let outcome = Client::new(user, run)
        .messages(&c.id, &c.token, c.last_seq, wait)
        .await?;
    match outcome {
        Outcome::Done(messages) => heard(user, run, c, messages).await,
        Outcome::Refused(r) if r.status == 404 => {
            finish_blind(run, &c);
            Ok(Customer::Idle)
        }
        _ => Ok(Customer::Chat(Box::new(c))),
    }
}

/// The chat's view once it ended: recorded, or followed on if it has not ended after all.
async fn final_view(
    user: &mut GooseUser,
    run: &RunState,
    c: InChat,
) -> Result<Customer, Box<TransactionError>> {
    match Client::new(user, run).chat(&c.id, &c.token).await? {
        Outcome::Done(view) => ended(user, run, &c, &view).await,
        Outcome::Refused(r) if r.status == 404 => {
            finish_blind(run, &c);
            Ok(Customer::Idle)
        }
        _ => Ok(Customer::Chat(Box::new(c))),
    }
}

/// What a message poll told: the chat's state, the agent's messages (the first one is the
/// first response the customer sees), and whether the chat ended.
async fn heard(
    user: &mut GooseUser,
    run: &RunState,
    mut c: InChat,
    reply: Messages,
) -> Result<Customer, Box<TransactionError>> {
    let state = reply.state;
    if state != c.state {
        c.state = state;
        if let Some(live) = run.rec().live.get_mut(&c.id) {
            *live = state;
        }
    }
    c.seen_active |= state == ChatState::Active;
    let from_agent = reply.messages.iter().any(|m| m.from == MessageFrom::Agent);
    if from_agent {
        c.seen_active = true;
        c.reply_due = !state.is_terminal();
        if !c.heard_agent {
            c.heard_agent = true;
            let frt = c.posted.elapsed();
            record_duration(&mut run.rec().first_response_us, frt);
            user.record_custom_request_duration("CHAT", "first_response", frt, true, None, None)
                .await?;
        }
    }
    c.last_seq = reply.last_seq;
    if state.is_terminal() {
        c.needs_view = true;
    }
    Ok(Customer::Chat(Box::new(c)))
}

async fn leave(
    user: &mut GooseUser,
    run: &RunState,
    mut c: InChat,
    forced: bool,
) -> Result<Customer, Box<TransactionError>> {
    match Client::new(user, run).leave(&c.id, &c.token).await? {
        Outcome::Done(view) => {
            if forced {
                run.rec().chats.forced_leaves += 1;
            }
            return ended(user, run, &c, &view).await;
        }
        Outcome::Refused(r) if r.status == 409 => c.needs_view = true,
        Outcome::Refused(r) if r.status == 404 => {
            finish_blind(run, &c);
            return Ok(Customer::Idle);
        }
        _ => {}
    }
    Ok(Customer::Chat(Box::new(c)))
}

/// Records an ended chat from its final view and frees the customer.
async fn ended(
    user: &mut GooseUser,
    run: &RunState,
    c: &InChat,
    view: &Chat,
) -> Result<Customer, Box<TransactionError>> {
    if !view.state.is_terminal() {
        // Not ended after all (a leave raced an answer): keep following the chat.
        let mut c = c.clone();
        c.needs_view = false;
        c.state = view.state;
        return Ok(Customer::Chat(Box::new(c)));
    }
    if let Some(tta) = finish(run, c, view) {
        user.record_custom_request_duration(
            "CHAT",
            "time_to_answer",
            duration_of_secs(tta),
            true,
            None,
            None,
        )
        .await?;
    }
    Ok(Customer::Idle)
}

/// Tallies an ended chat from the server's timestamps (wall seconds, turned into profile
/// seconds) in the KPI ledger. Returns the wall time to the first answer, if it was answered.
fn finish(run: &RunState, c: &InChat, v: &Chat) -> Option<f64> {
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
            (Some(first), closed_at) if closed || transferred => {
                let wait_wall = (first.answered_at - v.created_at).max(0.0);
                let wait = wait_wall * k;
                t.record_answer(wait, model.threshold_secs);
                if let Some(shown) = c.shown_ewt {
                    t.record_shown_wait(shown, wait);
                }
                tta = Some(wait_wall);
                if let Some(fr) = v.first_response_at {
                    t.record_first_response((fr - v.created_at).max(0.0) * k);
                }
                for leg in &v.legs {
                    if let Some(ended) = leg.ended_at {
                        t.record_handling((ended - leg.answered_at).max(0.0) * k);
                    }
                }
                if let Some(closed_at) = closed_at
                    && closed
                {
                    let csat = v.csat.map(f64::from);
                    t.record_close((closed_at - v.created_at).max(0.0) * k, transferred, csat);
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
                "chat view without the timestamps of a {} chat",
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
fn finish_blind(run: &RunState, c: &InChat) {
    {
        let mut rec = run.rec();
        rec.live.remove(&c.id);
        match c.state {
            ChatState::Closed => rec.chats.closed += 1,
            ChatState::Abandoned => rec.chats.abandoned += 1,
            _ => {}
        }
        rec.error(format!(
            "get_chat: chat forgotten by the server before its final view (last seen {})",
            c.state.as_str()
        ));
    }
    run.in_flight.fetch_sub(1, Ordering::SeqCst);
}
