//! The vocabulary of a target file, checked: methods, statuses and refusal meanings, chat
//! states and agent statuses, the JSON pointers, and the operation-specific readings of
//! answers (a message poll's items and cursor, a work poll's items, the final view's fields,
//! the backend's counts).

use std::collections::BTreeMap;

use serde_json::Value;

use super::raw::{Pointers, RawCall, RawMatch};
use super::{
    Match, Meaning, MessagePoll, Method, Pointer, StatsReading, TimeFormat, View, WorkPoll,
};
use crate::api::ChatState;

const COUNTS: [&str; 9] = [
    "created",
    "queued",
    "offered",
    "active",
    "live",
    "closed",
    "abandoned",
    "rejected",
    "ended",
];

/// An optional pointer, compiled.
fn opt(text: &Option<String>) -> Option<Pointer> {
    text.as_deref().map(Pointer::new)
}

pub(super) fn check_pointer(pointer: &str, place: &str) -> Result<(), String> {
    if pointer.is_empty() || pointer.starts_with('/') {
        return Ok(());
    }
    Err(format!(
        "{place}: {pointer:?} is not a JSON pointer; pointers start with `/`, e.g. \"/{}\"",
        pointer.replace('.', "/")
    ))
}

fn matcher(raw: &RawMatch, place: &str) -> Result<Match, String> {
    check_pointer(&raw.pointer, place)?;
    let value = serde_json::to_value(&raw.equals).map_err(|e| format!("{place}: {e}"))?;
    Ok(Match {
        pointer: Pointer::new(&raw.pointer),
        value,
    })
}

pub(super) fn message_poll(raw: &RawCall) -> Result<MessagePoll, String> {
    let items = raw.items.clone().ok_or(
        "the message poll names no items; add items = \"/pointer/to/messages\" (\"\" when the \
         answer is the array)",
    )?;
    check_pointer(&items, "items")?;
    let agent_items = raw.agent_items.as_ref().ok_or(
        "the message poll does not say which messages are the agent's; add agent_items = { \
         pointer = \"/from\", equals = \"agent\" }",
    )?;
    for p in [&raw.cursor, &raw.item_cursor].into_iter().flatten() {
        check_pointer(p, "cursor")?;
    }
    Ok(MessagePoll {
        items: Pointer::new(&items),
        agent_items: matcher(agent_items, "agent_items")?,
        cursor: opt(&raw.cursor),
        item_cursor: opt(&raw.item_cursor),
    })
}

pub(super) fn work_poll(raw: &RawCall) -> Result<WorkPoll, String> {
    let items = raw
        .items
        .clone()
        .ok_or("the work poll names no items; add items = \"/pointer/to/offers\"")?;
    let work = raw.work.as_ref().ok_or(
        "the work poll does not say how to read an item; add work = { chat = \"/pointer/to/id\" }",
    )?;
    let gone = match &raw.gone {
        Some(g) => {
            check_pointer(&g.items, "gone.items")?;
            check_pointer(&g.chat, "gone.chat")?;
            Some((Pointer::new(&g.items), Pointer::new(&g.chat)))
        }
        None => None,
    };
    let poll = WorkPoll {
        items: Pointer::new(&items),
        chat: Pointer::new(&work.chat),
        offer: opt(&work.offer),
        queue: opt(&work.queue),
        transfers: opt(&work.transfers),
        deadline: opt(&work.deadline),
        offered_at: opt(&work.offered_at),
        delivered_at: opt(&work.delivered_at),
        server_time: opt(&work.server_time),
        assignment: work
            .assignment
            .as_ref()
            .map(|m| matcher(m, "work.assignment"))
            .transpose()?,
        gone,
        snapshot: raw.snapshot,
    };
    check_pointer(poll.items.as_str(), "items")?;
    for p in poll.item_pointers().chain(&poll.server_time) {
        check_pointer(p.as_str(), "work")?;
    }
    Ok(poll)
}

pub(super) fn view(raw: &RawCall) -> Result<View, String> {
    let v = raw.view.as_ref().ok_or(
        "the final view does not say where its state is; add view = { state = \"/state\" }",
    )?;
    let time = match raw.time.as_deref() {
        None | Some("unix") => TimeFormat::Unix,
        Some("unix_ms") => TimeFormat::UnixMs,
        Some("rfc3339") => TimeFormat::Rfc3339,
        Some(other) => {
            return Err(format!(
                "time = {other:?}: write \"unix\" (seconds), \"unix_ms\" or \"rfc3339\""
            ));
        }
    };
    let legs = match &v.legs {
        Some(l) => {
            for p in [Some(&l.items), Some(&l.answered_at), l.ended_at.as_ref()]
                .into_iter()
                .flatten()
            {
                check_pointer(p, "view.legs")?;
            }
            Some((
                Pointer::new(&l.items),
                Pointer::new(&l.answered_at),
                opt(&l.ended_at),
            ))
        }
        None => None,
    };
    let view = View {
        state: Pointer::new(&v.state),
        created_at: opt(&v.created_at),
        first_response_at: opt(&v.first_response_at),
        closed_at: opt(&v.closed_at),
        transfers: opt(&v.transfers),
        csat: opt(&v.csat),
        legs,
        time,
    };
    for p in view.fields() {
        check_pointer(p.as_str(), "view")?;
    }
    Ok(view)
}

