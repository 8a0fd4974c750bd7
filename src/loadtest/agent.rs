//! The agent user: logs in (`POST .../login` with the operator token, if any, for a token of
//! its own), registers with its group's skills and cap, long-polls its inbox, accepts each
//! offer after a sampled accept delay (counted from delivery, so route latency adds to the
//! wait as it would for a person), sends the first response after a sampled delay and status
//! messages while working, and closes (or transfers, at the profile's share) when the chat's
//! sampled work is done, or stops at once when the inbox says the customer left. Work
//! progresses at rate 1 / f(n) while the agent holds n chats, the profile's concurrency
//! slowdown, exactly as in the simulator. Agents log in or out at interval
//! starts to follow the staffing, and come back 60 profile seconds after being set away.
//!
//! One call of [`step`] makes at most one request (a due action, else an inbox long-poll of at
//! most 1 s that any new offer ends at once).

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use goose::prelude::*;
use rand::RngExt;

use super::client::{Client, Outcome, Refusal};
use super::run_state::{RunState, duration_of_secs, record_secs};
use super::schedule::AGENT_STREAM;
use super::{BoxedStep, LoadTestError};
use crate::api::{
    AgentStatus, CloseRequest, Inbox, Offer, OfferKind, Resolution, SkillRequest, StatusRequest,
    TransferRequest,
};
use crate::model::{SimRng, stream};

/// Longest inbox long-poll.
const MAX_POLL: Duration = Duration::from_secs(1);
/// Profile seconds an agent stays away after missing offers (as the simulator's agents do).
const AWAY_RETURN_SECS: f64 = 60.0;

#[derive(Debug, Clone)]
struct Agent {
    slot: usize,
    /// The agent's own token from its login.
    token: String,
    group: usize,
    rng: SimRng,
    on_duty: bool,
    away_until: Option<Instant>,
    pending: Vec<Pending>,
    seen: HashSet<String>,
    chats: Vec<Held>,
    last_progress: Instant,
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
        let token = match sign_in(user, &run, no, on).await? {
            Ok(token) => token,
            Err(error) => {
                run.fail(error);
                return Ok(());
            }
        };
        user.set_session_data(Some(Agent {
            slot: no,
            token,
            group: slot.group,
            rng: stream(run.plan.seed, AGENT_STREAM, no as u64),
            on_duty: on,
            away_until: None,
            pending: Vec::new(),
            seen: HashSet::new(),
            chats: Vec::new(),
            last_progress: Instant::now(),
        }));
        run.agents_ready.fetch_add(1, Ordering::SeqCst);
        Ok(())
    })
}

/// Logs agent user `no` in and registers it with its group's skills and cap, available or
/// offline as the staffing says; its own token, or why the run cannot go on.
async fn sign_in(
    user: &mut GooseUser,
    run: &RunState,
    no: usize,
    on_duty: bool,
) -> Result<Result<String, LoadTestError>, Box<TransactionError>> {
    let slot = &run.plan.agents[no];
    let group = run.group(slot.group);
    let host = user.base_url.to_string();
    let mut api = Client::new(user, run);
    let token = match api.login(&slot.id).await? {
        Outcome::Done(login) => login.token,
        other => return Ok(Err(login_error(&host, &slot.id, other))),
    };
    let status = if on_duty {
        AgentStatus::Available
    } else {
        AgentStatus::Offline
    };
    let registration = StatusRequest {
        skills: Some(
            group
                .skills
                .iter()
                .map(|(name, proficiency)| SkillRequest::Full {
                    name: name.clone(),
                    proficiency: Some(*proficiency),
                })
                .collect(),
        ),
        concurrency: Some(group.cap),
        ..StatusRequest::new(status)
    };
    Ok(match api.status(&slot.id, &token, &registration).await? {
        Outcome::Done(_) => Ok(token),
        other => Err(login_error(&host, &slot.id, other)),
    })
}

