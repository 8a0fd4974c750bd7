//! Routing core: unit tests for each policy and offer-lifecycle path, error paths that must
//! leave the router unchanged, and property tests over random input sequences.

use chatcap::routing::{
    AcceptMode, AgentConfig, AgentId, AgentSelection, AgentStatus, AgentView, ChatId, ChatOrder,
    ChatState, ChatView, Decision, Decisions, OfferSeq, QueueConfig, QueueId,
    RESOLUTION_CUSTOMER_LEFT, RouteError, Router, RouterConfig, SECOND, StateCounts, Time,
    TransferPlace, TransferTarget,
};
use proptest::prelude::*;
use proptest::strategy::ValueTree;

const S: Time = SECOND;

fn offers(timeout_secs: u64, misses_before_away: u32) -> AcceptMode {
    AcceptMode::Offer {
        timeout: timeout_secs * S,
        misses_before_away,
    }
}

fn weighted(secs: u64) -> ChatOrder {
    ChatOrder::Weighted {
        priority_weight: secs * S,
    }
}

fn router(selection: AgentSelection, accept: AcceptMode, order: ChatOrder) -> Router {
    Router::new(RouterConfig {
        selection,
        order,
        accept,
        transfer_place: TransferPlace::Keep,
    })
}

fn queue(r: &mut Router, name: &str, skill: &str, priority: i32, max_len: Option<u32>) -> QueueId {
    r.add_queue(QueueConfig {
        name: name.into(),
        skill: skill.into(),
        priority,
        max_len,
    })
    .unwrap()
}

fn agent(r: &mut Router, name: &str, skills: &[(&str, u8)], cap: u32) -> AgentId {
    let skills = skills.iter().map(|(s, p)| (s.to_string(), *p)).collect();
    r.add_agent(AgentConfig {
        name: name.into(),
        skills,
        cap,
    })
    .unwrap()
}

fn available(r: &mut Router, now: Time, a: AgentId) {
    r.set_status(now, a, AgentStatus::Available, &mut Vec::new())
        .unwrap();
}

fn arrive(r: &mut Router, now: Time, q: QueueId, priority: i32) -> (ChatId, Vec<Decision>) {
    let mut out = Vec::new();
    let chat = r.arrive(now, q, priority, &mut out).unwrap();
    r.check_invariants().unwrap();
    (chat, out)
}

/// The agent a decision list hands `chat` to (offer or assignment), if any.
fn routed_to(out: &[Decision], chat: ChatId) -> Option<AgentId> {
    out.iter().find_map(|d| match *d {
        Decision::Offered { chat: c, agent, .. } | Decision::Assigned { chat: c, agent }
            if c == chat =>
        {
            Some(agent)
        }
        _ => None,
    })
}

fn offer_of(out: &[Decision], chat: ChatId) -> (AgentId, OfferSeq, Time) {
    out.iter()
        .find_map(|d| match *d {
            Decision::Offered {
                chat: c,
                agent,
                offer,
                deadline,
            } if c == chat => Some((agent, offer, deadline)),
            _ => None,
        })
        .expect("an offer")
}

fn state(r: &Router, chat: ChatId) -> ChatState {
    r.chat(chat).unwrap().state
}

/// Everything observable, to prove an error changed nothing.
#[derive(Debug, PartialEq)]
struct Snapshot {
    counts: StateCounts,
    chats: Vec<Option<ChatView>>,
    agents: Vec<Option<AgentView>>,
    positions: Vec<Option<u32>>,
}

fn snapshot(r: &Router, chats: &[ChatId]) -> Snapshot {
    Snapshot {
        counts: r.counts(),
        chats: chats.iter().map(|c| r.chat(*c)).collect(),
        agents: (0..r.num_agents() as u32)
            .map(|a| r.agent(AgentId(a)))
            .collect(),
        positions: chats.iter().map(|c| r.position(*c)).collect(),
    }
}

// ----- agent selection -----

#[test]
fn least_busy_takes_lowest_load_ratio_then_longest_idle() {
    let mut r = router(AgentSelection::LeastBusy, AcceptMode::Auto, weighted(60));
    let q = queue(&mut r, "q", "s", 0, None);
    let a = agent(&mut r, "a", &[("s", 5)], 3);
    let b = agent(&mut r, "b", &[("s", 5)], 2);
    available(&mut r, 0, a);
    available(&mut r, S, b);
    let order: Vec<AgentId> = (0..5)
        .map(|i| {
            let (c, out) = arrive(&mut r, (3 + i) * S, q, 0);
            routed_to(&out, c).unwrap()
        })
        .collect();
    // Both empty: a idle longer. Then a 1/3 > b 0/2; a 1/3 < b 1/2; a 2/3 > b 1/2; b full.
    assert_eq!(order, vec![a, b, a, b, a]);
    assert_eq!(r.agent(a).unwrap().active, 3);
    assert_eq!(r.agent(b).unwrap().active, 2);
    let (c, out) = arrive(&mut r, 9 * S, q, 0);
    assert_eq!(routed_to(&out, c), None);
}

#[test]
fn least_busy_first_chat_goes_to_longest_idle_on_equal_load() {
    let mut r = router(AgentSelection::LeastBusy, AcceptMode::Auto, weighted(60));
    let q = queue(&mut r, "q", "s", 0, None);
    let a = agent(&mut r, "a", &[("s", 5)], 2);
    let b = agent(&mut r, "b", &[("s", 5)], 2);
    available(&mut r, 5 * S, a);
    available(&mut r, S, b);
    let (c1, out) = arrive(&mut r, 10 * S, q, 0);
    assert_eq!(routed_to(&out, c1), Some(b));
    let (c2, out) = arrive(&mut r, 11 * S, q, 0);
    assert_eq!(routed_to(&out, c2), Some(a));
    // Equal load again (1/2 each): b is still idle since 1 s.
    let (c3, out) = arrive(&mut r, 12 * S, q, 0);
    assert_eq!(routed_to(&out, c3), Some(b));
}

#[test]
fn longest_idle_ignores_load() {
    let mut r = router(AgentSelection::LongestIdle, AcceptMode::Auto, weighted(60));
    let q = queue(&mut r, "q", "s", 0, None);
    let a = agent(&mut r, "a", &[("s", 5)], 3);
    let b = agent(&mut r, "b", &[("s", 5)], 3);
    available(&mut r, 0, a);
    available(&mut r, S, b);
    let mut chats = Vec::new();
    let mut got = Vec::new();
    for i in 0..4 {
        let (c, out) = arrive(&mut r, (10 + i) * S, q, 0);
        got.push(routed_to(&out, c).unwrap());
        chats.push(c);
    }
    // a stays the longest idle (no chat of a ended) until it is full.
    assert_eq!(got, vec![a, a, a, b]);
    // A close makes a idle since 20 s, so b (idle since 1 s) is now the longer idle.
    let mut out = Vec::new();
    r.close(20 * S, chats[0], 1, None, &mut out).unwrap();
    let (c, out) = arrive(&mut r, 21 * S, q, 0);
    assert_eq!(routed_to(&out, c), Some(b));
    r.check_invariants().unwrap();
}

