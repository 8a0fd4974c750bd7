//! The customer user: an open-model arrival source. Goose runs a fixed set of users in loops (a
//! closed model), so arrivals are precomputed from a seeded Poisson process (see `schedule`) and
//! each free customer takes the next one from the shared schedule and sleeps until its instant
//! on the absolute clock. How late it gets there is the arrival lag, the generator's own health.
//!
//! One call of [`step`] makes at most one request or sleeps at most 500 ms, so goose can stop
//! the user between calls. A chat, through the target's customer operations: create it, say
//! hello, poll the messages (replying to the agent where the target wants it), leave when
//! patience runs out before an answer, and read the final chat view, whose times (the
//! backend's timestamps, or what the customer saw) feed the measured KPIs.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use goose::prelude::*;
use rand::RngExt;
use serde_json::Value;

use super::BoxedStep;
use super::client::{Client, Outcome};
use super::run_state::{RunState, duration_of_secs, record_duration};
use super::schedule::CUSTOMER_STREAM;
use super::target::{Meaning, Reading, Values, read};
use crate::api::ChatState;
use crate::model::stream;

mod end;

use end::{FinalView, finish, finish_blind, read_view, view_of};

/// Longest nap of one step.
const MAX_NAP: Duration = Duration::from_millis(500);
/// Longest message long-poll; a chat end or a message ends it at once.
const MAX_POLL: Duration = Duration::from_secs(5);
/// Pause between message polls that are not long polls, unless the target says `every`.
const DEFAULT_EVERY: Duration = Duration::from_millis(500);

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
    /// The chat's variables for the target's templates.
    values: Values,
    queue: usize,
    posted: Instant,
    patience_at: Option<Instant>,
    state: ChatState,
    /// When the customer first saw an agent: an active state or an agent's message.
    answered_seen: Option<Instant>,
    reply_due: bool,
    /// When the customer first saw an agent's message.
    heard_agent: Option<Instant>,
    shown_ewt: Option<f64>,
    needs_view: bool,
    /// The customer left (or was sent away).
    left: bool,
    next_poll: Option<Instant>,
}

impl InChat {
    fn seen_active(&self) -> bool {
        self.answered_seen.is_some()
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
    let target = &run.target;
    let slots = &target.customer_slots;
    let mut values = Values::new(slots.len);
    values.set_str(slots.queue, &run.queue(d.queue).name);
    values.set(slots.number, Value::from(d.idx as u64));
    values.set_str(slots.customer, &format!("lt-{}", d.idx));
    values.set(slots.cursor, Value::from(0u64));
    let posted = Instant::now();
    let outcome = Client::new(user, run)
        .op(&target.customer.start, &mut values)
        .await?;
    let q = d.queue;
    let mut rec = run.rec();
    match outcome {
        Outcome::Done(_) => {
            let id = values.text(slots.id).unwrap_or_default();
            let state = slots
                .state
                .and_then(|s| values.text(s))
                .and_then(|v| target.state(&v))
                .unwrap_or(ChatState::Queued);
            let shown_ewt = slots
                .shown_wait
                .and_then(|s| values.get(s))
                .and_then(Value::as_f64)
                .filter(|_| state == ChatState::Queued);
            rec.chats.created += 1;
            rec.tallies[q].record_arrival();
            rec.tallies[q].record_queue_entry();
            rec.live.insert(id.clone(), state);
            return Ok(Customer::Chat(Box::new(InChat {
                id,
                values,
                queue: q,
                posted,
                patience_at: d.patience.map(|p| posted + run.wall(p)),
                state,
                answered_seen: (state == ChatState::Active).then_some(posted),
                reply_due: true,
                heard_agent: None,
                shown_ewt,
                needs_view: false,
                left: false,
                next_poll: None,
            })));
        }
        // A full queue or server: the chat is created and rejected.
        ref refused if refused.is(Meaning::Rejected) => {
            rec.chats.created += 1;
            rec.chats.rejected += 1;
            let t = &mut rec.tallies[q];
            t.record_arrival();
            t.record_queue_entry();
            t.record_rejection();
        }
        _ => rec.chats.create_failed += 1,
    }
    drop(rec);
    run.in_flight.fetch_sub(1, Ordering::SeqCst);
    Ok(Customer::Idle)
}

/// One step of a chat in progress: read the final view of an ended chat, leave at the drain
/// deadline or when patience runs out, reply to the agent, or poll the messages.
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
        return send(user, run, c).await;
    }
    let waiting = matches!(c.state, ChatState::Queued | ChatState::Offered) && !c.seen_active();
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
    if let Some(at) = c.next_poll.filter(|at| *at > now) {
        tokio::time::sleep((at - now).min(wait).min(MAX_NAP)).await;
        return Ok(Customer::Chat(Box::new(c)));
    }
    let op = &run.target.customer.wait_reply;
    let slot = run.target.customer_slots.wait;
    c.values
        .set_str(slot, &format!("{:.3}", wait.as_secs_f64()));
    let outcome = Client::new(user, run).op(op, &mut c.values).await?;
    let poll = op.last();
    if !poll.long_poll {
        c.next_poll = Some(Instant::now() + poll.every.unwrap_or(DEFAULT_EVERY));
    }
    match outcome {
        Outcome::Done(body) => heard(user, run, c, &body).await,
        ref o if o.is(Meaning::Ended) => {
            c.needs_view = true;
            Ok(Customer::Chat(Box::new(c)))
        }
        _ => Ok(Customer::Chat(Box::new(c))),
    }
}