/// Why agent `id` could not log in or register: a refused token or fixed skills are settings
/// to mend (exit 2), anything else a failed run.
fn login_error<T>(host: &str, id: &str, outcome: Outcome<T>) -> LoadTestError {
    let Outcome::Refused(Refusal {
        status,
        code,
        detail,
    }) = outcome
    else {
        return LoadTestError::Run(format!(
            "agent {id} could not log in: no answer from the server, or not the one docs/api.md \
             documents"
        ));
    };
    let mismatch = match (status, code.as_str()) {
        (401, _) => Some(
            "it refused the operator token; give the server's token with --agent-token or \
             CHATCAP_AGENT_TOKEN"
                .to_string(),
        ),
        (409, "logged_in") => Some(format!(
            "{detail} (an earlier run may still hold it: restart the server, or run it with \
             --agent-token and give the same token here)"
        )),
        (404 | 405, _) => Some(
            "it has no POST /v1/agents/{id}/login; serve docs/api.md's agent sessions".to_string(),
        ),
        (409, "skills_fixed") => Some(format!(
            "{detail}; the agent is registered with other skills by an earlier run with another \
             profile: restart the server or use its profile"
        )),
        _ => None,
    };
    match mismatch {
        Some(why) => LoadTestError::Mismatch {
            host: host.to_string(),
            detail: format!("agent {id} could not log in: {why}"),
        },
        None => LoadTestError::Run(format!(
            "agent {id} could not log in: {status} {code}: {detail}"
        )),
    }
}

pub(crate) fn logout(user: &mut GooseUser, run: Arc<RunState>) -> BoxedStep<'_> {
    Box::pin(async move {
        let Some(Some(a)) = user.get_session_data::<Option<Agent>>().cloned() else {
            return Ok(());
        };
        let id = &run.plan.agents[a.slot].id;
        let offline = StatusRequest::new(AgentStatus::Offline);
        Client::new(user, &run)
            .status(id, &a.token, &offline)
            .await?;
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
            AgentStatus::Available
        } else {
            AgentStatus::Offline
        };
        if set_status(user, run, a, status).await? {
            a.on_duty = want;
            a.away_until = None;
        }
        return Ok(());
    }
    if a.on_duty && a.away_until.is_some_and(|u| now >= u) {
        if set_status(user, run, a, AgentStatus::Available).await? {
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
    a: &Agent,
    status: AgentStatus,
) -> Result<bool, Box<TransactionError>> {
    let id = &run.plan.agents[a.slot].id;
    let outcome = Client::new(user, run)
        .status(id, &a.token, &StatusRequest::new(status))
        .await?;
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
        work,
        responded: false,
        respond_at: now + run.wall(respond_in),
        next_status: None,
        transfer_to,
    });
}

fn drop_chat(run: &RunState, a: &mut Agent, i: usize) {
    progress(run, a, Instant::now());
    a.chats.swap_remove(i);
}

async fn perform(
    user: &mut GooseUser,
    run: &RunState,
    a: &mut Agent,
    action: Action,
) -> TransactionResult {
    match action {
        Action::Accept(i) => {
            let p = a.pending.swap_remove(i);
            let outcome = Client::new(user, run).accept(&p.offer_id, &a.token).await?;
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
            let outcome = Client::new(user, run)
                .agent_message(&a.chats[i].chat_id, &a.token, text)
                .await?;
            match outcome {
                Outcome::Done(_) => {
                    let c = &mut a.chats[i];
                    c.responded = true;
                    c.next_status = run.status_every.map(|d| Instant::now() + d);
                }
                Outcome::Refused(r) if matches!(r.status, 404 | 409) => drop_chat(run, a, i),
                _ => {}
            }
        }
        Action::Finish(i) => finish(user, run, a, i).await?,
    }
    Ok(())
}

