//! The agent user, through the target's agent operations: logs in (for chatcap, with the
//! operator token, if any, for a token of its own, and registers with its group's skills and
//! cap), polls for work, accepts each offer after a sampled accept delay (counted from delivery, so route latency adds to the
//! wait as it would for a person), sends the first response after a sampled delay and status
//! messages while working, and closes (or transfers, at the profile's share) when the chat's
//! sampled work is done, or stops at once when the work poll says the customer left. Work
//! progresses at rate 1 / f(n) while the agent holds n chats, the profile's concurrency
//! slowdown, exactly as in the simulator. Agents log in or out at interval
//! starts to follow the staffing, and come back 60 profile seconds after being set away.
//!
//! One call of [`step`] makes at most one operation's requests (a due action, else a work poll:
//! a long poll of at most 1 s that any new offer ends at once, or one poll per `every`).

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use goose::prelude::*;
use rand::RngExt;
use serde_json::{Value, json};

use super::client::{Client, Outcome, error_code};
use super::run_state::RunState;
use super::schedule::AGENT_STREAM;
use super::target::{Meaning, Reading, Values};
use super::{BoxedStep, LoadTestError};
use crate::model::{SimRng, stream};

mod work;

use work::{drop_gone, take_work};

/// Longest inbox long-poll.
const MAX_POLL: Duration = Duration::from_secs(1);
/// Pause between work polls that are not long polls, unless the target says `every`.
const DEFAULT_EVERY: Duration = Duration::from_millis(500);
/// Longest nap of one step.
const MAX_NAP: Duration = Duration::from_millis(500);
/// Profile seconds an agent stays away after missing offers (as the simulator's agents do).
const AWAY_RETURN_SECS: f64 = 60.0;

/// chatcap's agent statuses, in the order of the target's words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Status {
    Available = 0,
    Offline = 1,
}

#[derive(Debug, Clone)]
struct Agent {
    slot: usize,
    /// The agent's variables for the target's templates (its token among them).
    values: Values,
    group: usize,
    rng: SimRng,
    on_duty: bool,
    away_until: Option<Instant>,
    pending: Vec<Pending>,
    seen: HashSet<String>,
    chats: Vec<Held>,
    last_progress: Instant,
    next_poll: Option<Instant>,
}

/// An offer the agent will accept at `accept_at`.
#[derive(Debug, Clone)]
struct Pending {
    offer_id: String,
    chat_id: String,
    queue: usize,
    transfers: u32,
    accept_at: Instant,
}

/// A chat the agent is working on.
#[derive(Debug, Clone)]
struct Held {
    chat_id: String,
    queue: usize,
    /// Work left, profile seconds at concurrency 1.
    work: f64,
    responded: bool,
    respond_at: Instant,
    next_status: Option<Instant>,
    transfer_to: Option<usize>,
}

#[derive(Debug, Clone, Copy)]
enum Action {
    Accept(usize),
    Respond(usize),
    Status(usize),
    Finish(usize),
}

pub(crate) fn login(user: &mut GooseUser, run: Arc<RunState>) -> BoxedStep<'_> {
    Box::pin(async move {
        if run.is_stopping() {
            // The server check failed: send nothing.
            return Ok(());
        }
        let taken = run.next_agent.fetch_add(1, Ordering::SeqCst);
        let Some(&no) = run.plan.shard_agents.get(taken) else {
            return Ok(());
        };
        let slot = &run.plan.agents[no];
        let on = run.plan.on_duty(slot, 0.0);
        let mut values = agent_values(&run, no, on);
        if let Err(error) = sign_in(user, &run, no, &mut values).await? {
            run.fail(error);
            return Ok(());
        }
        user.set_session_data(Some(Agent {
            slot: no,
            values,
            group: slot.group,
            rng: stream(run.plan.seed, AGENT_STREAM, no as u64),
            on_duty: on,
            away_until: None,
            pending: Vec::new(),
            seen: HashSet::new(),
            chats: Vec::new(),
            last_progress: Instant::now(),
            next_poll: None,
        }));
        run.agents_ready.fetch_add(1, Ordering::SeqCst);
        Ok(())
    })
}