#[test]
fn round_robin_rotates_in_fixed_order() {
    let mut r = router(AgentSelection::RoundRobin, AcceptMode::Auto, weighted(60));
    let q = queue(&mut r, "q", "s", 0, None);
    let ids: Vec<AgentId> = ["a", "b", "c"]
        .iter()
        .map(|n| agent(&mut r, n, &[("s", 5)], 3))
        .collect();
    // Log in in reverse: the rotation still follows the fixed order.
    for a in ids.iter().rev() {
        available(&mut r, 0, *a);
    }
    let got: Vec<AgentId> = (0..7)
        .map(|i| {
            let (c, out) = arrive(&mut r, i * S, q, 0);
            routed_to(&out, c).unwrap()
        })
        .collect();
    assert_eq!(
        got,
        vec![ids[0], ids[1], ids[2], ids[0], ids[1], ids[2], ids[0]]
    );
}

#[test]
fn most_skilled_prefers_proficiency_then_least_busy() {
    let mut r = router(AgentSelection::MostSkilled, AcceptMode::Auto, weighted(60));
    let q = queue(&mut r, "q", "s", 0, None);
    let novice = agent(&mut r, "novice", &[("s", 3)], 2);
    let expert1 = agent(&mut r, "expert1", &[("s", 9)], 2);
    let expert2 = agent(&mut r, "expert2", &[("s", 9), ("t", 1)], 2);
    for a in [novice, expert1, expert2] {
        available(&mut r, 0, a);
    }
    let got: Vec<AgentId> = (0..6)
        .map(|i| {
            let (c, out) = arrive(&mut r, (i + 1) * S, q, 0);
            routed_to(&out, c).unwrap()
        })
        .collect();
    assert_eq!(
        got,
        vec![expert1, expert2, expert1, expert2, novice, novice]
    );
}

// ----- offers -----

#[test]
fn offer_accept_then_stale_timeout_changes_nothing() {
    let mut r = router(AgentSelection::LeastBusy, offers(30, 1), weighted(60));
    let q = queue(&mut r, "q", "s", 0, None);
    let a = agent(&mut r, "a", &[("s", 5)], 2);
    available(&mut r, 0, a);
    let (c, out) = arrive(&mut r, 10 * S, q, 0);
    let (to, offer, deadline) = offer_of(&out, c);
    assert_eq!((to, deadline), (a, 40 * S));
    assert_eq!(state(&r, c), ChatState::Offered);
    assert_eq!(r.agent(a).unwrap().pending_offers, 1);
    let mut out = Vec::new();
    r.accept(15 * S, c, a, &mut out).unwrap();
    assert_eq!(
        out,
        vec![
            Decision::Assigned { chat: c, agent: a },
            Decision::LoadChanged {
                agent: a,
                active: 1
            }
        ]
    );
    let view = r.chat(c).unwrap();
    assert_eq!(
        (view.state, view.answered_at, view.offered_at),
        (ChatState::Active, Some(15 * S), Some(10 * S))
    );
    let before = snapshot(&r, &[c]);
    let mut out = Vec::new();
    r.offer_timeout(deadline, c, offer, &mut out).unwrap();
    assert!(out.is_empty());
    assert_eq!(snapshot(&r, &[c]), before);
    r.check_invariants().unwrap();
}

#[test]
fn decline_reoffers_to_another_agent_and_counts_a_miss() {
    let mut r = router(AgentSelection::RoundRobin, offers(30, 2), weighted(60));
    let q = queue(&mut r, "q", "s", 0, None);
    let a = agent(&mut r, "a", &[("s", 5)], 1);
    let b = agent(&mut r, "b", &[("s", 5)], 1);
    available(&mut r, 0, a);
    available(&mut r, 0, b);
    let (c, out) = arrive(&mut r, S, q, 0);
    let (first, offer1, _) = offer_of(&out, c);
    assert_eq!(first, a);
    let mut out = Vec::new();
    r.decline(2 * S, c, a, &mut out).unwrap();
    let (second, offer2, deadline2) = offer_of(&out, c);
    assert_eq!(second, b);
    assert!(offer2 > offer1);
    assert_eq!(deadline2, 32 * S);
    let view_a = r.agent(a).unwrap();
    assert_eq!(
        (view_a.misses, view_a.status, view_a.pending_offers),
        (1, AgentStatus::Available, 0)
    );
    // The lapsed offer can no longer be accepted by a, and the stale timer does nothing.
    let before = snapshot(&r, &[c]);
    assert_eq!(
        r.accept(3 * S, c, a, &mut Vec::new()),
        Err(RouteError::OfferExpired { chat: c, agent: a })
    );
    r.offer_timeout(31 * S, c, offer1, &mut Vec::new()).unwrap();
    assert_eq!(snapshot(&r, &[c]), before);
    r.accept(4 * S, c, b, &mut Vec::new()).unwrap();
    r.check_invariants().unwrap();
}

#[test]
fn decline_with_no_other_agent_requeues_and_skips_until_next_pass() {
    let mut r = router(AgentSelection::LeastBusy, offers(30, 3), weighted(60));
    let q = queue(&mut r, "q", "s", 0, None);
    let a = agent(&mut r, "a", &[("s", 5)], 1);
    available(&mut r, 0, a);
    let (c, _) = arrive(&mut r, S, q, 0);
    let mut out = Vec::new();
    r.decline(2 * S, c, a, &mut out).unwrap();
    assert!(matches!(out.as_slice(), [Decision::Queued { chat, position: 1, .. }] if *chat == c));
    let view = r.chat(c).unwrap();
    assert_eq!(
        (view.state, view.queued_at, view.skipped_agent),
        (ChatState::Queued, S, Some(a))
    );
    r.check_invariants().unwrap();
    // A new chat behind it goes to the skipping agent.
    let (d, out) = arrive(&mut r, 3 * S, q, 0);
    assert_eq!(routed_to(&out, d), Some(a));
    // When d's offer is declined, a's routing pass may take c again (d is the one skipped now).
    let mut out = Vec::new();
    r.decline(4 * S, d, a, &mut out).unwrap();
    assert_eq!(routed_to(&out, c), Some(a));
    assert_eq!(r.chat(d).unwrap().skipped_agent, Some(a));
    assert_eq!(r.position(d), Some(1));
    r.check_invariants().unwrap();
}

#[test]
fn timeout_sets_agent_away_keeping_its_active_chats() {
    let mut r = router(AgentSelection::RoundRobin, offers(30, 1), weighted(60));
    let q = queue(&mut r, "q", "s", 0, None);
    let a = agent(&mut r, "a", &[("s", 5)], 2);
    let b = agent(&mut r, "b", &[("s", 5)], 2);
    available(&mut r, 0, a);
    let (c1, _) = arrive(&mut r, S, q, 0);
    r.accept(2 * S, c1, a, &mut Vec::new()).unwrap();
    available(&mut r, 3 * S, b);
    // Round robin: b is next (a took the last chat).
    let (c2, out) = arrive(&mut r, 4 * S, q, 0);
    assert_eq!(offer_of(&out, c2).0, b);
    let (c3, out) = arrive(&mut r, 5 * S, q, 0);
    let (to, offer, deadline) = offer_of(&out, c3);
    assert_eq!(to, a);
    let mut out = Vec::new();
    r.offer_timeout(deadline, c3, offer, &mut out).unwrap();
    assert_eq!(out[0], Decision::AgentAway { agent: a });
    assert_eq!(routed_to(&out, c3), Some(b));
    let view = r.agent(a).unwrap();
    assert_eq!(
        (view.status, view.active, view.pending_offers, view.misses),
        (AgentStatus::Away, 1, 0, 1)
    );
    assert_eq!(state(&r, c1), ChatState::Active);
    // Still able to close its chat while away; it takes nothing new.
    r.close(40 * S, c1, 1, Some(5), &mut Vec::new()).unwrap();
    let (c4, out) = arrive(&mut r, 41 * S, q, 0);
    assert_eq!(routed_to(&out, c4), None);
    assert_eq!(state(&r, c4), ChatState::Queued);
    r.check_invariants().unwrap();
}

