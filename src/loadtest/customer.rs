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
use serde_json::{Value, json};

use super::http::{Auth, call};
use super::run_state::{Endpoint, RunState, duration_of_secs, record_duration, record_secs};
use super::schedule::CUSTOMER_STREAM;
use super::{BoxedStep, terminal};
use crate::model::stream;

/// Longest nap of one step.
const MAX_NAP: Duration = Duration::from_millis(500);
/// Longest message long-poll; a chat end or a message ends it at once.
const MAX_POLL: Duration = Duration::from_secs(5);

#[derive(Debug, Clone)]
enum Customer {
    Idle,
    Due(Due),
    Chat(Box<ChatState>),
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

#[derive(Debug, Clone)]
struct ChatState {
    id: String,
    token: String,
    queue: usize,
    posted: Instant,
    patience_at: Option<Instant>,
    state: &'static str,
    seen_active: bool,
    last_seq: u64,
    reply_due: bool,
    heard_agent: bool,
    shown_ewt: Option<f64>,
    needs_view: bool,
}

/// The API's chat state names, interned.
pub(crate) fn state_name(s: Option<&str>) -> &'static str {
    match s {
        Some("queued") => "queued",
        Some("offered") => "offered",
        Some("active") => "active",
        Some("closed") => "closed",
        Some("abandoned") => "abandoned",
        Some("rejected") => "rejected",
        _ => "unknown",
    }
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
        let idx = run.next_arrival.fetch_add(1, Ordering::SeqCst);
        let Some(arrival) = run.plan.schedule.get(idx) else {
            return Customer::Done;
        };
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
    let body = json!({"queue": run.queue(d.queue).name, "customer": format!("lt-{}", d.idx)});
    let posted = Instant::now();
    let reply = call(
        user,
        run,
        Endpoint::CreateChat,
        GooseMethod::Post,
        "/v1/chats",
        Auth::Anonymous,
        Some(&body),
        &[(503, "queue_full"), (503, "server_full")],
    )
    .await?;
    let q = d.queue;
    if reply.status == 201
        && let (Some(id), Some(token)) = (reply.str("id"), reply.str("token"))
    {
        let state = state_name(reply.str("state"));
        let shown_ewt = if state == "queued" {
            reply.f64("estimated_wait_secs")
        } else {
            None
        };
        {
            let mut rec = run.rec();
            rec.chats.created += 1;
            rec.tallies[q].record_arrival();
            rec.tallies[q].record_queue_entry();
            rec.live.insert(id.to_string(), state);
        }
        return Ok(Customer::Chat(Box::new(ChatState {
            id: id.to_string(),
            token: token.to_string(),
            queue: q,
            posted,
            patience_at: d.patience.map(|p| posted + run.wall(p)),
            state,
            seen_active: state == "active",
            last_seq: 0,
            reply_due: true,
            heard_agent: false,
            shown_ewt,
            needs_view: false,
        })));
    }
    {
        let mut rec = run.rec();
        // A full queue and a full server both record the chat as created and rejected.
        if reply.status == 503 && matches!(reply.code(), "queue_full" | "server_full") {
            rec.chats.created += 1;
            rec.chats.rejected += 1;
            let t = &mut rec.tallies[q];
            t.record_arrival();
            t.record_queue_entry();
            t.record_rejection();
        } else {
            rec.chats.create_failed += 1;
            if reply.status == 201 {
                rec.error("create_chat: 201 without an id and token".into());
            }
        }
    }
    run.in_flight.fetch_sub(1, Ordering::SeqCst);
    Ok(Customer::Idle)
}

async fn chat(
    user: &mut GooseUser,
    run: &RunState,
    mut c: ChatState,
) -> Result<Customer, Box<TransactionError>> {
    let now = Instant::now();
    let path = format!("/v1/chats/{}", c.id);
    if c.needs_view {
        let reply = call(
            user,
            run,
            Endpoint::GetChat,
            GooseMethod::Get,
            &path,
            Auth::Customer(&c.token),
            None,
            &[],
        )
        .await?;
        if reply.ok() {
            return ended(user, run, &c, &reply.body).await;
        }
        if reply.status == 404 {
            finish_blind(run, &c);
            return Ok(Customer::Idle);
        }
        return Ok(Customer::Chat(Box::new(c)));
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
        let reply = call(
            user,
            run,
            Endpoint::CustomerMessage,
            GooseMethod::Post,
            &format!("{path}/messages"),
            Auth::Customer(&c.token),
            Some(&json!({ "text": text })),
            &[(409, "")],
        )
        .await?;
        c.reply_due = false;
        // Skip our own message on the next poll when nothing came in between.
        if reply.status == 201 && reply.body["seq"].as_u64() == Some(c.last_seq + 1) {
            c.last_seq += 1;
        } else if matches!(reply.status, 404 | 409) {
            c.needs_view = true;
        }
        return Ok(Customer::Chat(Box::new(c)));
    }
    let waiting = matches!(c.state, "queued" | "offered") && !c.seen_active;
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
    let reply = call(
        user,
        run,
        Endpoint::PollMessages,
        GooseMethod::Get,
        &format!(
            "{path}/messages?after={}&wait={:.3}",
            c.last_seq,
            wait.as_secs_f64()
        ),
        Auth::Customer(&c.token),
        None,
        &[],
    )
    .await?;
    if !reply.ok() {
        if reply.status == 404 {
            finish_blind(run, &c);
            return Ok(Customer::Idle);
        }
        return Ok(Customer::Chat(Box::new(c)));
    }
    let state = state_name(reply.str("state"));
    if state != c.state {
        c.state = state;
        if let Some(live) = run.rec().live.get_mut(&c.id) {
            *live = state;
        }
    }
    c.seen_active |= state == "active";
    let from_agent = reply.body["messages"]
        .as_array()
        .is_some_and(|m| m.iter().any(|m| m["from"] == "agent"));
    if from_agent {
        c.seen_active = true;
        c.reply_due = !terminal(state);
        if !c.heard_agent {
            c.heard_agent = true;
            let frt = c.posted.elapsed();
            record_duration(&mut run.rec().first_response_us, frt);
            user.record_custom_request_duration("CHAT", "first_response", frt, true, None, None)
                .await?;
        }
    }
    c.last_seq = reply.body["last_seq"].as_u64().unwrap_or(c.last_seq);
    if terminal(state) {
        c.needs_view = true;
    }
    Ok(Customer::Chat(Box::new(c)))
}

