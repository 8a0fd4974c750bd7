//! The load test's own work per request, apart from the network: what `benches/` measures to
//! say where a generator's time goes. Each [`Exchange`] is one typical request and answer of
//! the built-in target, done two ways: through the target machinery the load test runs
//! ([`target_exchange`]: render the call, read the answer, apply captures and the poll's
//! reading) and with the API's typed wire structs ([`typed_exchange`], how a client written
//! for one API would do it), so that the cost of describing the API in a file is measured.

use std::hint::black_box;

use serde_json::Value;

use super::client::{read_answer, render};
use super::target::{Call, Reading, Target, Values, read};
use crate::api::{Chat, CreateChatRequest, CreatedChat, Inbox, MessageRequest, Messages};

/// A request and its answer, as the server sends it.
#[derive(Debug, Clone, Copy)]
pub enum Exchange {
    /// `POST /v1/chats` and its 201.
    CreateChat,
    /// A customer's message and its 201.
    SendMessage,
    /// A message poll answered with two messages.
    PollMessages,
    /// An agent's work poll answered with one offer.
    PollOffers,
    /// The final view of a closed chat.
    ReadChat,
}

impl Exchange {
    /// Every exchange.
    pub const ALL: [Exchange; 5] = [
        Exchange::CreateChat,
        Exchange::SendMessage,
        Exchange::PollMessages,
        Exchange::PollOffers,
        Exchange::ReadChat,
    ];

    /// Its name in reports.
    pub fn name(self) -> &'static str {
        match self {
            Exchange::CreateChat => "create_chat",
            Exchange::SendMessage => "customer_message",
            Exchange::PollMessages => "poll_messages",
            Exchange::PollOffers => "poll_offers",
            Exchange::ReadChat => "get_chat",
        }
    }

    fn answer(self) -> &'static [u8] {
        match self {
            Exchange::CreateChat => br#"{"id":"c-1042","token":"5f0c2d","queue":"orders","state":"queued","position":3,"estimated_wait_secs":41.5}"#,
            Exchange::SendMessage => br#"{"seq":4,"from":"customer","agent":null,"text":"Thanks, that helps.","sent_at":1796378401.25}"#,
            Exchange::PollMessages => br#"{"chat_id":"c-1042","state":"active","messages":[{"seq":2,"from":"agent","agent":"tier1-7","text":"Hi, thanks for waiting. Let me look into it.","sent_at":1796378400.5},{"seq":3,"from":"agent","agent":"tier1-7","text":"Still on it, one moment please.","sent_at":1796378401.0}],"last_seq":3}"#,
            Exchange::PollOffers => br#"{"agent":"tier1-7","status":"available","server_time":1796378400.25,"offers":[{"offer_id":"o-88","kind":"offer","chat_id":"c-1042","queue":"orders","customer":"lt-1042","priority":0,"chat_created_at":1796378399.0,"offered_at":1796378400.0,"deadline":1796378430.0,"delivered_at":1796378400.001,"transfers":0}],"events":[]}"#,
            Exchange::ReadChat => br#"{"id":"c-1042","queue":"orders","customer":"lt-1042","priority":0,"state":"closed","position":0,"estimated_wait_secs":0.0,"agent":"tier1-7","created_at":1796378399.0,"queued_at":1796378399.0,"offered_at":1796378400.0,"answered_at":1796378402.0,"first_response_at":1796378403.0,"closed_at":1796378500.0,"transfers":0,"resolution":"resolved","csat":null,"messages":6,"legs":[{"answered_at":1796378402.0,"ended_at":1796378500.0}]}"#,
        }
    }

    /// The built-in target's call for this exchange, and the flow values it renders with.
    fn call(self, target: &Target) -> (&Call, Values) {
        let c = &target.customer_slots;
        let mut customer = Values::new(c.len);
        customer.set_str(c.queue, "orders");
        customer.set(c.number, Value::from(1042u64));
        customer.set_str(c.customer, "lt-1042");
        customer.set_str(c.text, "Thanks, that helps.");
        customer.set(c.cursor, Value::from(1u64));
        customer.set_str(c.wait, "5.000");
        customer.set_str(c.id, "c-1042");
        let cust = &target.customer;
        let call = match self {
            Exchange::CreateChat => cust.start.last(),
            Exchange::SendMessage => cust.send.last(),
            Exchange::PollMessages => cust.wait_reply.last(),
            Exchange::ReadChat => cust.read.as_ref().map_or(cust.leave.last(), |r| r.last()),
            Exchange::PollOffers => {
                let a = &target.agent_slots;
                let mut agent = Values::new(a.len);
                agent.set_str(a.id, "tier1-7");
                agent.set_str(a.wait, "1.000");
                // The agent's token, captured by its login.
                for capture in target.agent.login.calls.iter().flat_map(|c| &c.captures) {
                    agent.set_str(capture.slot, "agent-token");
                }
                return (target.agent.wait_work.last(), agent);
            }
        };
        // The customer's token, captured by the start call.
        for capture in &cust.start.last().captures {
            if capture.var == "chat.token" {
                customer.set_str(capture.slot, "5f0c2d");
            }
        }
        (call, customer)
    }
}