#[test]
fn accept_at_or_after_deadline_is_expired() {
    let mut r = router(AgentSelection::LeastBusy, offers(30, 1), weighted(60));
    let q = queue(&mut r, "q", "s", 0, None);
    let a = agent(&mut r, "a", &[("s", 5)], 1);
    let b = agent(&mut r, "b", &[("s", 5)], 1);
    available(&mut r, 0, a);
    let (c, out) = arrive(&mut r, 0, q, 0);
    let (_, _, deadline) = offer_of(&out, c);
    let before = snapshot(&r, &[c]);
    assert_eq!(
        r.accept(deadline, c, a, &mut Vec::new()),
        Err(RouteError::OfferExpired { chat: c, agent: a })
    );
    assert_eq!(
        r.accept(1, c, b, &mut Vec::new()),
        Err(RouteError::NotOfferedToAgent { chat: c, agent: b })
    );
    assert_eq!(snapshot(&r, &[c]), before);
}

#[test]
fn leave_during_offer_abandons_and_refills_the_slot() {
    let mut r = router(AgentSelection::LeastBusy, offers(30, 1), weighted(60));
    let q = queue(&mut r, "q", "s", 0, None);
    let a = agent(&mut r, "a", &[("s", 5)], 1);
    available(&mut r, 0, a);
    let (c1, _) = arrive(&mut r, S, q, 0);
    let (c2, _) = arrive(&mut r, 2 * S, q, 0);
    assert_eq!(state(&r, c2), ChatState::Queued);
    let mut out = Vec::new();
    r.leave(3 * S, c1, &mut out).unwrap();
    assert_eq!(out[0], Decision::Abandoned { chat: c1 });
    assert_eq!(offer_of(&out, c2).0, a);
    let view = r.chat(c1).unwrap();
    assert_eq!(
        (view.state, view.agent, view.closed_at),
        (ChatState::Abandoned, None, Some(3 * S))
    );
    assert_eq!(r.agent(a).unwrap().misses, 0);
    let counts = r.counts();
    assert_eq!(
        (counts.created, counts.offered, counts.abandoned),
        (2, 1, 1)
    );
    r.check_invariants().unwrap();
}

#[test]
fn leave_in_every_state() {
    let mut r = router(AgentSelection::LeastBusy, AcceptMode::Auto, weighted(60));
    let q = queue(&mut r, "q", "s", 0, Some(1));
    let a = agent(&mut r, "a", &[("s", 5)], 1);
    available(&mut r, 0, a);
    let (active, _) = arrive(&mut r, S, q, 0);
    let (queued, _) = arrive(&mut r, 2 * S, q, 0);
    let (rejected, out) = arrive(&mut r, 3 * S, q, 0);
    assert_eq!(
        out,
        vec![Decision::Rejected {
            chat: rejected,
            queue: q
        }]
    );
    let mut out = Vec::new();
    r.leave(4 * S, active, &mut out).unwrap();
    assert_eq!(
        out[0],
        Decision::Closed {
            chat: active,
            agent: a
        }
    );
    assert_eq!(
        r.chat(active).unwrap().resolution,
        Some(RESOLUTION_CUSTOMER_LEFT)
    );
    // The freed slot took the queued chat; it leaves while active too.
    assert_eq!(state(&r, queued), ChatState::Active);
    for chat in [active, rejected] {
        let before = snapshot(&r, &[active, queued, rejected]);
        let err = r.leave(5 * S, chat, &mut Vec::new()).unwrap_err();
        assert!(matches!(
            err,
            RouteError::InvalidState {
                action: "leave",
                ..
            }
        ));
        assert_eq!(snapshot(&r, &[active, queued, rejected]), before);
    }
    r.check_invariants().unwrap();
}

// ----- transfers -----

fn transfer_setup(place: TransferPlace) -> (Router, ChatId, ChatId, QueueId, AgentId) {
    let mut r = Router::new(RouterConfig {
        selection: AgentSelection::LeastBusy,
        order: weighted(60),
        accept: AcceptMode::Auto,
        transfer_place: place,
    });
    let q1 = queue(&mut r, "q1", "s1", 0, None);
    let q2 = queue(&mut r, "q2", "s2", 0, None);
    let a = agent(&mut r, "a", &[("s1", 5)], 1);
    let b = agent(&mut r, "b", &[("s2", 5)], 1);
    available(&mut r, 0, a);
    available(&mut r, 0, b);
    let (c, _) = arrive(&mut r, 0, q1, 0);
    let (busy, _) = arrive(&mut r, 10 * S, q2, 0);
    let (waiting, _) = arrive(&mut r, 50 * S, q2, 0);
    assert_eq!(
        (state(&r, c), state(&r, busy), state(&r, waiting)),
        (ChatState::Active, ChatState::Active, ChatState::Queued)
    );
    (r, c, waiting, q2, a)
}

#[test]
fn transfer_to_queue_keeps_place() {
    let (mut r, c, waiting, q2, a) = transfer_setup(TransferPlace::Keep);
    let mut out = Vec::new();
    r.transfer(100 * S, c, TransferTarget::Queue(q2), &mut out)
        .unwrap();
    assert_eq!(
        out[0],
        Decision::Transferred {
            chat: c,
            to: TransferTarget::Queue(q2)
        }
    );
    assert!(out.contains(&Decision::LoadChanged {
        agent: a,
        active: 0
    }));
    let view = r.chat(c).unwrap();
    assert_eq!(
        (view.state, view.queue, view.queued_at, view.transfers),
        (ChatState::Queued, q2, 0, 1)
    );
    assert_eq!((r.position(c), r.position(waiting)), (Some(1), Some(2)));
    r.check_invariants().unwrap();
}

#[test]
fn transfer_to_queue_resets_place() {
    let (mut r, c, waiting, q2, _) = transfer_setup(TransferPlace::Reset);
    r.transfer(100 * S, c, TransferTarget::Queue(q2), &mut Vec::new())
        .unwrap();
    assert_eq!(r.chat(c).unwrap().queued_at, 100 * S);
    assert_eq!((r.position(waiting), r.position(c)), (Some(1), Some(2)));
    r.check_invariants().unwrap();
}