pub(super) fn stats_reading(raw: &RawCall) -> Result<StatsReading, String> {
    let mut counts = Vec::new();
    for (name, pointers) in &raw.counts {
        if !COUNTS.contains(&name.as_str()) {
            return Err(format!(
                "counts.{name}: unknown count; the counts are {}",
                COUNTS.join(", ")
            ));
        }
        let list = match pointers {
            Pointers::One(p) => vec![p.clone()],
            Pointers::Sum(ps) => ps.clone(),
        };
        for p in &list {
            check_pointer(p, &format!("counts.{name}"))?;
        }
        counts.push((
            name.clone(),
            list.iter().map(|p| Pointer::new(p)).collect::<Vec<_>>(),
        ));
    }
    let check = raw.check.as_ref();
    let field = |f: fn(&super::raw::RawCheck) -> &Option<String>| check.and_then(|c| f(c).clone());
    let fields = [
        field(|c| &c.time_scale),
        field(|c| &c.profile),
        field(|c| &c.queues),
        raw.route_latency_buckets.clone(),
    ];
    for p in fields.iter().flatten() {
        check_pointer(p, "run.stats")?;
    }
    let [time_scale, profile, queues, route_latency_buckets] = fields.map(|f| opt(&f));
    let reading = StatsReading {
        counts,
        time_scale,
        profile,
        queues,
        route_latency_buckets,
    };
    Ok(reading)
}

pub(super) fn method(text: &str) -> Result<Method, String> {
    Ok(match text.to_ascii_uppercase().as_str() {
        "GET" => Method::Get,
        "POST" => Method::Post,
        "PUT" => Method::Put,
        "PATCH" => Method::Patch,
        "DELETE" => Method::Delete,
        _ => {
            return Err(format!(
                "method {text:?} is not one of GET, POST, PUT, PATCH, DELETE"
            ));
        }
    })
}

pub(super) fn status_code(text: &str) -> Result<u16, String> {
    text.parse::<u16>()
        .ok()
        .filter(|s| (100..600).contains(s))
        .ok_or_else(|| format!("{text:?} is not an HTTP status; write e.g. 409"))
}

pub(super) fn refusals(
    op: &str,
    raw: &BTreeMap<String, String>,
) -> Result<Vec<(u16, Meaning)>, String> {
    raw.iter()
        .map(|(status, meaning)| {
            let meaning = match meaning.as_str() {
                "ended" => Meaning::Ended,
                "rejected" if op == "customer.start" => Meaning::Rejected,
                "rejected" => {
                    return Err(format!(
                        "refused {status} = \"rejected\" belongs to customer.start (a chat \
                         refused at the door); use \"ended\" or \"expected\" here"
                    ));
                }
                "expected" => Meaning::Expected,
                other => {
                    return Err(format!(
                        "refused {status} = {other:?}: the meanings are \"ended\" (the chat or \
                         offer is gone), \"rejected\" (customer.start: queue full), \
                         \"expected\""
                    ));
                }
            };
            Ok((status_code(status)?, meaning))
        })
        .collect()
}

pub(super) fn states(
    raw: &BTreeMap<String, String>,
) -> Result<BTreeMap<String, ChatState>, String> {
    raw.iter()
        .map(|(theirs, ours)| {
            let state =
                serde_json::from_value::<ChatState>(Value::String(ours.clone())).map_err(|_| {
                    format!(
                        "[states] {theirs} = {ours:?}: chatcap's states are queued, offered, \
                         active, closed, abandoned, rejected"
                    )
                })?;
            Ok((theirs.clone(), state))
        })
        .collect()
}

pub(super) fn agent_status(raw: &BTreeMap<String, String>) -> Result<[String; 3], String> {
    let mut out = ["available", "offline", "away"].map(String::from);
    for (ours, theirs) in raw {
        let i = match ours.as_str() {
            "available" => 0,
            "offline" => 1,
            "away" => 2,
            _ => {
                return Err(format!(
                    "[agent_status] {ours}: the statuses are available, offline and away"
                ));
            }
        };
        out[i] = theirs.clone();
    }
    Ok(out)
}
