//! The agent user: logs in (`POST .../login` with the operator token, if any, for a token of
//! its own), registers with its group's skills and cap, long-polls its inbox, accepts each
//! offer after a sampled accept delay (counted from delivery, so route latency adds to the
//! wait as it would for a person), sends the first response after a sampled delay and status
//! messages while working, and closes (or transfers, at the profile's share) when the chat's
//! sampled work is done, or stops at once when the inbox says the customer left. Work progresses at rate 1 / f(n) while the agent holds n chats, the
//! profile's concurrency slowdown, exactly as in the simulator. Agents log in or out at interval
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
use serde_json::json;

use super::http::{Auth, call};
use super::run_state::{Endpoint, RunState, duration_of_secs, record_secs};
use super::schedule::AGENT_STREAM;
use super::{BoxedStep, LoadTestError};
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
    transfers: u64,
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
        let no = run.next_agent.fetch_add(1, Ordering::SeqCst);
        let Some(slot) = run.plan.agents.get(no) else {
            return Ok(());
        };
        let group = run.group(slot.group);
        let on = run.plan.on_duty(slot, 0.0);
        let reply = call(
            user,
            &run,
            Endpoint::AgentLogin,
            GooseMethod::Post,
            &format!("/v1/agents/{}/login", slot.id),
            Auth::Operator,
            None,
            &[],
        )
        .await?;
        let token = reply.str("token").map(str::to_string);
        let reply = match token.as_deref() {
            Some(token) if reply.ok() => {
                let body = json!({
                    "status": if on { "available" } else { "offline" },
                    "skills": group.skills.iter()
                        .map(|(name, proficiency)| json!({"name": name, "proficiency": proficiency}))
                        .collect::<Vec<_>>(),
                    "concurrency": group.cap,
                });
                call(
                    user,
                    &run,
                    Endpoint::AgentStatus,
                    GooseMethod::Post,
                    &format!("/v1/agents/{}/status", slot.id),
                    Auth::Agent(token),
                    Some(&body),
                    &[],
                )
                .await?
            }
            _ => reply,
        };
        if !reply.ok() {
            let detail = reply.str("detail").unwrap_or("").to_string();
            // A refused token or fixed skills are settings to mend (exit 2), not a failed run.
            let mismatch = match (reply.status, reply.code()) {
                (401, _) => Some(
                    "it refused the operator token; give the server's token with --agent-token \
                     or CHATCAP_AGENT_TOKEN"
                        .to_string(),
                ),
                (409, "logged_in") => Some(format!(
                    "{detail} (an earlier run may still hold it: restart the server, or run it \
                     with --agent-token and give the same token here)"
                )),
                (404 | 405, _) => Some(
                    "it has no POST /v1/agents/{id}/login; serve docs/api.md's agent sessions"
                        .to_string(),
                ),
                (409, "skills_fixed") => Some(format!(
                    "{detail}; the agent is registered with other skills by an earlier run with \
                     another profile: restart the server or use its profile"
                )),
                _ => None,
            };
            let error = match mismatch {
                Some(why) => LoadTestError::Mismatch {
                    host: user.base_url.to_string(),
                    detail: format!("agent {} could not log in: {why}", slot.id),
                },
                None => {
                    let why = match reply.status {
                        0 => "no answer from the server".to_string(),
                        status => format!("{status} {}: {detail}", reply.code()),
                    };
                    LoadTestError::Run(format!("agent {} could not log in: {why}", slot.id))
                }
            };
            run.fail(error);
            return Ok(());
        }
        user.set_session_data(Some(Agent {
            slot: no,
            token: token.unwrap_or_default(),
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

pub(crate) fn logout(user: &mut GooseUser, run: Arc<RunState>) -> BoxedStep<'_> {
    Box::pin(async move {
        let Some(Some(a)) = user.get_session_data::<Option<Agent>>().cloned() else {
            return Ok(());
        };
        let id = run.plan.agents[a.slot].id.clone();
        call(
            user,
            &run,
            Endpoint::AgentStatus,
            GooseMethod::Post,
            &format!("/v1/agents/{id}/status"),
            Auth::Agent(&a.token),
            Some(&json!({"status": "offline"})),
            &[],
        )
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
        if set_status(user, run, a, if want { "available" } else { "offline" }).await? {
            a.on_duty = want;
            a.away_until = None;
        }
        return Ok(());
    }
    if a.on_duty && a.away_until.is_some_and(|u| now >= u) {
        if set_status(user, run, a, "available").await? {
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
    status: &str,
) -> Result<bool, Box<TransactionError>> {
    let id = &run.plan.agents[a.slot].id;
    let reply = call(
        user,
        run,
        Endpoint::AgentStatus,
        GooseMethod::Post,
        &format!("/v1/agents/{id}/status"),
        Auth::Agent(&a.token),
        Some(&json!({ "status": status })),
        &[],
    )
    .await?;
    Ok(reply.ok())
}

/// Starts working on a chat just answered (accepted or assigned).
fn hold(run: &RunState, a: &mut Agent, chat_id: String, queue: usize, transfers: u64) {
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
    let token = a.token.clone();
    let auth = Auth::Agent(&token);
    let gone: &[(u16, &str)] = &[(409, ""), (404, "")];
    match action {
        Action::Accept(i) => {
            let p = a.pending.swap_remove(i);
            let reply = call(
                user,
                run,
                Endpoint::AcceptOffer,
                GooseMethod::Post,
                &format!("/v1/offers/{}/accept", p.offer_id),
                auth,
                None,
                gone,
            )
            .await?;
            if reply.ok() {
                run.rec().offers.accepted += 1;
                hold(run, a, p.chat_id, p.queue, p.transfers);
            } else {
                run.rec().offers.accept_refused += 1;
            }
        }
        Action::Respond(i) | Action::Status(i) => {
            let first = matches!(action, Action::Respond(_));
            let text = if first {
                "Hi, thanks for waiting. Let me look into it."
            } else {
                "Still on it, one moment please."
            };
            let reply = call(
                user,
                run,
                Endpoint::AgentMessage,
                GooseMethod::Post,
                &format!("/v1/chats/{}/messages", a.chats[i].chat_id),
                auth,
                Some(&json!({ "text": text })),
                gone,
            )
            .await?;
            if reply.ok() {
                let now = Instant::now();
                let c = &mut a.chats[i];
                c.responded = true;
                c.next_status = run.status_every.map(|d| now + d);
            } else if matches!(reply.status, 404 | 409) {
                drop_chat(run, a, i);
            }
        }
        Action::Finish(i) => {
            let c = a.chats[i].clone();
            let path = format!("/v1/chats/{}", c.chat_id);
            match c.transfer_to {
                Some(to) => {
                    let reply = call(
                        user,
                        run,
                        Endpoint::TransferChat,
                        GooseMethod::Post,
                        &format!("{path}/transfer"),
                        auth,
                        Some(&json!({"queue": run.queue(to).name, "note": "needs the other team"})),
                        &[(409, ""), (404, ""), (503, "queue_full")],
                    )
                    .await?;
                    if reply.ok() {
                        run.rec().offers.transfers += 1;
                        drop_chat(run, a, i);
                    } else if reply.status == 503 {
                        a.chats[i].transfer_to = None;
                    } else if matches!(reply.status, 404 | 409) {
                        drop_chat(run, a, i);
                    }
                }
                None => {
                    let reply = call(
                        user,
                        run,
                        Endpoint::CloseChat,
                        GooseMethod::Post,
                        &format!("{path}/close"),
                        auth,
                        Some(&json!({"resolution": "resolved"})),
                        gone,
                    )
                    .await?;
                    if reply.ok() || matches!(reply.status, 404 | 409) {
                        drop_chat(run, a, i);
                    }
                }
            }
        }
    }
    Ok(())
}

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
    let id = run.plan.agents[a.slot].id.clone();
    let reply = call(
        user,
        run,
        Endpoint::PollOffers,
        GooseMethod::Get,
        &format!("/v1/agents/{id}/offers?wait={:.3}", wait.as_secs_f64()),
        Auth::Agent(&a.token),
        None,
        &[],
    )
    .await?;
    if !reply.ok() {
        return Ok(());
    }
    let arrived = Instant::now();
    if reply.str("status") == Some("away") && a.on_duty && a.away_until.is_none() {
        a.away_until = Some(arrived + run.wall(AWAY_RETURN_SECS));
    }
    // A customer who left an active chat ends the agent's work on it.
    for event in reply.body["events"].as_array().into_iter().flatten() {
        if event["kind"] == "customer_left"
            && let Some(i) = a.chats.iter().position(|c| event["chat_id"] == *c.chat_id)
        {
            run.rec().offers.customers_left += 1;
            drop_chat(run, a, i);
        }
    }
    let server_time = reply.f64("server_time").unwrap_or(f64::NAN);
    let offers = reply.body["offers"].as_array().cloned().unwrap_or_default();
    let mut listed = HashSet::with_capacity(offers.len());
    for o in &offers {
        let Some(offer_id) = o["offer_id"].as_str() else {
            continue;
        };
        listed.insert(offer_id.to_string());
        if !a.seen.insert(offer_id.to_string()) {
            continue;
        }
        let (Some(chat_id), Some(queue)) = (
            o["chat_id"].as_str(),
            o["queue"].as_str().and_then(|q| run.queue_index(q)),
        ) else {
            run.rec().error(format!(
                "poll_offers: offer {offer_id} without a known chat and queue"
            ));
            continue;
        };
        let route = match (o["delivered_at"].as_f64(), o["offered_at"].as_f64()) {
            (Some(d), Some(o)) => Some(d - o),
            _ => None,
        };
        {
            let mut rec = run.rec();
            rec.offers.delivered += 1;
            if let Some(r) = route {
                record_secs(&mut rec.route_us, r);
            }
        }
        if let Some(r) = route {
            user.record_custom_request_duration(
                "CHAT",
                "route_latency",
                duration_of_secs(r),
                true,
                None,
                None,
            )
            .await?;
        }
        let transfers = o["transfers"].as_u64().unwrap_or(0);
        if o["kind"] == "assignment" {
            hold(run, a, chat_id.to_string(), queue, transfers);
            continue;
        }
        let delay = run
            .queue(queue)
            .accept_delay
            .as_ref()
            .map_or(0.0, |m| m.sample(&mut a.rng));
        let deadline = o["deadline"].as_f64().unwrap_or(f64::INFINITY);
        if server_time + delay / run.scale < deadline || server_time.is_nan() {
            a.pending.push(Pending {
                offer_id: offer_id.to_string(),
                chat_id: chat_id.to_string(),
                queue,
                transfers,
                accept_at: arrived + run.wall(delay),
            });
        } else {
            run.rec().offers.left_to_lapse += 1;
        }
    }
    let pending = &a.pending;
    a.seen
        .retain(|id| listed.contains(id) || pending.iter().any(|p| &p.offer_id == id));
    Ok(())
}