#[test]
fn transfer_to_agent_and_its_errors() {
    let mut r = router(AgentSelection::LeastBusy, AcceptMode::Auto, weighted(60));
    let q = queue(&mut r, "q", "s", 0, None);
    let a = agent(&mut r, "a", &[("s", 5)], 1);
    let b = agent(&mut r, "b", &[("t", 5)], 1);
    let c_agent = agent(&mut r, "c", &[("t", 5)], 1);
    available(&mut r, 0, a);
    let (chat, _) = arrive(&mut r, S, q, 0);
    let (queued, _) = arrive(&mut r, 2 * S, q, 0);
    let all = [chat, queued];
    let before = snapshot(&r, &all);
    // b is offline: refused, nothing changed.
    assert_eq!(
        r.transfer(3 * S, chat, TransferTarget::Agent(b), &mut Vec::new()),
        Err(RouteError::AgentUnavailable {
            agent: b,
            reason: "it is offline"
        })
    );
    assert_eq!(
        r.transfer(3 * S, chat, TransferTarget::Agent(a), &mut Vec::new()),
        Err(RouteError::TransferToSelf { chat, agent: a })
    );
    assert!(matches!(
        r.transfer(3 * S, queued, TransferTarget::Agent(b), &mut Vec::new()),
        Err(RouteError::InvalidState {
            state: ChatState::Queued,
            action: "transfer",
            ..
        })
    ));
    assert_eq!(
        r.transfer(
            3 * S,
            chat,
            TransferTarget::Agent(AgentId(99)),
            &mut Vec::new()
        ),
        Err(RouteError::UnknownAgent(AgentId(99)))
    );
    assert_eq!(
        r.transfer(
            3 * S,
            chat,
            TransferTarget::Queue(QueueId(7)),
            &mut Vec::new()
        ),
        Err(RouteError::UnknownQueue(QueueId(7)))
    );
    assert_eq!(snapshot(&r, &all), before);
    available(&mut r, 4 * S, b);
    available(&mut r, 4 * S, c_agent);
    let mut out = Vec::new();
    r.transfer(5 * S, chat, TransferTarget::Agent(b), &mut out)
        .unwrap();
    assert_eq!(
        out,
        vec![
            Decision::Transferred {
                chat,
                to: TransferTarget::Agent(b)
            },
            Decision::LoadChanged {
                agent: a,
                active: 0
            },
            Decision::Assigned { chat, agent: b },
            Decision::LoadChanged {
                agent: b,
                active: 1
            },
            Decision::Assigned {
                chat: queued,
                agent: a
            },
            Decision::LoadChanged {
                agent: a,
                active: 1
            },
        ]
    );
    // b is now full.
    assert_eq!(
        r.transfer(6 * S, queued, TransferTarget::Agent(b), &mut Vec::new()),
        Err(RouteError::AgentUnavailable {
            agent: b,
            reason: "its cap is full"
        })
    );
    r.check_invariants().unwrap();
}

#[test]
fn transfer_into_full_queue_is_refused() {
    let mut r = router(AgentSelection::LeastBusy, AcceptMode::Auto, weighted(60));
    let q1 = queue(&mut r, "q1", "s1", 0, None);
    let q2 = queue(&mut r, "q2", "s2", 0, Some(0));
    let a = agent(&mut r, "a", &[("s1", 5)], 1);
    available(&mut r, 0, a);
    let (chat, _) = arrive(&mut r, 0, q1, 0);
    let before = snapshot(&r, &[chat]);
    assert_eq!(
        r.transfer(S, chat, TransferTarget::Queue(q2), &mut Vec::new()),
        Err(RouteError::QueueFull {
            queue: q2,
            max_len: 0
        })
    );
    assert_eq!(snapshot(&r, &[chat]), before);
}

// ----- status, caps, queues -----

#[test]
fn draining_agent_keeps_chats_takes_none_and_goes_offline() {
    let mut r = router(AgentSelection::LeastBusy, AcceptMode::Auto, weighted(60));
    let q = queue(&mut r, "q", "s", 0, None);
    let a = agent(&mut r, "a", &[("s", 5)], 3);
    available(&mut r, 0, a);
    let (c1, _) = arrive(&mut r, S, q, 0);
    let (c2, _) = arrive(&mut r, S, q, 0);
    // Offline while holding chats is treated as draining.
    r.set_status(2 * S, a, AgentStatus::Offline, &mut Vec::new())
        .unwrap();
    assert_eq!(r.agent(a).unwrap().status, AgentStatus::Draining);
    let (c3, out) = arrive(&mut r, 3 * S, q, 0);
    assert_eq!(routed_to(&out, c3), None);
    let mut out = Vec::new();
    r.close(4 * S, c1, 1, None, &mut out).unwrap();
    assert_eq!(r.agent(a).unwrap().status, AgentStatus::Draining);
    assert_eq!(state(&r, c3), ChatState::Queued);
    let mut out = Vec::new();
    r.close(5 * S, c2, 1, None, &mut out).unwrap();
    assert_eq!(out.last(), Some(&Decision::AgentOffline { agent: a }));
    assert_eq!(r.agent(a).unwrap().status, AgentStatus::Offline);
    // Draining with nothing open goes offline at once.
    available(&mut r, 6 * S, a);
    assert_eq!(state(&r, c3), ChatState::Active);
    r.close(7 * S, c3, 1, None, &mut Vec::new()).unwrap();
    let mut out = Vec::new();
    r.set_status(8 * S, a, AgentStatus::Draining, &mut out)
        .unwrap();
    assert_eq!(out, vec![Decision::AgentOffline { agent: a }]);
    r.check_invariants().unwrap();
}

#[test]
fn cap_changes() {
    let mut r = router(AgentSelection::LeastBusy, AcceptMode::Auto, weighted(60));
    let q = queue(&mut r, "q", "s", 0, None);
    let a = agent(&mut r, "a", &[("s", 5)], 1);
    available(&mut r, 0, a);
    let (c1, _) = arrive(&mut r, S, q, 0);
    let (c2, _) = arrive(&mut r, S, q, 0);
    assert_eq!(state(&r, c2), ChatState::Queued);
    let mut out = Vec::new();
    r.set_cap(2 * S, a, 2, &mut out).unwrap();
    assert_eq!(routed_to(&out, c2), Some(a));
    let before = snapshot(&r, &[c1, c2]);
    assert_eq!(
        r.set_cap(3 * S, a, 1, &mut Vec::new()),
        Err(RouteError::CapBelowLoad {
            agent: a,
            cap: 1,
            load: 2
        })
    );
    assert!(matches!(
        r.set_cap(3 * S, a, 5000, &mut Vec::new()),
        Err(RouteError::InvalidCap { cap: 5000, .. })
    ));
    assert_eq!(snapshot(&r, &[c1, c2]), before);
    r.check_invariants().unwrap();
}

#[test]
fn full_queue_rejects_and_loss_queue_still_routes() {
    let mut r = router(AgentSelection::LeastBusy, AcceptMode::Auto, weighted(60));
    let q = queue(&mut r, "q", "s", 0, Some(1));
    let loss = queue(&mut r, "loss", "s", 0, Some(0));
    let a = agent(&mut r, "a", &[("s", 5)], 1);
    available(&mut r, 0, a);
    let (served, out) = arrive(&mut r, 0, loss, 0);
    assert_eq!(routed_to(&out, served), Some(a));
    let (waits, out) = arrive(&mut r, S, q, 0);
    assert!(matches!(
        out.as_slice(),
        [Decision::Queued { position: 1, .. }]
    ));
    let (refused, out) = arrive(&mut r, 2 * S, q, 0);
    assert_eq!(
        out,
        vec![Decision::Rejected {
            chat: refused,
            queue: q
        }]
    );
    let (lost, out) = arrive(&mut r, 3 * S, loss, 0);
    assert_eq!(
        out,
        vec![Decision::Rejected {
            chat: lost,
            queue: loss
        }]
    );
    assert_eq!(state(&r, refused), ChatState::Rejected);
    assert_eq!(state(&r, waits), ChatState::Queued);
    let counts = r.counts();
    assert_eq!(
        (
            counts.created,
            counts.active,
            counts.queued,
            counts.rejected
        ),
        (4, 1, 1, 2)
    );
}

#[test]
fn weighted_priority_order() {
    let mut r = router(AgentSelection::LeastBusy, AcceptMode::Auto, weighted(60));
    let q = queue(&mut r, "q", "s", 0, None);
    let a = agent(&mut r, "a", &[("s", 5)], 1);
    // Scores: low 0 s; high 30 - 60 = -30 s; late 90 - 60 = 30 s; same 0 s but arrived later.
    let (low, _) = arrive(&mut r, 0, q, 0);
    let (high, _) = arrive(&mut r, 30 * S, q, 1);
    let (late, _) = arrive(&mut r, 90 * S, q, 1);
    let (tie, _) = arrive(&mut r, 120 * S, q, 2);
    assert_eq!(
        [low, high, late, tie].map(|c| r.position(c).unwrap()),
        [2, 1, 4, 3],
        "tie (score 0) ranks after low (score 0) by arrival"
    );
    assert_eq!(
        serve_order(&mut r, a, &[low, high, late, tie]),
        vec![high, low, tie, late]
    );
}