/// Agent user `no`'s variables: its id, number, group, skills, cap and first status.
fn agent_values(run: &RunState, no: usize, on_duty: bool) -> Values {
    let slot = &run.plan.agents[no];
    let group = run.group(slot.group);
    let s = &run.target.agent_slots;
    let mut values = Values::new(s.len);
    values.set_str(s.id, &slot.id);
    values.set(s.number, Value::from(no as u64 + 1));
    values.set_str(s.group, &group.name);
    let skills: Vec<Value> = group
        .skills
        .iter()
        .map(|(name, proficiency)| json!({"name": name, "proficiency": proficiency}))
        .collect();
    values.set(s.skills, Value::Array(skills));
    values.set(s.concurrency, Value::from(group.cap));
    let status = if on_duty {
        Status::Available
    } else {
        Status::Offline
    };
    values.set_str(s.status, &run.target.agent_status[status as usize]);
    values
}

/// Logs agent user `no` in (the target's `agent.login`); why the run cannot go on if not.
async fn sign_in(
    user: &mut GooseUser,
    run: &RunState,
    no: usize,
    values: &mut Values,
) -> Result<Result<(), LoadTestError>, Box<TransactionError>> {
    let host = user.base_url.to_string();
    let op = &run.target.agent.login;
    let outcome = Client::new(user, run).op(op, values).await?;
    let id = &run.plan.agents[no].id;
    let Outcome::Refused { status, body, .. } = outcome else {
        return Ok(match outcome {
            Outcome::Done(_) => Ok(()),
            _ => Err(LoadTestError::Run(format!(
                "agent {id} could not log in: no answer from the server, or not the one the                  target {} describes (see the errors of {})",
                run.target.name, op.name
            ))),
        });
    };
    let detail = error_code(&body).unwrap_or_default();
    let hint = op.calls.iter().find_map(|c| c.hint(status));
    Ok(Err(match hint {
        Some(hint) => LoadTestError::Mismatch {
            host,
            detail: format!("agent {id} could not log in ({status} {detail}): {hint}"),
        },
        None => LoadTestError::Run(format!("agent {id} could not log in: {status} {detail}")),
    }))
}

pub(crate) fn logout(user: &mut GooseUser, run: Arc<RunState>) -> BoxedStep<'_> {
    Box::pin(async move {
        let Some(Some(mut a)) = user.get_session_data::<Option<Agent>>().cloned() else {
            return Ok(());
        };
        set_status(user, &run, &mut a, Status::Offline).await?;
        Ok(())
    })
}

pub(crate) fn step(user: &mut GooseUser, run: Arc<RunState>) -> BoxedStep<'_> {
    Box::pin(async move {
        if run.t0().is_none() {
            tokio::time::sleep(Duration::from_millis(20)).await;
            return Ok(());
        }
        let Some(mut a) = user
            .get_session_data_mut::<Option<Agent>>()
            .and_then(Option::take)
        else {
            tokio::time::sleep(Duration::from_millis(500)).await;
            return Ok(());
        };
        let result = act(user, &run, &mut a).await;
        user.set_session_data(Some(a));
        result
    })
}

/// Brings every held chat's work up to `now` at the current pace.
fn progress(run: &RunState, a: &mut Agent, now: Instant) {
    let n = a.chats.len() as u32;
    if n > 0 {
        let f = run.group(a.group).slowdown_at(n);
        let dt = now.saturating_duration_since(a.last_progress).as_secs_f64() * run.scale;
        for c in &mut a.chats {
            c.work -= dt / f;
        }
    }
    a.last_progress = now;
}

/// When chat `c`'s work is done at the current pace.
fn completion(run: &RunState, a: &Agent, c: &Held) -> Instant {
    let f = run.group(a.group).slowdown_at(a.chats.len() as u32);
    a.last_progress + run.wall(c.work.max(0.0) * f)
}