async fn leave(
    user: &mut GooseUser,
    run: &RunState,
    mut c: ChatState,
    forced: bool,
) -> Result<Customer, Box<TransactionError>> {
    let reply = call(
        user,
        run,
        Endpoint::LeaveChat,
        GooseMethod::Post,
        &format!("/v1/chats/{}/leave", c.id),
        Auth::Customer(&c.token),
        None,
        &[(409, "invalid_state")],
    )
    .await?;
    if reply.ok() {
        if forced {
            run.rec().chats.forced_leaves += 1;
        }
        return ended(user, run, &c, &reply.body).await;
    }
    match reply.status {
        409 => c.needs_view = true,
        404 => {
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
    c: &ChatState,
    view: &Value,
) -> Result<Customer, Box<TransactionError>> {
    if !terminal(state_name(view["state"].as_str())) {
        // Not ended after all (a leave raced an answer): keep following the chat.
        let mut c = c.clone();
        c.needs_view = false;
        c.state = state_name(view["state"].as_str());
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
/// seconds). Returns the wall time to the first answer, if it was answered.
fn finish(run: &RunState, c: &ChatState, v: &Value) -> Option<f64> {
    let k = run.scale;
    let model = run.queue(c.queue);
    let state = state_name(v["state"].as_str());
    let at = |key: &str| v[key].as_f64();
    let transfers = v["transfers"].as_u64().unwrap_or(0);
    let mut tta = None;
    {
        let mut guard = run.rec();
        let rec = &mut *guard;
        rec.live.remove(&c.id);
        match state {
            "closed" => rec.chats.closed += 1,
            "abandoned" => rec.chats.abandoned += 1,
            other => rec.error(format!("chat ended in unexpected state {other}")),
        }
        let legs = legs_of(v, state);
        let first_answer = legs.first().map(|&(answered, _)| answered);
        let t = &mut rec.tallies[c.queue];
        match (at("created_at"), first_answer, at("closed_at")) {
            (Some(created), Some(answered), closed) if state == "closed" || transfers > 0 => {
                let wait_wall = (answered - created).max(0.0);
                let wait = wait_wall * k;
                t.record_answer(wait, model.threshold_secs);
                if let Some(shown) = c.shown_ewt {
                    t.record_shown_wait(shown, wait);
                }
                tta = Some(wait_wall);
                if let Some(fr) = at("first_response_at") {
                    let frt = (fr - created).max(0.0) * k;
                    t.record_first_response(frt);
                }
                for &(answered, ended) in &legs {
                    if let Some(ended) = ended {
                        t.record_handling((ended - answered).max(0.0) * k);
                    }
                }
                if let Some(closed) = closed
                    && state == "closed"
                {
                    t.record_close((closed - created).max(0.0) * k, transfers > 0, None);
                }
                if transfers > 0 {
                    t.record_transfer();
                }
            }
            (Some(created), _, Some(closed)) if state == "abandoned" => {
                t.record_abandon((closed - created).max(0.0) * k, model.short_abandon_secs);
            }
            _ => rec.error(format!(
                "chat view without the timestamps of a {state} chat"
            )),
        }
        if let Some(tta) = tta {
            record_secs(&mut rec.time_to_answer_us, tta);
        }
    }
    run.in_flight.fetch_sub(1, Ordering::SeqCst);
    tta
}

/// The handling legs of a chat view as (answered, ended) server times: its `legs`, or for a
/// server without them one leg from `answered_at` to `closed_at`.
fn legs_of(v: &Value, state: &str) -> Vec<(f64, Option<f64>)> {
    match v["legs"].as_array() {
        Some(legs) => legs
            .iter()
            .filter_map(|l| Some((l["answered_at"].as_f64()?, l["ended_at"].as_f64())))
            .collect(),
        None => v["answered_at"]
            .as_f64()
            .map(|a| (a, v["closed_at"].as_f64().filter(|_| state == "closed")))
            .into_iter()
            .collect(),
    }
}

/// Counts a chat whose final view is gone (forgotten by the server) by its last state.
fn finish_blind(run: &RunState, c: &ChatState) {
    {
        let mut rec = run.rec();
        rec.live.remove(&c.id);
        match c.state {
            "closed" => rec.chats.closed += 1,
            "abandoned" => rec.chats.abandoned += 1,
            _ => {}
        }
        rec.error(format!(
            "get_chat: chat forgotten by the server before its final view (last seen {})",
            c.state
        ));
    }
    run.in_flight.fetch_sub(1, Ordering::SeqCst);
}