#[test]
fn strict_priority_order() {
    let mut r = router(
        AgentSelection::LeastBusy,
        AcceptMode::Auto,
        ChatOrder::Strict,
    );
    let q = queue(&mut r, "q", "s", 0, None);
    let a = agent(&mut r, "a", &[("s", 5)], 1);
    let (low, _) = arrive(&mut r, 0, q, 0);
    let (high, _) = arrive(&mut r, 30 * S, q, 1);
    let (late, _) = arrive(&mut r, 90 * S, q, 1);
    let (top, _) = arrive(&mut r, 120 * S, q, 2);
    assert_eq!(
        serve_order(&mut r, a, &[low, high, late, top]),
        vec![top, high, late, low]
    );
}

/// Makes the cap-1 agent available and serves every chat one at a time, in routing order.
fn serve_order(r: &mut Router, a: AgentId, chats: &[ChatId]) -> Vec<ChatId> {
    let mut now = 1000 * S;
    available(r, now, a);
    let mut order = Vec::new();
    while let Some(c) = chats
        .iter()
        .copied()
        .find(|c| state(r, *c) == ChatState::Active)
    {
        order.push(c);
        now += S;
        r.close(now, c, 1, None, &mut Vec::new()).unwrap();
        r.check_invariants().unwrap();
    }
    order
}

#[test]
fn multi_queue_agent_takes_best_score() {
    let mut r = router(AgentSelection::LeastBusy, AcceptMode::Auto, weighted(60));
    let sales = queue(&mut r, "sales", "s1", 0, None);
    let vip = queue(&mut r, "vip", "s2", 2, None);
    let other = queue(&mut r, "other", "s2", 0, None);
    let a = agent(&mut r, "a", &[("s1", 5), ("s2", 5)], 1);
    let (c_sales, _) = arrive(&mut r, 0, sales, 0);
    let (c_other, _) = arrive(&mut r, 10 * S, other, 0);
    // vip score: 100 - 2 x 60 = -20 s, the best of the three.
    let (c_vip, _) = arrive(&mut r, 100 * S, vip, 0);
    assert_eq!(r.chat(c_vip).unwrap().priority, 2);
    assert_eq!(
        serve_order(&mut r, a, &[c_sales, c_other, c_vip]),
        vec![c_vip, c_sales, c_other]
    );
}

// ----- EWT, release, first response, errors -----

#[test]
fn ewt_fallback_then_answer_gap_average() {
    let mut r = router(AgentSelection::LeastBusy, AcceptMode::Auto, weighted(60));
    let q = queue(&mut r, "q", "s", 0, None);
    r.set_handle_time_hint(q, 300 * S).unwrap();
    let a = agent(&mut r, "a", &[("s", 5)], 1);
    let b = agent(&mut r, "b", &[("s", 5)], 1);
    available(&mut r, 0, a);
    available(&mut r, 0, b);
    let (x, _) = arrive(&mut r, 0, q, 0);
    let (y, _) = arrive(&mut r, 0, q, 0);
    // No answer history: position x 300 s / 2 serving slots.
    let (w1, out) = arrive(&mut r, 10 * S, q, 0);
    assert_eq!(
        out,
        vec![Decision::Queued {
            chat: w1,
            queue: q,
            position: 1,
            estimated_wait: 150 * S
        }]
    );
    let (w2, _) = arrive(&mut r, 20 * S, q, 0);
    assert_eq!(r.chat(w2).unwrap().shown_ewt, Some(300 * S));
    assert_eq!(r.chat(x).unwrap().shown_ewt, None);
    // First answer 40 s after the queue became non-empty: gap 40 s.
    r.close(50 * S, x, 1, None, &mut Vec::new()).unwrap();
    assert_eq!(r.estimated_wait(50 * S, w2), Some(40 * S));
    assert_eq!(r.estimated_wait(60 * S, w2), Some(30 * S));
    // Second answer 20 s later: gap = 40 - 5 + 2.5 = 37.5 s.
    r.close(70 * S, y, 1, None, &mut Vec::new()).unwrap();
    let (w3, out) = arrive(&mut r, 70 * S, q, 0);
    let expected = 37_500_000;
    assert_eq!(
        out,
        vec![Decision::Queued {
            chat: w3,
            queue: q,
            position: 1,
            estimated_wait: expected
        }]
    );
    let (w4, _) = arrive(&mut r, 80 * S, q, 0);
    assert_eq!(
        r.estimated_wait(80 * S, w4),
        Some(expected + expected - 10 * S)
    );
    assert_eq!(r.estimated_wait(80 * S, w1), None, "w1 is being served");
    r.check_invariants().unwrap();
}

#[test]
fn release_frees_the_slot_and_keeps_counts() {
    let mut r = router(AgentSelection::LeastBusy, offers(30, 1), weighted(60));
    let q = queue(&mut r, "q", "s", 0, None);
    let a = agent(&mut r, "a", &[("s", 5)], 1);
    available(&mut r, 0, a);
    let (c, out) = arrive(&mut r, 0, q, 0);
    let (_, offer, _) = offer_of(&out, c);
    assert!(matches!(
        r.release(c),
        Err(RouteError::InvalidState {
            action: "release",
            ..
        })
    ));
    r.leave(S, c, &mut Vec::new()).unwrap();
    let counts = r.counts();
    r.release(c).unwrap();
    assert_eq!(r.counts(), counts);
    assert_eq!(r.chat(c), None);
    assert_eq!(r.release(c), Err(RouteError::UnknownChat(c)));
    let (d, _) = arrive(&mut r, 2 * S, q, 0);
    assert_eq!(d.index(), c.index());
    assert_ne!(d, c);
    // The released chat's timer is stale, not an error, and does not touch the new chat.
    let before = snapshot(&r, &[d]);
    r.offer_timeout(30 * S, c, offer, &mut Vec::new()).unwrap();
    assert_eq!(snapshot(&r, &[d]), before);
    r.check_invariants().unwrap();
}

#[test]
fn first_response_is_recorded_once_and_only_when_active() {
    let mut r = router(AgentSelection::LeastBusy, AcceptMode::Auto, weighted(60));
    let q = queue(&mut r, "q", "s", 0, None);
    let a = agent(&mut r, "a", &[("s", 5)], 1);
    let (c, _) = arrive(&mut r, 0, q, 0);
    assert!(matches!(
        r.first_response(S, c, &mut Vec::new()),
        Err(RouteError::InvalidState {
            state: ChatState::Queued,
            ..
        })
    ));
    available(&mut r, 2 * S, a);
    r.first_response(3 * S, c, &mut Vec::new()).unwrap();
    r.first_response(4 * S, c, &mut Vec::new()).unwrap();
    assert_eq!(r.chat(c).unwrap().first_response_at, Some(3 * S));
}

