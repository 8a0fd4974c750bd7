//! What a work poll brings: the chats whose customer left, and new offers and assignments
//! (route latency recorded, offers accepted after a sampled delay or left to lapse).

use std::collections::HashSet;
use std::time::Instant;

use goose::prelude::*;
use serde_json::Value;

use super::{Agent, Pending, drop_chat, hold};
use crate::loadtest::run_state::{RunState, duration_of_secs, record_secs};
use crate::loadtest::target::{Pointer, WorkPoll, read};

/// Stops work on chats whose customer left: those the poll names as gone, or, when the poll
/// lists every chat the agent holds, those missing from it.
pub(super) fn drop_gone(run: &RunState, a: &mut Agent, work: &WorkPoll, body: &Value) {
    let gone: Vec<String> = match &work.gone {
        Some((items, chat)) => read::items(body, items)
            .iter()
            .filter_map(|e| read::text(e, chat))
            .collect(),
        None => Vec::new(),
    };
    let listed: HashSet<String> = if work.snapshot {
        read::items(body, &work.items)
            .iter()
            .filter_map(|i| read::text(i, &work.chat))
            .collect()
    } else {
        HashSet::new()
    };
    let mut i = 0;
    while i < a.chats.len() {
        let id = &a.chats[i].chat_id;
        if gone.contains(id) || (work.snapshot && !listed.contains(id)) {
            run.rec().offers.customers_left += 1;
            drop_chat(run, a, i);
        } else {
            i += 1;
        }
    }
}

/// Takes the poll's new offers and assignments: each one's route latency is recorded when the
/// target reads it; an assignment is held at once, an offer accepted after a sampled delay,
/// or left to lapse when that delay runs past its deadline.
pub(super) async fn take_work(
    user: &mut GooseUser,
    run: &RunState,
    a: &mut Agent,
    work: &WorkPoll,
    body: &Value,
    arrived: Instant,
) -> TransactionResult {
    let items = read::items(body, &work.items);
    let server_time = work
        .server_time
        .as_ref()
        .and_then(|p| read::number(body, p));
    let mut listed = HashSet::with_capacity(items.len());
    for item in items {
        let Some(chat_id) = read::text(item, &work.chat) else {
            run.rec().error(format!(
                "{}: a work item without {}",
                call_name(run),
                work.chat
            ));
            continue;
        };
        let offer_id = work.offer.as_ref().and_then(|p| read::text(item, p));
        let key = offer_id.clone().unwrap_or_else(|| chat_id.clone());
        listed.insert(key.clone());
        if !a.seen.insert(key) {
            continue;
        }
        let Some(queue) = queue_of(run, a, work, item) else {
            continue;
        };
        record_route(user, run, work, item).await?;
        let transfers = work
            .transfers
            .as_ref()
            .and_then(|p| read::count(item, p))
            .unwrap_or(0) as u32;
        let assignment = match &work.assignment {
            Some(m) => read::matches(item, m),
            None => true,
        };
        let Some(offer_id) = offer_id.filter(|_| run.target.offers() && !assignment) else {
            hold(run, a, chat_id, queue, transfers);
            continue;
        };
        let delay = run
            .queue(queue)
            .accept_delay
            .as_ref()
            .map_or(0.0, |m| m.sample(&mut a.rng));
        let deadline = work.deadline.as_ref().and_then(|p| read::number(item, p));
        let in_time = match (server_time, deadline) {
            (Some(now), Some(deadline)) => now + delay / run.scale < deadline,
            _ => true,
        };
        if in_time {
            a.pending.push(Pending {
                offer_id,
                chat_id,
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

fn call_name(run: &RunState) -> &str {
    &run.target.agent.wait_work.last().name
}

/// The profile queue of a work item: named by the item, or the only queue the agent's group
/// serves.
fn queue_of(run: &RunState, a: &Agent, work: &WorkPoll, item: &Value) -> Option<usize> {
    if let Some(pointer) = &work.queue {
        let name = read::text(item, pointer);
        let queue = name.as_deref().and_then(|n| run.queue_index(n));
        if queue.is_none() {
            run.rec().error(format!(
                "{}: a work item in an unknown queue {:?}",
                call_name(run),
                name.unwrap_or_default()
            ));
        }
        return queue;
    }
    let served = run.queues_of_group(a.group);
    if served.len() != 1 {
        run.rec().error(format!(
            "{}: work items name no queue and group {} serves {} queues; add queue =              \"/pointer\" to the target's work",
            call_name(run),
            run.group(a.group).name,
            served.len()
        ));
    }
    served.first().copied()
}

/// Counts a delivery and records its route latency (`delivered_at - offered_at`, wall time)
/// when the item has both.
async fn record_route(
    user: &mut GooseUser,
    run: &RunState,
    work: &WorkPoll,
    item: &Value,
) -> TransactionResult {
    let time = |p: &Option<Pointer>| p.as_ref().and_then(|p| read::number(item, p));
    let route = match (time(&work.offered_at), time(&work.delivered_at)) {
        (Some(offered), Some(delivered)) => Some(delivered - offered),
        _ => None,
    };
    {
        let mut rec = run.rec();
        rec.offers.delivered += 1;
        if let Some(route) = route {
            record_secs(&mut rec.route_us, route);
        }
    }
    if let Some(route) = route {
        user.record_custom_request_duration(
            "CHAT",
            "route_latency",
            duration_of_secs(route),
            true,
            None,
            None,
        )
        .await?;
    }
    Ok(())
}