/// One exchange through the target machinery: the request rendered, the answer read, its
/// captures applied and its reading done as the flows do.
pub fn target_exchange(target: &Target, exchange: Exchange) -> usize {
    let (call, mut values) = exchange.call(target);
    let request = render(call, &values).expect("the probe's values cover the call");
    let (outcome, failure) = read_answer(call, 200, exchange.answer(), &mut values);
    assert!(failure.is_none(), "{failure:?}");
    let body = match outcome {
        super::client::Outcome::Done(body) => body,
        _ => Value::Null,
    };
    let mut seen = request.path.len() + request.headers.len();
    match &call.reading {
        Reading::Messages(poll) => {
            let items = read::items(&body, &poll.items);
            seen += items
                .iter()
                .filter(|m| read::matches(m, &poll.agent_items))
                .count();
            seen += poll
                .cursor
                .as_ref()
                .and_then(|p| read::at(&body, p))
                .is_some() as usize;
        }
        Reading::Work(work) => {
            for item in read::items(&body, &work.items) {
                let fields = [&work.offer, &work.queue, &work.deadline, &work.offered_at];
                seen += read::text(item, &work.chat).map_or(0, |t| t.len());
                seen += fields
                    .iter()
                    .filter_map(|p| p.as_ref().and_then(|p| read::text(item, p)))
                    .count();
            }
        }
        Reading::View(view) => {
            seen += read::text(&body, &view.state).map_or(0, |t| t.len());
            let times = [&view.created_at, &view.first_response_at, &view.closed_at];
            seen += times
                .iter()
                .filter_map(|p| p.as_ref().and_then(|p| read::time(&body, p, view.time)))
                .count();
        }
        Reading::Sent { own_cursor } => {
            seen += read::at(&body, own_cursor).is_some() as usize;
        }
        _ => {}
    }
    black_box(seen)
}

/// The same exchange with the API's typed wire structs.
pub fn typed_exchange(exchange: Exchange) -> usize {
    let answer = exchange.answer();
    match exchange {
        Exchange::CreateChat => {
            let request = CreateChatRequest {
                queue: "orders".into(),
                customer: Some("lt-1042".into()),
                priority: None,
            };
            let body = serde_json::to_value(&request).ok();
            let created: CreatedChat = serde_json::from_slice(answer).expect("created");
            black_box(body.is_some() as usize + created.token.len())
        }
        Exchange::SendMessage => {
            let path = format!("/v1/chats/{}/messages", "c-1042");
            let body = serde_json::to_value(MessageRequest {
                text: "Thanks, that helps.".into(),
            });
            let sent: crate::api::Message = serde_json::from_slice(answer).expect("message");
            black_box(path.len() + body.is_ok() as usize + sent.seq as usize)
        }
        Exchange::PollMessages => {
            let path = format!(
                "/v1/chats/{}/messages?after={}&wait={:.3}",
                "c-1042", 1, 5.0
            );
            let m: Messages = serde_json::from_slice(answer).expect("messages");
            black_box(path.len() + m.messages.len() + m.last_seq as usize)
        }
        Exchange::PollOffers => {
            let path = format!("/v1/agents/{}/offers?wait={:.3}", "tier1-7", 1.0);
            let inbox: Inbox = serde_json::from_slice(answer).expect("inbox");
            black_box(path.len() + inbox.offers.len())
        }
        Exchange::ReadChat => {
            let path = format!("/v1/chats/{}", "c-1042");
            let chat: Chat = serde_json::from_slice(answer).expect("chat");
            black_box(path.len() + chat.legs.len())
        }
    }
}