#[test]
fn invalid_commands_change_nothing() {
    let mut r = router(AgentSelection::LeastBusy, offers(30, 1), weighted(60));
    let q = queue(&mut r, "q", "s", 0, None);
    let a = agent(&mut r, "a", &[("s", 5)], 1);
    let b = agent(&mut r, "b", &[("s", 5)], 1);
    available(&mut r, 0, a);
    let (offered, _) = arrive(&mut r, 0, q, 0);
    let (queued, _) = arrive(&mut r, 0, q, 0);
    // An id this router never issued (made by a copy of it).
    let unissued = r.clone().arrive(0, q, 0, &mut Vec::new()).unwrap();
    r.accept(S, offered, a, &mut Vec::new()).unwrap();
    r.close(2 * S, offered, 1, None, &mut Vec::new()).unwrap();
    let all = [offered, queued];
    let before = snapshot(&r, &all);
    let cases: Vec<(RouteError, Result<(), RouteError>)> = vec![
        (
            RouteError::UnknownAgent(AgentId(9)),
            r.set_status(3 * S, AgentId(9), AgentStatus::Available, &mut Vec::new()),
        ),
        (
            RouteError::UnknownQueue(QueueId(9)),
            r.arrive(3 * S, QueueId(9), 0, &mut Vec::new()).map(|_| ()),
        ),
        (
            RouteError::InvalidState {
                chat: offered,
                state: ChatState::Closed,
                action: "close",
            },
            r.close(3 * S, offered, 1, None, &mut Vec::new()),
        ),
        (
            RouteError::InvalidState {
                chat: offered,
                state: ChatState::Closed,
                action: "accept",
            },
            r.accept(3 * S, offered, a, &mut Vec::new()),
        ),
        (
            RouteError::NotOfferedToAgent {
                chat: queued,
                agent: b,
            },
            r.decline(3 * S, queued, b, &mut Vec::new()),
        ),
        (
            RouteError::InvalidState {
                chat: offered,
                state: ChatState::Closed,
                action: "transfer",
            },
            r.transfer(3 * S, offered, TransferTarget::Queue(q), &mut Vec::new()),
        ),
        (
            RouteError::InvalidState {
                chat: offered,
                state: ChatState::Closed,
                action: "respond to",
            },
            r.first_response(3 * S, offered, &mut Vec::new()),
        ),
    ];
    for (expected, got) in cases {
        assert_eq!(got, Err(expected));
    }
    assert_eq!(
        r.close(3 * S, unissued, 1, None, &mut Vec::new()),
        Err(RouteError::UnknownChat(unissued))
    );
    assert_eq!(
        r.leave(3 * S, unissued, &mut Vec::new()),
        Err(RouteError::UnknownChat(unissued))
    );
    assert_eq!(
        r.offer_timeout(3 * S, unissued, OfferSeq(1), &mut Vec::new()),
        Err(RouteError::UnknownChat(unissued))
    );
    assert_eq!(snapshot(&r, &all), before);
    r.check_invariants().unwrap();
}

#[test]
fn setup_errors() {
    let mut r = Router::new(RouterConfig::default());
    queue(&mut r, "q", "s", 0, None);
    let dup = r.add_queue(QueueConfig {
        name: "q".into(),
        skill: "s".into(),
        priority: 0,
        max_len: None,
    });
    assert_eq!(
        dup,
        Err(RouteError::DuplicateName {
            kind: "queue",
            name: "q".into()
        })
    );
    let bad = |skills: Vec<(&str, u8)>, cap| AgentConfig {
        name: "x".into(),
        skills: skills
            .into_iter()
            .map(|(s, p)| (s.to_string(), p))
            .collect(),
        cap,
    };
    assert!(matches!(
        r.add_agent(bad(vec![("s", 0)], 1)),
        Err(RouteError::InvalidProficiency { value: 0, .. })
    ));
    assert!(matches!(
        r.add_agent(bad(vec![("s", 11)], 1)),
        Err(RouteError::InvalidProficiency { value: 11, .. })
    ));
    assert!(matches!(
        r.add_agent(bad(vec![("s", 1), ("s", 2)], 1)),
        Err(RouteError::DuplicateSkill { .. })
    ));
    assert!(matches!(
        r.add_agent(bad(vec![("s", 1)], 1001)),
        Err(RouteError::InvalidCap { cap: 1001, .. })
    ));
    assert_eq!(r.num_agents(), 0);
    let id = r.add_agent(bad(vec![("unused", 1)], 2)).unwrap();
    assert_eq!(r.agent_id("x"), Some(id));
    assert_eq!(r.agent(id).unwrap().status, AgentStatus::Offline);
    assert_eq!(r.queue_id("q"), Some(QueueId(0)));
    let message = RouteError::InvalidProficiency {
        agent: "x".into(),
        skill: "s".into(),
        value: 11,
    }
    .to_string();
    assert!(
        message.contains("11") && message.contains("1..=10"),
        "{message}"
    );
}

// ----- property tests -----

#[derive(Debug, Clone)]
enum Op {
    Advance(u16),
    Arrive {
        queue: u8,
        priority: i8,
    },
    Status {
        agent: u8,
        status: u8,
    },
    Cap {
        agent: u8,
        cap: u8,
    },
    Accept {
        pick: u16,
        wrong_agent: bool,
        late: bool,
    },
    Decline {
        pick: u16,
        wrong_agent: bool,
    },
    Timeout {
        pick: u16,
        stale: bool,
    },
    FirstResponse {
        pick: u16,
    },
    Close {
        pick: u16,
    },
    Leave {
        pick: u16,
    },
    TransferQueue {
        pick: u16,
        queue: u8,
    },
    TransferAgent {
        pick: u16,
        agent: u8,
    },
    Release {
        pick: u16,
    },
}

fn op_strategy() -> impl Strategy<Value = Op> {
    prop_oneof![
        2 => (0u16..120).prop_map(Op::Advance),
        6 => (0u8..4, -2i8..3).prop_map(|(queue, priority)| Op::Arrive { queue, priority }),
        2 => (0u8..5, 0u8..6).prop_map(|(agent, status)| Op::Status { agent, status }),
        1 => (0u8..6, 0u8..8).prop_map(|(agent, cap)| Op::Cap { agent, cap }),
        4 => (any::<u16>(), prop::bool::weighted(0.15), prop::bool::weighted(0.1))
            .prop_map(|(pick, wrong_agent, late)| Op::Accept { pick, wrong_agent, late }),
        2 => (any::<u16>(), prop::bool::weighted(0.15)).prop_map(|(pick, wrong_agent)| Op::Decline { pick, wrong_agent }),
        2 => (any::<u16>(), any::<bool>()).prop_map(|(pick, stale)| Op::Timeout { pick, stale }),
        1 => any::<u16>().prop_map(|pick| Op::FirstResponse { pick }),
        4 => any::<u16>().prop_map(|pick| Op::Close { pick }),
        2 => any::<u16>().prop_map(|pick| Op::Leave { pick }),
        1 => (any::<u16>(), 0u8..5).prop_map(|(pick, queue)| Op::TransferQueue { pick, queue }),
        1 => (any::<u16>(), 0u8..6).prop_map(|(pick, agent)| Op::TransferAgent { pick, agent }),
        1 => any::<u16>().prop_map(|pick| Op::Release { pick }),
    ]
}

fn config_strategy() -> impl Strategy<Value = RouterConfig> {
    let selection = prop::sample::select(AgentSelection::ALL.to_vec());
    let accept = prop_oneof![
        Just(AcceptMode::Auto),
        (1u64..60, 0u32..3).prop_map(|(t, m)| offers(t, m)),
    ];
    let order = prop_oneof![Just(ChatOrder::Strict), (0u64..120).prop_map(weighted)];
    let place = prop_oneof![Just(TransferPlace::Keep), Just(TransferPlace::Reset)];
    (selection, accept, order, place).prop_map(|(selection, accept, order, transfer_place)| {
        RouterConfig {
            selection,
            order,
            accept,
            transfer_place,
        }
    })
}

