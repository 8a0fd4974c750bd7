//! The wire types of `chatcap::api` against a running server: every answer of a whole session
//! (login, registration, chat, inbox, accept, messages, close, transfer, stats, health, an
//! error) reads into its type, and writes back as the very JSON the server sent, so a typed
//! client sees every key and loses nothing; undefined figures (`null`) read as NaN.

use chatcap::api::{
    Agent, AgentStatus, Chat, ChatState, CreatedChat, ErrorBody, Health, Inbox, Login, Message,
    MessageFrom, Messages, OfferAnswer, OfferKind, OfferOutcome, Resolution, Stats,
};
use reqwest::StatusCode;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use super::{TestServer, start, str_of};

/// Reads `raw` as `T` and checks that `T` writes it back unchanged.
fn typed<T: DeserializeOwned + serde::Serialize>(raw: &Value) -> T {
    let value: T = serde_json::from_value(raw.clone())
        .unwrap_or_else(|e| panic!("{} does not read {raw}: {e}", std::any::type_name::<T>()));
    let back = serde_json::to_value(&value).expect("writes");
    assert_eq!(&back, raw, "{} round trip", std::any::type_name::<T>());
    value
}

async fn json_of(resp: reqwest::Response, status: StatusCode) -> Value {
    assert_eq!(resp.status(), status);
    resp.json().await.expect("json body")
}

/// Stats before any chat: every undefined figure is `null` on the wire and NaN once read.
async fn check_empty_stats(ts: &TestServer) {
    let stats: Stats = typed(&ts.stats().await);
    assert!(stats.overall.kpis.asa_secs.is_nan(), "{stats:?}");
    assert!(stats.overall.wait_p90_secs.is_nan(), "{stats:?}");
    assert!(stats.route_latency.p50_ms.is_nan(), "{stats:?}");
    assert_eq!(stats.route_latency.count, 0);
    assert_eq!(stats.queues.len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_types_read_and_write_every_answer_of_a_session() {
    let ts = start().await;
    check_empty_stats(&ts).await;
    let resp = ts
        .post("/v1/agents/tier1-1/login")
        .bearer_auth(super::TOKEN)
        .send()
        .await
        .expect("login");
    let login: Login = typed(&json_of(resp, StatusCode::OK).await);
    ts.tokens
        .lock()
        .expect("tokens")
        .insert(login.agent.clone(), login.token.clone());
    let agent: Agent = typed(&ts.login("tier1-1").await);
    assert_eq!(
        (agent.status, agent.registered),
        (AgentStatus::Available, true)
    );

    let created: CreatedChat = typed(&ts.create_chat("orders").await);
    assert_eq!(created.state, ChatState::Offered);
    let inbox: Inbox = typed(&ts.offers("tier1-1", 5.0).await);
    let offer = &inbox.offers[0];
    assert_eq!(
        (offer.kind, &offer.chat_id),
        (OfferKind::Offer, &created.id)
    );
    let resp = ts
        .agent_post("tier1-1", &format!("/v1/offers/{}/accept", offer.offer_id))
        .send()
        .await
        .expect("accept");
    let answer: OfferAnswer = typed(&json_of(resp, StatusCode::OK).await);
    assert_eq!(
        (answer.offer_state, answer.chat_state),
        (OfferOutcome::Accepted, ChatState::Active)
    );

    let id = &created.id;
    let resp = ts
        .agent_post("tier1-1", &format!("/v1/chats/{id}/messages"))
        .json(&json!({"text": "Hello"}))
        .send()
        .await
        .expect("message");
    let message: Message = typed(&json_of(resp, StatusCode::CREATED).await);
    assert_eq!((message.seq, message.from), (1, MessageFrom::Agent));
    let resp = ts
        .get(&format!("/v1/chats/{id}/messages?after=0"))
        .header("X-Chat-Token", &created.token)
        .send()
        .await
        .expect("messages");
    let messages: Messages = typed(&json_of(resp, StatusCode::OK).await);
    assert_eq!((messages.last_seq, messages.messages.len()), (1, 1));

    let resp = ts
        .agent_post("tier1-1", &format!("/v1/chats/{id}/close"))
        .json(&json!({"resolution": "resolved", "csat": 4}))
        .send()
        .await
        .expect("close");
    let chat: Chat = typed(&json_of(resp, StatusCode::OK).await);
    assert_eq!(chat.state, ChatState::Closed);
    assert_eq!(
        (chat.resolution, chat.csat),
        (Some(Resolution::Resolved), Some(4))
    );
    assert_eq!(chat.legs.len(), 1);
    assert!(chat.legs[0].ended_at.is_some());

    let stats: Stats = typed(&ts.stats().await);
    assert_eq!((stats.chats.created, stats.chats.closed), (1, 1));
    assert_eq!(stats.queues["orders"].kpis.answered, 1.0);
    assert_eq!(stats.route_latency.count, 1);
    let resp = ts.get("/healthz").send().await.expect("health");
    let health: Health = typed(&json_of(resp, StatusCode::OK).await);
    assert_eq!(health.status, "ok");
    let resp = ts
        .get("/v1/chats/c-999")
        .header("X-Chat-Token", "x")
        .send()
        .await
        .expect("unknown chat");
    let error: ErrorBody = typed(&json_of(resp, StatusCode::NOT_FOUND).await);
    assert_eq!(error.error, "unknown_chat");
    ts.stop().await;
}

/// The transfer note and the agent-only view of a chat read too (notes are only in agents'
/// views, so a customer's view has no `notes` key at all).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_chat_view_reads_with_and_without_notes() {
    let ts = start().await;
    ts.login("tier1-1").await;
    let chat = ts.active_chat("tier1-1", "orders").await;
    let id = str_of(&chat["id"]);
    let resp = ts
        .agent_post("tier1-1", &format!("/v1/chats/{id}/transfer"))
        .json(&json!({"queue": "billing", "note": "refund"}))
        .send()
        .await
        .expect("transfer");
    let agent_view: Chat = typed(&json_of(resp, StatusCode::OK).await);
    let notes = agent_view.notes.expect("agents see notes");
    assert_eq!(
        (notes[0].to.as_str(), notes[0].note.as_str()),
        ("queue:billing", "refund")
    );
    let resp = ts
        .get(&format!("/v1/chats/{id}"))
        .header("X-Chat-Token", str_of(&chat["token"]))
        .send()
        .await
        .expect("chat");
    let customer_view: Chat = typed(&json_of(resp, StatusCode::OK).await);
    assert!(customer_view.notes.is_none());
    assert_eq!(customer_view.transfers, 1);
    ts.stop().await;
}