/// The earliest thing the agent has to do, and when.
fn next_action(run: &RunState, a: &Agent) -> Option<(Instant, Action)> {
    let mut best: Option<(Instant, Action)> = None;
    let mut consider = |at: Instant, action: Action| {
        if best.is_none_or(|(b, _)| at < b) {
            best = Some((at, action));
        }
    };
    for (i, p) in a.pending.iter().enumerate() {
        consider(p.accept_at, Action::Accept(i));
    }
    for (i, c) in a.chats.iter().enumerate() {
        let done = completion(run, a, c);
        if !c.responded {
            consider(c.respond_at.min(done), Action::Respond(i));
        } else {
            consider(done, Action::Finish(i));
            if let Some(s) = c.next_status
                && s < done
            {
                consider(s, Action::Status(i));
            }
        }
    }
    best
}

async fn act(user: &mut GooseUser, run: &RunState, a: &mut Agent) -> TransactionResult {
    let now = Instant::now();
    progress(run, a, now);
    if run.is_stopping() {
        tokio::time::sleep(Duration::from_millis(100)).await;
        return Ok(());
    }
    let slot = &run.plan.agents[a.slot];
    let want = run.plan.on_duty(slot, run.profile_time(now));
    if want != a.on_duty {
        let status = if want {
            Status::Available
        } else {
            Status::Offline
        };
        if set_status(user, run, a, status).await? {
            a.on_duty = want;
            a.away_until = None;
        }
        return Ok(());
    }
    if a.on_duty && a.away_until.is_some_and(|u| now >= u) {
        if set_status(user, run, a, Status::Available).await? {
            a.away_until = None;
        }
        return Ok(());
    }
    match next_action(run, a) {
        Some((at, action)) if at <= now => perform(user, run, a, action).await,
        next => poll(user, run, a, now, next.map(|(at, _)| at)).await,
    }
}

async fn set_status(
    user: &mut GooseUser,
    run: &RunState,
    a: &mut Agent,
    status: Status,
) -> Result<bool, Box<TransactionError>> {
    let slots = &run.target.agent_slots;
    a.values
        .set_str(slots.status, &run.target.agent_status[status as usize]);
    let op = &run.target.agent.status;
    let outcome = Client::new(user, run).op(op, &mut a.values).await?;
    Ok(matches!(outcome, Outcome::Done(_)))
}

/// Starts working on a chat just answered (accepted or assigned).
fn hold(run: &RunState, a: &mut Agent, chat_id: String, queue: usize, transfers: u32) {
    let now = Instant::now();
    progress(run, a, now);
    let model = run.queue(queue);
    let aht = run.aht(queue, run.profile_time(now));
    let work = model.handle.sample_with_mean(&mut a.rng, aht);
    let transfer_to = match model.transfer {
        Some((share, to)) if transfers == 0 => (a.rng.random::<f64>() < share).then_some(to),
        _ => None,
    };
    let respond_in = model
        .first_response
        .as_ref()
        .map_or(0.0, |m| m.sample(&mut a.rng));
    a.chats.push(Held {
        chat_id,
        queue,
        work,
        responded: false,
        respond_at: now + run.wall(respond_in),
        next_status: None,
        // Without a transfer call in the target, the chat is closed instead.
        transfer_to: transfer_to.filter(|_| run.target.transfers()),
    });
}

fn drop_chat(run: &RunState, a: &mut Agent, i: usize) {
    progress(run, a, Instant::now());
    a.chats.swap_remove(i);
}

/// Sets the variables of the chat (and offer) the next call is about.
fn about(run: &RunState, a: &mut Agent, chat: &str, queue: usize, offer: Option<&str>) {
    let s = &run.target.agent_slots;
    a.values.set_str(s.chat, chat);
    a.values.set_str(s.queue, &run.queue(queue).name);
    if let Some(offer) = offer {
        a.values.set_str(s.offer, offer);
    }
}