fn build(config: RouterConfig) -> Router {
    let mut r = Router::new(config);
    queue(&mut r, "orders", "sales", 0, None);
    queue(&mut r, "billing", "money", 1, Some(3));
    queue(&mut r, "refunds", "money", -1, Some(2));
    queue(&mut r, "vip", "sales", 2, None);
    agent(&mut r, "a", &[("sales", 3)], 2);
    agent(&mut r, "b", &[("sales", 8), ("money", 5)], 3);
    agent(&mut r, "c", &[("money", 9)], 1);
    agent(&mut r, "d", &[("money", 2), ("sales", 2), ("spare", 4)], 2);
    agent(&mut r, "e", &[("spare", 1)], 1);
    r
}

/// One op's outcome, for the determinism check.
type Trace = Vec<(Result<(), RouteError>, Vec<Decision>)>;

/// Runs `ops`, checking every invariant after every step; returns the full trace.
fn run(config: RouterConfig, ops: &[Op]) -> Result<Trace, TestCaseError> {
    let mut r = build(config);
    let mut now: Time = 0;
    let mut chats: Vec<ChatId> = Vec::new();
    let mut trace = Vec::new();
    let agents = r.num_agents() as u32;
    for op in ops {
        // Picks mostly target chats in a state the input applies to; one in four may be any
        // chat ever issued (released ones included).
        let states: Vec<Option<ChatState>> =
            chats.iter().map(|c| r.chat(*c).map(|v| v.state)).collect();
        let wanted = |op: &Op, state: ChatState| match op {
            Op::Accept { .. } | Op::Decline { .. } | Op::Timeout { .. } => {
                state == ChatState::Offered
            }
            Op::Close { .. }
            | Op::FirstResponse { .. }
            | Op::TransferQueue { .. }
            | Op::TransferAgent { .. } => state == ChatState::Active,
            Op::Leave { .. } => !state.is_terminal(),
            _ => state.is_terminal(),
        };
        let fitting: Vec<ChatId> = chats
            .iter()
            .zip(&states)
            .filter(|(_, s)| s.is_some_and(|s| wanted(op, s)))
            .map(|(c, _)| *c)
            .collect();
        let pick = |p: u16| {
            let p = p as usize;
            if p.is_multiple_of(4) || fitting.is_empty() {
                (!chats.is_empty()).then(|| chats[p / 4 % chats.len()])
            } else {
                Some(fitting[p / 4 % fitting.len()])
            }
        };
        // Waiting chats before the step, for the FIFO check.
        let waiting_before: Vec<(ChatId, ChatView)> = chats
            .iter()
            .filter_map(|c| r.chat(*c).map(|v| (*c, v)))
            .filter(|(_, v)| v.state == ChatState::Queued)
            .collect();
        let before = snapshot(&r, &chats);
        let mut out = Vec::new();
        let result: Result<(), RouteError> = match op.clone() {
            Op::Advance(secs) => {
                now += u64::from(secs) * S;
                Ok(())
            }
            Op::Arrive { queue, priority } => r
                .arrive(
                    now,
                    QueueId(u32::from(queue)),
                    i32::from(priority),
                    &mut out,
                )
                .map(|c| chats.push(c)),
            Op::Status { agent, status } => {
                use AgentStatus::*;
                let status =
                    [Available, Away, Offline, Draining, Available, Available][status as usize % 6];
                r.set_status(now, AgentId(u32::from(agent)), status, &mut out)
            }
            Op::Cap { agent, cap } => {
                let cap = [0, 1, 2, 3, 1, 2, 3, 2][cap as usize % 8];
                r.set_cap(now, AgentId(u32::from(agent)), cap, &mut out)
            }
            Op::Accept {
                pick: p,
                wrong_agent,
                late,
            } => match pick(p) {
                Some(c) => {
                    let view = r.chat(c);
                    let holder = view.and_then(|v| v.agent).unwrap_or(AgentId(0));
                    let agent = if wrong_agent {
                        AgentId((holder.0 + 1) % (agents + 1))
                    } else {
                        holder
                    };
                    let at = match view.and_then(|v| v.offer_deadline) {
                        Some(deadline) if late => deadline,
                        _ => now,
                    };
                    r.accept(at.max(now), c, agent, &mut out)
                }
                None => Ok(()),
            },
            Op::Decline {
                pick: p,
                wrong_agent,
            } => match pick(p) {
                Some(c) => {
                    let holder = r.chat(c).and_then(|v| v.agent).unwrap_or(AgentId(0));
                    let agent = if wrong_agent {
                        AgentId((holder.0 + 1) % (agents + 1))
                    } else {
                        holder
                    };
                    r.decline(now, c, agent, &mut out)
                }
                None => Ok(()),
            },
            Op::Timeout { pick: p, stale } => match pick(p) {
                Some(c) => {
                    let offer = r.chat(c).and_then(|v| v.offer).unwrap_or(OfferSeq(0));
                    let offer = if stale {
                        OfferSeq(offer.0.wrapping_sub(1))
                    } else {
                        offer
                    };
                    r.offer_timeout(now, c, offer, &mut out)
                }
                None => Ok(()),
            },
            Op::FirstResponse { pick: p } => {
                pick(p).map_or(Ok(()), |c| r.first_response(now, c, &mut out))
            }
            Op::Close { pick: p } => {
                pick(p).map_or(Ok(()), |c| r.close(now, c, 1, Some(4), &mut out))
            }
            Op::Leave { pick: p } => pick(p).map_or(Ok(()), |c| r.leave(now, c, &mut out)),
            Op::TransferQueue { pick: p, queue } => pick(p).map_or(Ok(()), |c| {
                r.transfer(
                    now,
                    c,
                    TransferTarget::Queue(QueueId(u32::from(queue))),
                    &mut out,
                )
            }),
            Op::TransferAgent { pick: p, agent } => pick(p).map_or(Ok(()), |c| {
                r.transfer(
                    now,
                    c,
                    TransferTarget::Agent(AgentId(u32::from(agent))),
                    &mut out,
                )
            }),
            Op::Release { pick: p } => pick(p).map_or(Ok(()), |c| r.release(c)),
        };
        if let Err(e) = r.check_invariants() {
            return Err(TestCaseError::fail(format!("after {op:?}: {e}")));
        }
        if result.is_err() {
            prop_assert!(out.is_empty(), "error {result:?} emitted decisions {out:?}");
            prop_assert_eq!(
                &snapshot(&r, &chats[..before.chats.len()]),
                &before,
                "error {:?} changed state",
                result
            );
        }
        let counts = r.counts();
        prop_assert_eq!(counts.total_in_states(), counts.created);
        // FIFO within queue and priority: a chat taken from a queue never overtakes an earlier
        // chat of the same queue and priority that still waits, unless that chat skips the agent.
        let named_transfer = matches!(op, Op::TransferAgent { .. });
        for d in &out {
            let (chat, agent) = match *d {
                Decision::Offered { chat, agent, .. } => (chat, agent),
                Decision::Assigned { chat, agent } if config.accept == AcceptMode::Auto => {
                    (chat, agent)
                }
                _ => continue,
            };
            if named_transfer {
                continue;
            }
            let Some(taken) = r.chat(chat) else { continue };
            for (c, w) in &waiting_before {
                let Some(now_view) = r.chat(*c) else { continue };
                let overtaken = *c != chat
                    && now_view.state == ChatState::Queued
                    && now_view.queue == taken.queue
                    && now_view.priority == taken.priority
                    && w.queued_at < taken.queued_at;
                prop_assert!(
                    !overtaken || now_view.skipped_agent == Some(agent),
                    "{:?} given to {:?} ahead of waiting {:?} after {:?}",
                    chat,
                    agent,
                    c,
                    op
                );
            }
        }
        trace.push((result, out));
    }
    Ok(trace)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn invariants_hold_under_random_inputs(config in config_strategy(), ops in prop::collection::vec(op_strategy(), 1..150)) {
        let first = run(config, &ops)?;
        let second = run(config, &ops)?;
        prop_assert_eq!(first, second, "same inputs, different outputs");
    }
}