/// Sends the customer's message: a greeting, then thanks for each answer.
async fn send(
    user: &mut GooseUser,
    run: &RunState,
    mut c: InChat,
) -> Result<Customer, Box<TransactionError>> {
    let text = if c.heard_agent.is_some() {
        "Thanks, that helps."
    } else {
        "Hello, I have a question about my order."
    };
    let slots = &run.target.customer_slots;
    c.values.set_str(slots.text, text);
    let op = &run.target.customer.send;
    let outcome = Client::new(user, run).op(op, &mut c.values).await?;
    c.reply_due = false;
    match outcome {
        Outcome::Done(body) => {
            // Skip our own message on the next poll when nothing came in between.
            if let Reading::Sent { own_cursor } = &op.last().reading {
                let cursor = c.values.get(slots.cursor).and_then(Value::as_u64);
                let own = read::at(&body, own_cursor).and_then(Value::as_u64);
                if let (Some(cursor), Some(own)) = (cursor, own)
                    && own == cursor + 1
                {
                    c.values.set(slots.cursor, Value::from(own));
                }
            }
        }
        ref o if o.is(Meaning::Ended) => c.needs_view = true,
        _ => {}
    }
    Ok(Customer::Chat(Box::new(c)))
}

/// The chat's final view once it ended: recorded, or followed on if it has not ended.
async fn final_view(
    user: &mut GooseUser,
    run: &RunState,
    mut c: InChat,
) -> Result<Customer, Box<TransactionError>> {
    let Some(op) = &run.target.customer.read else {
        let state = c.state;
        return ended(user, run, &c, view_of(run, &c, state)).await;
    };
    match Client::new(user, run).op(op, &mut c.values).await? {
        Outcome::Done(body) => {
            let view = match &op.last().reading {
                Reading::View(v) => read_view(run, &c, v, &body),
                _ => None,
            };
            match view {
                Some(view) => ended(user, run, &c, view).await,
                None => {
                    run.rec().error(format!(
                        "{}: the final view has no state the target maps",
                        op.last().name
                    ));
                    finish_blind(run, &c);
                    Ok(Customer::Idle)
                }
            }
        }
        ref o if o.is(Meaning::Ended) => {
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
    body: &Value,
) -> Result<Customer, Box<TransactionError>> {
    let target = &run.target;
    let slots = &target.customer_slots;
    let now = Instant::now();
    if let Some(state) = slots
        .state
        .and_then(|s| c.values.text(s))
        .and_then(|v| target.state(&v))
    {
        see_state(run, &mut c, state, now);
    }
    let Reading::Messages(poll) = &target.customer.wait_reply.last().reading else {
        return Ok(Customer::Chat(Box::new(c)));
    };
    let items = read::items(body, &poll.items);
    let from_agent = items.iter().any(|m| read::matches(m, &poll.agent_items));
    let cursor = match (&poll.cursor, &poll.item_cursor) {
        (Some(p), _) => read::at(body, p).cloned(),
        (None, Some(p)) => items.last().and_then(|m| read::at(m, p)).cloned(),
        _ => None,
    };
    if let Some(cursor) = cursor {
        c.values.set(slots.cursor, cursor);
    }
    if from_agent {
        if c.answered_seen.is_none() {
            c.answered_seen = Some(now);
            if c.state != ChatState::Active && !c.state.is_terminal() {
                see_state(run, &mut c, ChatState::Active, now);
            }
        }
        // The greeting is always sent; answers to the agent only where the target wants them.
        c.reply_due = !c.state.is_terminal() && run.target.customer_replies;
        if c.heard_agent.is_none() {
            c.heard_agent = Some(now);
            let frt = c.posted.elapsed();
            record_duration(&mut run.rec().first_response_us, frt);
            user.record_custom_request_duration("CHAT", "first_response", frt, true, None, None)
                .await?;
        }
    }
    if c.state.is_terminal() {
        c.needs_view = true;
        c.next_poll = None;
    }
    Ok(Customer::Chat(Box::new(c)))
}

/// Takes in a state the customer saw.
fn see_state(run: &RunState, c: &mut InChat, state: ChatState, now: Instant) {
    if state == c.state {
        return;
    }
    c.state = state;
    if state == ChatState::Active && c.answered_seen.is_none() {
        c.answered_seen = Some(now);
    }
    if !state.is_terminal()
        && let Some(live) = run.rec().live.get_mut(&c.id)
    {
        *live = state;
    }
}

async fn leave(
    user: &mut GooseUser,
    run: &RunState,
    mut c: InChat,
    forced: bool,
) -> Result<Customer, Box<TransactionError>> {
    let op = &run.target.customer.leave;
    let outcome = Client::new(user, run).op(op, &mut c.values).await?;
    match outcome {
        Outcome::Done(body) => {
            if forced {
                run.rec().chats.forced_leaves += 1;
            }
            c.left = true;
            if let Reading::View(v) = &op.last().reading
                && let Some(view) = read_view(run, &c, v, &body)
            {
                return ended(user, run, &c, view).await;
            }
            c.needs_view = true;
        }
        ref o if o.is(Meaning::Ended) => c.needs_view = true,
        _ => {}
    }
    Ok(Customer::Chat(Box::new(c)))
}

/// Records an ended chat from its final view and frees the customer.
async fn ended(
    user: &mut GooseUser,
    run: &RunState,
    c: &InChat,
    view: FinalView,
) -> Result<Customer, Box<TransactionError>> {
    if !view.state.is_terminal() {
        // Not ended after all (a leave raced an answer): keep following the chat.
        let mut c = c.clone();
        c.needs_view = false;
        c.state = view.state;
        return Ok(Customer::Chat(Box::new(c)));
    }
    if let Some(tta) = finish(run, c, &view) {
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