/// Ends chat `i` whose work is done: transfers it (at the profile's share) or closes it. A
/// chat that ended meanwhile is dropped; a full target queue makes the agent close it instead.
async fn finish(
    user: &mut GooseUser,
    run: &RunState,
    a: &mut Agent,
    i: usize,
) -> TransactionResult {
    let c = &a.chats[i];
    let mut api = Client::new(user, run);
    let Some(to) = c.transfer_to else {
        let close = CloseRequest::new(Resolution::Resolved, None);
        let outcome = api.close(&c.chat_id, &a.token, &close).await?;
        if matches!(outcome, Outcome::Done(_)) || outcome.refused(404) || outcome.refused(409) {
            drop_chat(run, a, i);
        }
        return Ok(());
    };
    let transfer = TransferRequest {
        queue: Some(run.queue(to).name.clone()),
        agent: None,
        note: Some("needs the other team".into()),
    };
    match api.transfer(&c.chat_id, &a.token, &transfer).await? {
        Outcome::Done(_) => {
            run.rec().offers.transfers += 1;
            drop_chat(run, a, i);
        }
        Outcome::Refused(r) if r.status == 503 => a.chats[i].transfer_to = None,
        Outcome::Refused(r) if matches!(r.status, 404 | 409) => drop_chat(run, a, i),
        _ => {}
    }
    Ok(())
}

/// Long-polls the inbox until the next action is due (at most [`MAX_POLL`]) and takes in
/// what it holds.
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
    if wait < Duration::from_millis(2) {
        tokio::time::sleep(wait).await;
        return Ok(());
    }
    let id = &run.plan.agents[a.slot].id;
    let Outcome::Done(inbox) = Client::new(user, run).inbox(id, &a.token, wait).await? else {
        return Ok(());
    };
    let arrived = Instant::now();
    if inbox.status == AgentStatus::Away && a.on_duty && a.away_until.is_none() {
        a.away_until = Some(arrived + run.wall(AWAY_RETURN_SECS));
    }
    // A customer who left an active chat ends the agent's work on it.
    for event in &inbox.events {
        if let Some(i) = a.chats.iter().position(|c| c.chat_id == event.chat_id) {
            run.rec().offers.customers_left += 1;
            drop_chat(run, a, i);
        }
    }
    take_offers(user, run, a, &inbox, arrived).await?;
    let listed: HashSet<&str> = inbox.offers.iter().map(|o| o.offer_id.as_str()).collect();
    let pending = &a.pending;
    a.seen
        .retain(|id| listed.contains(id.as_str()) || pending.iter().any(|p| &p.offer_id == id));
    Ok(())
}

/// Takes the inbox's new offers and assignments: each one's route latency is recorded;
/// an assignment is held at once, an offer accepted after a sampled delay, or left to lapse
/// when that delay runs past its deadline.
async fn take_offers(
    user: &mut GooseUser,
    run: &RunState,
    a: &mut Agent,
    inbox: &Inbox,
    arrived: Instant,
) -> TransactionResult {
    for o in &inbox.offers {
        if !a.seen.insert(o.offer_id.clone()) {
            continue;
        }
        let Some(queue) = run.queue_index(&o.queue) else {
            run.rec().error(format!(
                "poll_offers: offer {} in an unknown queue {:?}",
                o.offer_id, o.queue
            ));
            continue;
        };
        record_route(user, run, o).await?;
        if o.kind == OfferKind::Assignment {
            hold(run, a, o.chat_id.clone(), queue, o.transfers);
            continue;
        }
        let delay = run
            .queue(queue)
            .accept_delay
            .as_ref()
            .map_or(0.0, |m| m.sample(&mut a.rng));
        let deadline = o.deadline.unwrap_or(f64::INFINITY);
        if inbox.server_time + delay / run.scale < deadline {
            a.pending.push(Pending {
                offer_id: o.offer_id.clone(),
                chat_id: o.chat_id.clone(),
                queue,
                transfers: o.transfers,
                accept_at: arrived + run.wall(delay),
            });
        } else {
            run.rec().offers.left_to_lapse += 1;
        }
    }
    Ok(())
}

/// Counts a delivery and records its route latency (`delivered_at - offered_at`, wall time).
async fn record_route(user: &mut GooseUser, run: &RunState, o: &Offer) -> TransactionResult {
    let route = o.delivered_at - o.offered_at;
    {
        let mut rec = run.rec();
        rec.offers.delivered += 1;
        record_secs(&mut rec.route_us, route);
    }
    user.record_custom_request_duration(
        "CHAT",
        "route_latency",
        duration_of_secs(route),
        true,
        None,
        None,
    )
    .await?;
    Ok(())
}