/// A sink that has the router forget ended chats at once, as the simulator's does.
struct Releasing(Vec<Decision>);

impl Decisions for Releasing {
    const RELEASE_ENDED: bool = true;

    fn push(&mut self, decision: Decision) {
        self.0.push(decision);
    }
}

/// Applies `op` (not `Advance`) to `r`, picking chats among `chats` by `pick % len`; the
/// inputs that depend on a chat's state (holder, offer, deadline) come from `view`.
fn step(
    r: &mut Router,
    now: Time,
    op: &Op,
    chat: Option<ChatId>,
    view: Option<ChatView>,
    out: &mut impl Decisions,
) -> Result<Option<ChatId>, RouteError> {
    let holder = view.and_then(|v| v.agent).unwrap_or(AgentId(0));
    let other = AgentId((holder.0 + 1) % (r.num_agents() as u32 + 1));
    let offer = view.and_then(|v| v.offer).unwrap_or(OfferSeq(0));
    let needs_chat = !matches!(op, Op::Arrive { .. } | Op::Status { .. } | Op::Cap { .. });
    let c = match chat {
        Some(c) => c,
        None if needs_chat => return Ok(None),
        None => r.next_chat(),
    };
    match *op {
        Op::Advance(_) | Op::Release { .. } => Ok(None),
        Op::Arrive { queue, priority } => r
            .arrive(now, QueueId(u32::from(queue)), i32::from(priority), out)
            .map(Some),
        Op::Status { agent, status } => {
            use AgentStatus::*;
            let status = [Available, Away, Offline, Draining][status as usize % 4];
            r.set_status(now, AgentId(u32::from(agent)), status, out)
                .map(|_| None)
        }
        Op::Cap { agent, cap } => r
            .set_cap(now, AgentId(u32::from(agent)), u32::from(cap % 4), out)
            .map(|_| None),
        Op::Accept {
            wrong_agent, late, ..
        } => {
            let at = match view.and_then(|v| v.offer_deadline) {
                Some(deadline) if late => deadline.max(now),
                _ => now,
            };
            let agent = if wrong_agent { other } else { holder };
            r.accept(at, c, agent, out).map(|_| None)
        }
        Op::Decline { wrong_agent, .. } => {
            let agent = if wrong_agent { other } else { holder };
            r.decline(now, c, agent, out).map(|_| None)
        }
        Op::Timeout { stale, .. } => {
            let offer = if stale {
                OfferSeq(offer.0.wrapping_sub(1))
            } else {
                offer
            };
            r.offer_timeout(now, c, offer, out).map(|_| None)
        }
        Op::FirstResponse { .. } => r.first_response(now, c, out).map(|_| None),
        Op::Close { .. } => r.close(now, c, 1, Some(4), out).map(|_| None),
        Op::Leave { .. } => r.leave(now, c, out).map(|_| None),
        Op::TransferQueue { queue, .. } => r
            .transfer(
                now,
                c,
                TransferTarget::Queue(QueueId(u32::from(queue))),
                out,
            )
            .map(|_| None),
        Op::TransferAgent { agent, .. } => r
            .transfer(
                now,
                c,
                TransferTarget::Agent(AgentId(u32::from(agent))),
                out,
            )
            .map(|_| None),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    /// A sink with `RELEASE_ENDED` gets the same decisions, and leaves the router as releasing
    /// every ended chat right after the call does; `next_chat` announces `arrive`'s id.
    #[test]
    fn releasing_sink_is_release_after_each_call(config in config_strategy(), ops in prop::collection::vec(op_strategy(), 1..200)) {
        let (mut vec_router, mut releasing_router) = (build(config), build(config));
        let mut now: Time = 0;
        let mut chats: Vec<ChatId> = Vec::new();
        let mut ended = 0;
        for op in &ops {
            if let Op::Advance(secs) = op {
                now += u64::from(*secs) * S;
                continue;
            }
            let pick = match *op {
                Op::Accept { pick, .. } | Op::Decline { pick, .. } | Op::Timeout { pick, .. }
                | Op::FirstResponse { pick } | Op::Close { pick } | Op::Leave { pick }
                | Op::TransferQueue { pick, .. } | Op::TransferAgent { pick, .. }
                | Op::Release { pick } => Some(pick),
                _ => None,
            };
            let chat = pick.filter(|_| !chats.is_empty()).map(|p| chats[p as usize % chats.len()]);
            let view = chat.and_then(|c| vec_router.chat(c));
            let announced = releasing_router.next_chat();
            let mut collected = Vec::new();
            let mut releasing = Releasing(Vec::new());
            let a = step(&mut vec_router, now, op, chat, view, &mut collected);
            let b = step(&mut releasing_router, now, op, chat, view, &mut releasing);
            prop_assert_eq!(&a, &b, "after {:?}", op);
            prop_assert_eq!(&collected, &releasing.0, "after {:?}", op);
            if let Ok(Some(id)) = b {
                prop_assert_eq!(id, announced);
                chats.push(id);
            }
            for d in &collected {
                if let Decision::Closed { chat, .. } | Decision::Abandoned { chat } | Decision::Rejected { chat, .. } = *d {
                    prop_assert!(releasing_router.chat(chat).is_none(), "{:?} still known", chat);
                    prop_assert_eq!(vec_router.release(chat), Ok(()));
                    ended += 1;
                }
            }
            if let Err(e) = releasing_router.check_invariants() {
                return Err(TestCaseError::fail(format!("after {op:?}: {e}")));
            }
            prop_assert_eq!(vec_router.counts(), releasing_router.counts());
            prop_assert_eq!(vec_router.next_chat(), releasing_router.next_chat());
            for c in &chats {
                prop_assert_eq!(vec_router.chat(*c), releasing_router.chat(*c));
            }
        }
        prop_assert!(ended <= chats.len());
    }
}

#[test]
fn every_policy_and_mode_survives_a_long_random_run() {
    // A deterministic long run per policy x accept mode x order, beyond proptest's short cases.
    let selections = AgentSelection::ALL;
    let accepts = [AcceptMode::Auto, offers(20, 2)];
    let orders = [ChatOrder::Strict, weighted(60)];
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let ops = prop::collection::vec(op_strategy(), 3000)
        .new_tree(&mut runner)
        .unwrap()
        .current();
    for selection in selections {
        for accept in accepts {
            for order in orders {
                let config = RouterConfig {
                    selection,
                    order,
                    accept,
                    transfer_place: TransferPlace::Keep,
                };
                let trace = run(config, &ops).unwrap_or_else(|e| panic!("{config:?}: {e}"));
                let routed = trace
                    .iter()
                    .flat_map(|(_, out)| out)
                    .filter(|d| matches!(d, Decision::Assigned { .. } | Decision::Offered { .. }))
                    .count();
                assert!(routed > 100, "{config:?}: only {routed} chats routed");
            }
        }
    }
}