async fn perform(
    user: &mut GooseUser,
    run: &RunState,
    a: &mut Agent,
    action: Action,
) -> TransactionResult {
    let ops = &run.target.agent;
    match action {
        Action::Accept(i) => {
            let p = a.pending.swap_remove(i);
            let Some(accept) = &ops.accept else {
                return Ok(());
            };
            about(run, a, &p.chat_id, p.queue, Some(&p.offer_id));
            let outcome = Client::new(user, run).op(accept, &mut a.values).await?;
            if let Outcome::Done(_) = outcome {
                run.rec().offers.accepted += 1;
                hold(run, a, p.chat_id, p.queue, p.transfers);
            } else {
                run.rec().offers.accept_refused += 1;
            }
        }
        Action::Respond(i) | Action::Status(i) => {
            let text = if matches!(action, Action::Respond(_)) {
                "Hi, thanks for waiting. Let me look into it."
            } else {
                "Still on it, one moment please."
            };
            let (chat, queue) = (a.chats[i].chat_id.clone(), a.chats[i].queue);
            about(run, a, &chat, queue, None);
            a.values.set_str(run.target.agent_slots.text, text);
            let outcome = Client::new(user, run).op(&ops.send, &mut a.values).await?;
            match outcome {
                Outcome::Done(_) => {
                    let c = &mut a.chats[i];
                    c.responded = true;
                    c.next_status = run.status_every.map(|d| Instant::now() + d);
                }
                ref o if o.is(Meaning::Ended) => drop_chat(run, a, i),
                _ => {}
            }
        }
        Action::Finish(i) => finish(user, run, a, i).await?,
    }
    Ok(())
}

/// Ends chat `i` whose work is done: transfers it (at the profile's share) or closes it. A
/// chat that ended meanwhile is dropped; a refused transfer makes the agent close it instead.
async fn finish(
    user: &mut GooseUser,
    run: &RunState,
    a: &mut Agent,
    i: usize,
) -> TransactionResult {
    let ops = &run.target.agent;
    let (chat, queue, to) = {
        let c = &a.chats[i];
        (c.chat_id.clone(), c.queue, c.transfer_to)
    };
    about(run, a, &chat, queue, None);
    let (Some(to), Some(transfer)) = (to, &ops.transfer) else {
        let outcome = Client::new(user, run).op(&ops.close, &mut a.values).await?;
        if matches!(outcome, Outcome::Done(_)) || outcome.is(Meaning::Ended) {
            drop_chat(run, a, i);
        }
        return Ok(());
    };
    let s = &run.target.agent_slots;
    a.values.set_str(s.transfer_queue, &run.queue(to).name);
    a.values.set_str(s.transfer_note, "needs the other team");
    match Client::new(user, run).op(transfer, &mut a.values).await? {
        Outcome::Done(_) => {
            run.rec().offers.transfers += 1;
            drop_chat(run, a, i);
        }
        ref o if o.is(Meaning::Ended) => drop_chat(run, a, i),
        ref o if o.is(Meaning::Expected) => a.chats[i].transfer_to = None,
        _ => {}
    }
    Ok(())
}

/// Polls for work until the next action is due (a long poll of at most [`MAX_POLL`], or one
/// poll each `every`) and takes in what it holds.
async fn poll(
    user: &mut GooseUser,
    run: &RunState,
    a: &mut Agent,
    now: Instant,
    next_due: Option<Instant>,
) -> TransactionResult {
    let mut wait = MAX_POLL;
    if let Some(at) = next_due {
        wait = wait.min(at.saturating_duration_since(now));
    }
    if let Some(at) = a.next_poll.filter(|at| *at > now) {
        tokio::time::sleep((at - now).min(wait).min(MAX_NAP)).await;
        return Ok(());
    }
    if wait < Duration::from_millis(2) {
        tokio::time::sleep(wait).await;
        return Ok(());
    }
    let op = &run.target.agent.wait_work;
    let slots = &run.target.agent_slots;
    a.values
        .set_str(slots.wait, &format!("{:.3}", wait.as_secs_f64()));
    let outcome = Client::new(user, run).op(op, &mut a.values).await?;
    let call = op.last();
    if !call.long_poll {
        a.next_poll = Some(Instant::now() + call.every.unwrap_or(DEFAULT_EVERY));
    }
    let (Outcome::Done(body), Reading::Work(work)) = (outcome, &call.reading) else {
        return Ok(());
    };
    let arrived = Instant::now();
    let away = &run.target.agent_status[2];
    let presence = slots.presence.and_then(|s| a.values.text(s));
    if presence.as_ref() == Some(away) && a.on_duty && a.away_until.is_none() {
        a.away_until = Some(arrived + run.wall(AWAY_RETURN_SECS));
    }
    drop_gone(run, a, work, &body);
    take_work(user, run, a, work, &body, arrived).await?;
    Ok(())
}
