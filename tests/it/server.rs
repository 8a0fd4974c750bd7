//! `chatcap serve` in-process: each test binds a server to 127.0.0.1:0, drives it with reqwest
//! as customers and agents would, and shuts it down. Every wait is bounded; every error case
//! checks the exact status, the JSON error code and that `/v1/stats` counts did not move.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use chatcap::profile;
use chatcap::server::{self, RunningServer, ServerConfig};
use reqwest::{Client, RequestBuilder, StatusCode};
use serde_json::{Value, json};

mod api;
mod limits;
mod metrics;
mod scale;

const TOKEN: &str = "agent-secret";

/// Two queues, one agent group serving both (cap 2), offers with a 30 s timeout.
const PROFILE: &str = r#"
name = "server test"
interval = "30m"
intervals = 1

[targets]
threshold = "30s"

[routing]
accept = { timeout = "30s", misses_before_away = 1 }

[[queues]]
name = "orders"
volume = 10
handle_time = { dist = "exponential", mean = "5m" }

[[queues]]
name = "billing"
volume = 5
handle_time = { dist = "exponential", mean = "5m" }

[[agents]]
name = "tier1"
skills = ["orders", { name = "billing", proficiency = 7 }]
concurrency = 2
"#;

struct TestServer {
    server: RunningServer,
    base: String,
    client: Client,
    /// The operator token the server was started with.
    operator: Option<String>,
    /// Each logged-in agent's own token.
    tokens: Mutex<HashMap<String, String>>,
}

async fn start_with(toml: &str, token: Option<&str>, time_scale: f64) -> TestServer {
    let mut config = config_of(toml);
    config.agent_token = token.map(str::to_string);
    config.time_scale = time_scale;
    serve(config).await
}

/// The configuration of a test server on a free port of 127.0.0.1.
fn config_of(toml: &str) -> ServerConfig {
    let profile = profile::parse(toml, "server-test.toml", None).expect("test profile is valid");
    let mut config = ServerConfig::new(profile);
    config.bind = "127.0.0.1:0".parse().expect("address");
    config
}

async fn serve(config: ServerConfig) -> TestServer {
    let config_token = config.agent_token.clone();
    let server = server::bind(config).await.expect("server binds");
    let base = format!("http://{}", server.local_addr());
    let client = Client::builder()
        .timeout(Duration::from_secs(15))
        .build()
        .expect("client");
    TestServer {
        server,
        base,
        client,
        operator: config_token,
        tokens: Mutex::new(HashMap::new()),
    }
}

async fn start() -> TestServer {
    start_with(PROFILE, Some(TOKEN), 1.0).await
}

impl TestServer {
    fn get(&self, path: &str) -> RequestBuilder {
        self.client.get(format!("{}{path}", self.base))
    }

    fn post(&self, path: &str) -> RequestBuilder {
        self.client.post(format!("{}{path}", self.base))
    }

    /// A long-poll of `agent`'s inbox (up to 10 s) running in the background.
    fn pending_inbox_poll(&self, agent: &str) -> tokio::task::JoinHandle<Value> {
        let request = self
            .get(&format!("/v1/agents/{agent}/offers?wait=10"))
            .bearer_auth(self.token_of(agent));
        tokio::spawn(async move {
            request
                .send()
                .await
                .expect("poll")
                .json::<Value>()
                .await
                .expect("poll json")
        })
    }

    /// The own token of `agent`, logged in by [`TestServer::agent_token`] or `login`.
    fn token_of(&self, agent: &str) -> String {
        self.tokens
            .lock()
            .expect("tokens")
            .get(agent)
            .unwrap_or_else(|| panic!("agent {agent} is not logged in"))
            .clone()
    }

    fn agent_get(&self, agent: &str, path: &str) -> RequestBuilder {
        self.get(path).bearer_auth(self.token_of(agent))
    }

    fn agent_post(&self, agent: &str, path: &str) -> RequestBuilder {
        self.post(path).bearer_auth(self.token_of(agent))
    }

    /// Logs `agent` in with the operator token (if any) and keeps its own token.
    async fn agent_token(&self, agent: &str) -> String {
        let mut request = self.post(&format!("/v1/agents/{agent}/login"));
        if let Some(op) = &self.operator {
            request = request.bearer_auth(op);
        }
        let resp = request.send().await.expect("login");
        assert_eq!(resp.status(), StatusCode::OK, "login of {agent}");
        let body: Value = resp.json().await.expect("login json");
        assert_eq!(body["agent"], agent);
        let token = str_of(&body["token"]).to_string();
        self.tokens
            .lock()
            .expect("tokens")
            .insert(agent.to_string(), token.clone());
        token
    }

    async fn stop(self) {
        self.server.shutdown();
        tokio::time::timeout(Duration::from_secs(5), self.server.join())
            .await
            .expect("shutdown completes within 5 s")
            .expect("server stops cleanly");
    }

    async fn stats(&self) -> Value {
        let resp = self.get("/v1/stats").send().await.expect("stats");
        assert_eq!(resp.status(), StatusCode::OK);
        resp.json().await.expect("stats json")
    }

    async fn counts(&self) -> Value {
        self.stats().await["chats"].clone()
    }

    /// Logs `agent` in (once) and sets it available (registering it on the first call).
    async fn login(&self, agent: &str) -> Value {
        if !self.tokens.lock().expect("tokens").contains_key(agent) {
            self.agent_token(agent).await;
        }
        let resp = self
            .agent_post(agent, &format!("/v1/agents/{agent}/status"))
            .json(&json!({"status": "available"}))
            .send()
            .await
            .expect("status");
        assert!(resp.status().is_success(), "login {}", resp.status());
        resp.json().await.expect("agent json")
    }

    async fn create_chat(&self, queue: &str) -> Value {
        let resp = self
            .post("/v1/chats")
            .json(&json!({"queue": queue, "customer": "cust-1"}))
            .send()
            .await
            .expect("create");
        assert_eq!(resp.status(), StatusCode::CREATED);
        resp.json().await.expect("chat json")
    }

    async fn offers(&self, agent: &str, wait: f64) -> Value {
        let resp = self
            .agent_get(agent, &format!("/v1/agents/{agent}/offers?wait={wait}"))
            .send()
            .await
            .expect("offers");
        assert_eq!(resp.status(), StatusCode::OK);
        resp.json().await.expect("offers json")
    }

    /// An active chat with agent `agent`: logs in, creates, polls, accepts.
    async fn active_chat(&self, agent: &str, queue: &str) -> Value {
        let chat = self.create_chat(queue).await;
        let offers = self.offers(agent, 5.0).await;
        let offer = offers["offers"]
            .as_array()
            .and_then(|o| o.iter().find(|o| o["chat_id"] == chat["id"]))
            .expect("offer of the new chat")
            .clone();
        let resp = self
            .agent_post(
                agent,
                &format!("/v1/offers/{}/accept", str_of(&offer["offer_id"])),
            )
            .send()
            .await
            .expect("accept");
        assert_eq!(resp.status(), StatusCode::OK);
        chat
    }
}

fn str_of(v: &Value) -> &str {
    v.as_str().expect("a string")
}

/// Asserts an API error: status, code, and a non-empty one-line detail; returns the detail.
async fn expect_error(resp: reqwest::Response, status: StatusCode, code: &str) -> String {
    assert_eq!(resp.status(), status, "status for {code}");
    let body: Value = resp.json().await.expect("error body is JSON");
    assert_eq!(body["error"], code, "error code in {body}");
    let detail = str_of(&body["detail"]).to_string();
    assert!(
        !detail.is_empty() && !detail.contains('\n'),
        "detail {detail:?}"
    );
    assert_eq!(
        body.as_object().map(|o| o.len()),
        Some(2),
        "only error and detail: {body}"
    );
    detail
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn happy_path_offer_accept_message_close() {
    let ts = start().await;
    let agent = ts.login("tier1-1").await;
    assert_eq!(agent["registered"], true);
    assert_eq!(agent["concurrency"], 2, "cap from the tier1 group");
    assert_eq!(agent["skills"][1]["name"], "billing");
    assert_eq!(agent["skills"][1]["proficiency"], 7);

    // The agent waits first; the offer must reach the pending long-poll.
    let poll = ts.pending_inbox_poll("tier1-1");
    tokio::time::sleep(Duration::from_millis(100)).await;
    let chat = ts.create_chat("orders").await;
    assert_eq!(chat["state"], "offered");
    assert_eq!(chat["position"], 0);
    let (chat_id, chat_token) = (str_of(&chat["id"]), str_of(&chat["token"]));
    let offers = tokio::time::timeout(Duration::from_secs(5), poll)
        .await
        .expect("long-poll answers when the offer arrives")
        .expect("poll task");
    let offer = &offers["offers"][0];
    assert_eq!(offer["kind"], "offer");
    assert_eq!(offer["chat_id"], chat["id"]);
    assert_eq!(offer["queue"], "orders");
    assert!(offer["deadline"].as_f64() > offer["offered_at"].as_f64());
    assert!(offer["delivered_at"].as_f64() >= offer["offered_at"].as_f64());

    let resp = ts
        .agent_post(
            "tier1-1",
            &format!("/v1/offers/{}/accept", str_of(&offer["offer_id"])),
        )
        .send()
        .await
        .expect("accept");
    assert_eq!(resp.status(), StatusCode::OK);
    let accepted: Value = resp.json().await.expect("accept json");
    assert_eq!(accepted["chat_state"], "active");

    // The customer waits for a message; the agent's first message (first response) wakes it.
    let customer_poll = {
        let (client, base) = (ts.client.clone(), ts.base.clone());
        let (id, token) = (chat_id.to_string(), chat_token.to_string());
        tokio::spawn(async move {
            client
                .get(format!("{base}/v1/chats/{id}/messages?after=0&wait=10"))
                .header("X-Chat-Token", token)
                .send()
                .await
                .expect("messages")
                .json::<Value>()
                .await
                .expect("messages json")
        })
    };
    tokio::time::sleep(Duration::from_millis(100)).await;
    let resp = ts
        .agent_post("tier1-1", &format!("/v1/chats/{chat_id}/messages"))
        .json(&json!({"text": "Hello, how can I help?"}))
        .send()
        .await
        .expect("agent message");
    assert_eq!(resp.status(), StatusCode::CREATED);
    let messages = tokio::time::timeout(Duration::from_secs(5), customer_poll)
        .await
        .expect("customer long-poll answers")
        .expect("customer task");
    assert_eq!(messages["last_seq"], 1);
    assert_eq!(messages["messages"][0]["from"], "agent");
    assert_eq!(messages["messages"][0]["agent"], "tier1-1");
    assert_eq!(messages["messages"][0]["text"], "Hello, how can I help?");

    let resp = ts
        .post(&format!("/v1/chats/{chat_id}/messages"))
        .header("X-Chat-Token", chat_token)
        .json(&json!({"text": "Where is my parcel?"}))
        .send()
        .await
        .expect("customer message");
    assert_eq!(resp.status(), StatusCode::CREATED);
    let sent: Value = resp.json().await.expect("message json");
    assert_eq!(sent["seq"], 2);
    assert_eq!(sent["from"], "customer");

    let resp = ts
        .agent_post("tier1-1", &format!("/v1/chats/{chat_id}/close"))
        .json(&json!({"resolution": "resolved", "csat": 5}))
        .send()
        .await
        .expect("close");
    assert_eq!(resp.status(), StatusCode::OK);
    let closed: Value = resp.json().await.expect("close json");
    assert_eq!(closed["state"], "closed");
    assert_eq!(closed["resolution"], "resolved");

    let resp = ts
        .get(&format!("/v1/chats/{chat_id}"))
        .bearer_auth(chat_token)
        .send()
        .await
        .expect("get chat");
    assert_eq!(resp.status(), StatusCode::OK);
    let view: Value = resp.json().await.expect("chat json");
    assert_eq!(view["state"], "closed");
    assert_eq!(view["agent"], "tier1-1");
    assert_eq!(view["messages"], 2);
    assert!(view.get("notes").is_none(), "notes are for agents only");
    let created = view["created_at"].as_f64().expect("created_at");
    let answered = view["answered_at"].as_f64().expect("answered_at");
    let first = view["first_response_at"]
        .as_f64()
        .expect("first_response_at");
    let closed_at = view["closed_at"].as_f64().expect("closed_at");
    assert!(created <= answered && answered <= first && first <= closed_at);

    let stats = ts.stats().await;
    let c = &stats["chats"];
    assert_eq!(
        (c["created"].as_u64(), c["closed"].as_u64()),
        (Some(1), Some(1))
    );
    assert_eq!(
        c["queued"].as_u64().unwrap_or(9) + c["offered"].as_u64().unwrap_or(9),
        0
    );
    let overall = &stats["overall"];
    assert_eq!(overall["answered"], 1.0);
    assert_eq!(overall["service_level"], 1.0, "answered well within 30 s");
    assert_eq!(overall["abandon_rate"], 0.0);
    assert_eq!(overall["fcr"], 1.0);
    assert_eq!(overall["csat"], 5.0);
    let asa = overall["asa_secs"].as_f64().expect("asa defined");
    assert!((0.0..5.0).contains(&asa), "asa {asa}");
    assert_eq!(stats["queues"]["orders"]["answered"], 1.0);
    assert!(
        stats["queues"]["billing"]["service_level"].is_null(),
        "undefined is null"
    );
    assert_eq!(stats["route_latency"]["count"], 1);
    let p50 = stats["route_latency"]["p50_ms"].as_f64().expect("latency");
    assert!((0.0..5000.0).contains(&p50), "route latency {p50} ms");
    assert_eq!(stats["agents"]["available"], 1);
    ts.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_requests_give_json_errors_and_change_nothing() {
    let ts = start().await;
    ts.login("tier1-1").await;
    let chat = ts.active_chat("tier1-1", "orders").await;
    let other = ts.create_chat("billing").await; // offered to the agent's second slot
    let (id, token) = (str_of(&chat["id"]), str_of(&chat["token"]));
    let before = ts.counts().await;

    let resp = ts
        .post("/v1/chats")
        .header("content-type", "application/json")
        .body("{\"queue\": ")
        .send()
        .await
        .expect("send");
    expect_error(resp, StatusCode::BAD_REQUEST, "malformed_json").await;

    let resp = ts
        .post("/v1/chats")
        .json(&json!({"queue": 5}))
        .send()
        .await
        .expect("send");
    expect_error(resp, StatusCode::BAD_REQUEST, "bad_field").await;
    let resp = ts
        .post("/v1/chats")
        .json(&json!({"queue": "orders", "colour": "red"}))
        .send()
        .await
        .expect("send");
    let detail = expect_error(resp, StatusCode::BAD_REQUEST, "bad_field").await;
    assert!(detail.contains("colour"), "names the field: {detail}");
    let resp = ts
        .post("/v1/chats")
        .json(&json!({"queue": "nowhere"}))
        .send()
        .await
        .expect("send");
    let detail = expect_error(resp, StatusCode::NOT_FOUND, "unknown_queue").await;
    assert!(
        detail.contains("orders, billing"),
        "lists the queues: {detail}"
    );

    let resp = ts
        .get("/v1/chats/c-999")
        .header("X-Chat-Token", token)
        .send()
        .await
        .expect("send");
    expect_error(resp, StatusCode::NOT_FOUND, "unknown_chat").await;
    let resp = ts
        .get("/v1/chats/nonsense")
        .header("X-Chat-Token", token)
        .send()
        .await
        .expect("s");
    expect_error(resp, StatusCode::NOT_FOUND, "unknown_chat").await;

    let resp = ts
        .post("/v1/agents/tier1-2/status")
        .bearer_auth("wrong")
        .json(&json!({"status": "available"}))
        .send()
        .await
        .expect("send");
    expect_error(resp, StatusCode::UNAUTHORIZED, "unauthorized").await;
    let resp = ts
        .post("/v1/agents/tier1-2/status")
        .json(&json!({"status": "available"}))
        .send()
        .await
        .expect("send");
    expect_error(resp, StatusCode::UNAUTHORIZED, "unauthorized").await;
    // Logged in but never registered.
    ts.agent_token("tier1-2").await;
    let resp = ts
        .agent_get("tier1-2", "/v1/agents/tier1-2")
        .send()
        .await
        .expect("send");
    expect_error(resp, StatusCode::NOT_FOUND, "unknown_agent").await;
    let resp = ts
        .agent_post("tier1-1", "/v1/agents/tier1-1/status")
        .json(&json!({"status": "sleeping"}))
        .send()
        .await
        .expect("send");
    let detail = expect_error(resp, StatusCode::BAD_REQUEST, "bad_field").await;
    assert!(
        detail.contains("sleeping") && detail.contains("available"),
        "{detail}"
    );

    // Another customer's token on this chat.
    let resp = ts
        .get(&format!("/v1/chats/{id}"))
        .header("X-Chat-Token", str_of(&other["token"]))
        .send()
        .await
        .expect("send");
    expect_error(resp, StatusCode::FORBIDDEN, "forbidden").await;
    let resp = ts
        .post(&format!("/v1/chats/{id}/messages"))
        .bearer_auth(str_of(&other["token"]))
        .json(&json!({"text": "hi"}))
        .send()
        .await
        .expect("send");
    expect_error(resp, StatusCode::FORBIDDEN, "forbidden").await;
    // A customer token is no agent token.
    let resp = ts
        .post(&format!("/v1/chats/{id}/close"))
        .bearer_auth(token)
        .json(&json!({"resolution": "resolved"}))
        .send()
        .await
        .expect("send");
    expect_error(resp, StatusCode::UNAUTHORIZED, "unauthorized").await;

    let huge = "x".repeat(100 * 1024);
    let resp = ts
        .post(&format!("/v1/chats/{id}/messages"))
        .header("X-Chat-Token", token)
        .json(&json!({ "text": huge }))
        .send()
        .await
        .expect("send");
    // The body was not read: the connection closes, and the next request opens another.
    let connection = resp.headers().get("connection").cloned();
    assert_eq!(
        connection.as_ref().and_then(|v| v.to_str().ok()),
        Some("close")
    );
    expect_error(resp, StatusCode::PAYLOAD_TOO_LARGE, "body_too_large").await;
    let long = "y".repeat(4001);
    let resp = ts
        .post(&format!("/v1/chats/{id}/messages"))
        .header("X-Chat-Token", token)
        .json(&json!({ "text": long }))
        .send()
        .await
        .expect("send");
    let detail = expect_error(resp, StatusCode::BAD_REQUEST, "bad_field").await;
    assert!(detail.contains("4001"), "{detail}");

    let resp = ts
        .agent_post("tier1-1", &format!("/v1/chats/{id}/transfer"))
        .json(&json!({"queue": "warranty", "note": "needs warranty"}))
        .send()
        .await
        .expect("send");
    expect_error(resp, StatusCode::NOT_FOUND, "unknown_queue").await;
    let resp = ts
        .agent_post("tier1-1", &format!("/v1/chats/{id}/transfer"))
        .json(&json!({"queue": "billing", "agent": "tier1-1"}))
        .send()
        .await
        .expect("send");
    expect_error(resp, StatusCode::BAD_REQUEST, "bad_field").await;
    let resp = ts
        .agent_post("tier1-2", &format!("/v1/chats/{id}/close"))
        .json(&json!({"resolution": "resolved"}))
        .send()
        .await
        .expect("send");
    expect_error(resp, StatusCode::FORBIDDEN, "not_your_chat").await;
    let resp = ts
        .agent_post("tier1-1", &format!("/v1/chats/{id}/close"))
        .json(&json!({"resolution": "fixed"}))
        .send()
        .await
        .expect("send");
    expect_error(resp, StatusCode::BAD_REQUEST, "bad_field").await;
    let resp = ts
        .agent_post(
            "tier1-1",
            &format!("/v1/chats/{}/close", str_of(&other["id"])),
        )
        .json(&json!({"resolution": "resolved"}))
        .send()
        .await
        .expect("send");
    expect_error(resp, StatusCode::CONFLICT, "invalid_state").await;
    let resp = ts.get("/v1/nowhere").send().await.expect("send");
    expect_error(resp, StatusCode::NOT_FOUND, "not_found").await;
    let resp = ts.get("/v1/chats?wait=abc").send().await.expect("send");
    expect_error(resp, StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed").await;
    let resp = ts
        .agent_get("tier1-1", "/v1/agents/tier1-1/offers?wait=abc")
        .send()
        .await
        .expect("send");
    expect_error(resp, StatusCode::BAD_REQUEST, "bad_query").await;
    let resp = ts
        .agent_get("tier1-1", "/v1/agents/tier1-1/offers?wait=31")
        .send()
        .await
        .expect("send");
    expect_error(resp, StatusCode::BAD_REQUEST, "bad_query").await;

    assert_eq!(
        ts.counts().await,
        before,
        "no error changed the chat counts"
    );

    // Double close: the first succeeds, the second is a conflict and changes nothing.
    let resp = ts
        .agent_post("tier1-1", &format!("/v1/chats/{id}/close"))
        .json(&json!({"resolution": "resolved"}))
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status(), StatusCode::OK);
    let after_close = ts.counts().await;
    assert_eq!(after_close["closed"], 1);
    let resp = ts
        .agent_post("tier1-1", &format!("/v1/chats/{id}/close"))
        .json(&json!({"resolution": "resolved"}))
        .send()
        .await
        .expect("send");
    let detail = expect_error(resp, StatusCode::CONFLICT, "invalid_state").await;
    assert!(detail.contains("closed"), "{detail}");
    let resp = ts
        .post(&format!("/v1/chats/{id}/leave"))
        .header("X-Chat-Token", token)
        .send()
        .await
        .expect("send");
    expect_error(resp, StatusCode::CONFLICT, "invalid_state").await;
    assert_eq!(ts.counts().await, after_close);
    ts.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accepting_an_expired_offer_is_a_conflict() {
    // A 2 s offer timeout at time scale 20 lapses after 100 ms of wall time.
    let ts = start_with(
        PROFILE
            .replace("\"30s\", misses", "\"2s\", misses")
            .as_str(),
        None,
        20.0,
    )
    .await;
    ts.login("tier1-1").await;
    let chat = ts.create_chat("orders").await;
    let offers = ts.offers("tier1-1", 5.0).await;
    let offer = offers["offers"][0].clone();
    assert_eq!(offer["chat_id"], chat["id"]);
    let window =
        offer["deadline"].as_f64().unwrap_or(0.0) - offer["offered_at"].as_f64().unwrap_or(0.0);
    assert!(
        (window - 0.1).abs() < 0.002,
        "2 s / 20 = 0.1 s, got {window}"
    );
    tokio::time::sleep(Duration::from_millis(400)).await;

    // The timeout was a miss: the agent is away and the chat waits again.
    let before = ts.counts().await;
    assert_eq!(
        (before["queued"].as_u64(), before["offered"].as_u64()),
        (Some(1), Some(0))
    );
    let resp = ts
        .agent_post(
            "tier1-1",
            &format!("/v1/offers/{}/accept", str_of(&offer["offer_id"])),
        )
        .send()
        .await
        .expect("accept");
    expect_error(resp, StatusCode::CONFLICT, "offer_expired").await;
    let resp = ts
        .agent_post(
            "tier1-1",
            &format!("/v1/offers/{}/decline", str_of(&offer["offer_id"])),
        )
        .send()
        .await
        .expect("decline");
    expect_error(resp, StatusCode::CONFLICT, "offer_expired").await;
    let resp = ts
        .agent_post("tier1-1", "/v1/offers/o-77/accept")
        .send()
        .await
        .expect("accept");
    expect_error(resp, StatusCode::NOT_FOUND, "unknown_offer").await;
    assert_eq!(ts.counts().await, before);
    let agent: Value = ts
        .agent_get("tier1-1", "/v1/agents/tier1-1")
        .send()
        .await
        .expect("agent")
        .json()
        .await
        .expect("agent json");
    assert_eq!(agent["status"], "away");
    assert_eq!(agent["misses"], 1);

    // Back from away, the agent gets the chat again and can accept the new offer.
    ts.login("tier1-1").await;
    let offers = ts.offers("tier1-1", 5.0).await;
    let offer = &offers["offers"][0];
    assert_eq!(offer["chat_id"], chat["id"]);
    let resp = ts
        .agent_post(
            "tier1-1",
            &format!("/v1/offers/{}/accept", str_of(&offer["offer_id"])),
        )
        .send()
        .await
        .expect("accept");
    assert_eq!(resp.status(), StatusCode::OK);
    let stats = ts.stats().await;
    assert_eq!(stats["chats"]["active"], 1);
    // The wait is reported in profile seconds: at least 0.4 s wall x 20 = 8 s.
    let asa = stats["overall"]["asa_secs"].as_f64().expect("asa");
    assert!(asa >= 8.0, "asa {asa} profile seconds");
    assert_eq!(stats["time_scale"], 20.0);
    ts.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_queue_answers_503_with_retry_after() {
    let toml = PROFILE.replace(
        "name = \"orders\"\nvolume = 10",
        "name = \"orders\"\nvolume = 10\nmax_queue = 1",
    );
    let ts = start_with(&toml, Some(TOKEN), 1.0).await;
    let first = ts.create_chat("orders").await;
    assert_eq!(
        (first["state"].as_str(), first["position"].as_u64()),
        (Some("queued"), Some(1))
    );
    let before = ts.counts().await;
    let resp = ts
        .post("/v1/chats")
        .json(&json!({"queue": "orders"}))
        .send()
        .await
        .expect("send");
    let retry = resp
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    assert_eq!(retry.as_deref(), Some("5"));
    expect_error(resp, StatusCode::SERVICE_UNAVAILABLE, "queue_full").await;
    let after = ts.counts().await;
    // The refusal is a KPI: one more chat created and rejected, nothing else moved.
    assert_eq!(
        after["created"],
        before["created"].as_u64().unwrap_or(0) + 1
    );
    assert_eq!(after["rejected"], 1);
    assert_eq!(after["queued"], before["queued"]);
    let stats = ts.stats().await;
    assert_eq!(stats["queues"]["orders"]["rejected"], 1.0);
    // Another queue is not affected.
    ts.create_chat("billing").await;
    ts.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn leaving_a_queued_chat_is_an_abandon() {
    let ts = start().await;
    let chat = ts.create_chat("orders").await;
    assert_eq!(chat["state"], "queued");
    tokio::time::sleep(Duration::from_millis(50)).await;
    let resp = ts
        .post(&format!("/v1/chats/{}/leave", str_of(&chat["id"])))
        .header("X-Chat-Token", str_of(&chat["token"]))
        .send()
        .await
        .expect("leave");
    assert_eq!(resp.status(), StatusCode::OK);
    let left: Value = resp.json().await.expect("json");
    assert_eq!(left["state"], "abandoned");
    let stats = ts.stats().await;
    assert_eq!(stats["chats"]["abandoned"], 1);
    assert_eq!(stats["overall"]["abandon_rate"], 1.0);
    assert_eq!(stats["overall"]["service_level"], 0.0);
    assert!(stats["overall"]["asa_secs"].is_null(), "no answered chat");
    let wait = stats["overall"]["mean_wait_secs"]
        .as_f64()
        .expect("mean wait");
    assert!((0.04..5.0).contains(&wait), "waited about 50 ms: {wait}");
    ts.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auto_assignment_and_transfers_without_agent_token() {
    let toml = PROFILE.replace(
        "accept = { timeout = \"30s\", misses_before_away = 1 }",
        "accept = \"auto\"",
    );
    let ts = start_with(&toml, None, 1.0).await;
    // Open mode: login needs no operator token. Explicit skills and cap on registration.
    ts.agent_token("alice").await;
    ts.agent_token("bob").await;
    let resp = ts
        .agent_post("alice", "/v1/agents/alice/status")
        .json(&json!({"status": "available", "skills": ["orders"], "concurrency": 1}))
        .send()
        .await
        .expect("register");
    assert_eq!(resp.status(), StatusCode::CREATED);
    let resp = ts
        .agent_post("bob", "/v1/agents/bob/status")
        .json(&json!({"status": "available"}))
        .send()
        .await
        .expect("register");
    let bob: Value = resp.json().await.expect("json");
    assert_eq!(bob["concurrency"], 1, "no group prefixes bob: cap 1");
    assert_eq!(
        bob["skills"].as_array().map(Vec::len),
        Some(2),
        "every queue skill"
    );
    let resp = ts
        .agent_post("alice", "/v1/agents/alice/status")
        .json(&json!({"status": "available", "skills": ["billing"]}))
        .send()
        .await
        .expect("send");
    expect_error(resp, StatusCode::CONFLICT, "skills_fixed").await;

    let chat = ts.create_chat("orders").await;
    assert_eq!(chat["state"], "active", "auto mode assigns at once");
    let id = str_of(&chat["id"]);
    // Least-busy, then longest idle: alice became available first.
    let offers = ts.offers("alice", 5.0).await;
    assert_eq!(offers["offers"][0]["kind"], "assignment");
    assert!(offers["offers"][0]["deadline"].is_null());
    // A delivered assignment leaves the inbox.
    assert_eq!(
        ts.offers("alice", 0.0).await["offers"]
            .as_array()
            .map(Vec::len),
        Some(0)
    );

    let resp = ts
        .agent_post("alice", &format!("/v1/chats/{id}/transfer"))
        .json(&json!({"queue": "billing", "note": "refund question"}))
        .send()
        .await
        .expect("transfer");
    assert_eq!(resp.status(), StatusCode::OK);
    let moved: Value = resp.json().await.expect("json");
    assert_eq!(moved["agent"], "bob");
    assert_eq!(moved["queue"], "billing");
    assert_eq!(moved["transfers"], 1);
    assert_eq!(moved["notes"][0]["note"], "refund question");
    assert_eq!(moved["notes"][0]["from_agent"], "alice");
    let offers = ts.offers("bob", 5.0).await;
    assert_eq!(offers["offers"][0]["chat_id"], chat["id"]);
    assert_eq!(offers["offers"][0]["transfers"], 1);

    let resp = ts
        .agent_post("bob", &format!("/v1/chats/{id}/transfer"))
        .json(&json!({"agent": "bob"}))
        .send()
        .await
        .expect("send");
    expect_error(resp, StatusCode::CONFLICT, "transfer_to_self").await;
    let resp = ts
        .agent_post("bob", &format!("/v1/chats/{id}/transfer"))
        .json(&json!({"agent": "carol"}))
        .send()
        .await
        .expect("send");
    expect_error(resp, StatusCode::NOT_FOUND, "unknown_agent").await;

    let resp = ts
        .agent_post("bob", &format!("/v1/chats/{id}/close"))
        .json(&json!({"resolution": "resolved"}))
        .send()
        .await
        .expect("close");
    assert_eq!(resp.status(), StatusCode::OK);
    let stats = ts.stats().await;
    let orders = &stats["queues"]["orders"];
    assert_eq!(
        orders["answered"], 1.0,
        "counted once, in the arrival queue"
    );
    assert_eq!(orders["transfer_rate"], 1.0);
    assert_eq!(orders["fcr"], 0.0);
    assert_eq!(stats["queues"]["billing"]["answered"], 0.0);
    assert_eq!(stats["route_latency"]["count"], 2);
    ts.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn healthz_answers() {
    let ts = start().await;
    let resp = ts.get("/healthz").send().await.expect("healthz");
    assert_eq!(resp.status(), StatusCode::OK);
    let health: Value = resp.json().await.expect("json");
    assert_eq!(health["status"], "ok");
    ts.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graceful_shutdown_answers_pending_long_polls() {
    let ts = start().await;
    ts.login("tier1-1").await;
    let chat = ts.create_chat("billing").await;
    let (client, base) = (ts.client.clone(), ts.base.clone());
    let agent_poll = tokio::spawn({
        let (client, base) = (client.clone(), base.clone());
        let token = ts.token_of("tier1-1");
        async move {
            // The open offer was already delivered by this first call...
            let first = client
                .get(format!("{base}/v1/agents/tier1-1/offers?wait=30"))
                .bearer_auth(&token)
                .send()
                .await
                .expect("first poll");
            assert_eq!(first.status(), StatusCode::OK);
            // ...so this one waits for something new, until the shutdown.
            client
                .get(format!("{base}/v1/agents/tier1-1/offers?wait=30"))
                .bearer_auth(&token)
                .send()
                .await
                .expect("second poll")
        }
    });
    let customer_poll = tokio::spawn({
        let id = str_of(&chat["id"]).to_string();
        let token = str_of(&chat["token"]).to_string();
        async move {
            client
                .get(format!("{base}/v1/chats/{id}/messages?wait=30"))
                .header("X-Chat-Token", token)
                .send()
                .await
                .expect("customer poll")
        }
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        !agent_poll.is_finished() && !customer_poll.is_finished(),
        "both polls wait"
    );
    let started = std::time::Instant::now();
    ts.server.shutdown();
    let agent = tokio::time::timeout(Duration::from_secs(3), agent_poll)
        .await
        .expect("agent poll returns promptly")
        .expect("task");
    let customer = tokio::time::timeout(Duration::from_secs(3), customer_poll)
        .await
        .expect("customer poll returns promptly")
        .expect("task");
    assert_eq!(agent.status(), StatusCode::OK);
    assert_eq!(customer.status(), StatusCode::OK);
    let body: Value = agent.json().await.expect("json");
    assert_eq!(
        body["offers"][0]["chat_id"], chat["id"],
        "still open, listed again"
    );
    tokio::time::timeout(Duration::from_secs(5), ts.server.join())
        .await
        .expect("server stops")
        .expect("cleanly");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_burst_keeps_the_books_and_forgets_old_chats() {
    const WORKERS: usize = 16;
    const CHATS_PER_WORKER: usize = 40;
    let toml = PROFILE.replace(
        "accept = { timeout = \"30s\", misses_before_away = 1 }",
        "accept = \"auto\"",
    );
    let profile = profile::parse(&toml, "server-test.toml", None).expect("profile");
    let mut config = ServerConfig::new(profile);
    config.bind = "127.0.0.1:0".parse().expect("address");
    config.limits.ended_kept = 100;
    let server = server::bind(config).await.expect("binds");
    let base = format!("http://{}", server.local_addr());
    let client = Client::builder()
        .timeout(Duration::from_secs(15))
        .build()
        .expect("client");
    let mut tokens = HashMap::new();
    for k in 0..8 {
        let login: Value = client
            .post(format!("{base}/v1/agents/tier1-{k}/login"))
            .send()
            .await
            .expect("login")
            .json()
            .await
            .expect("login json");
        let token = str_of(&login["token"]).to_string();
        let resp = client
            .post(format!("{base}/v1/agents/tier1-{k}/status"))
            .bearer_auth(&token)
            .json(&json!({"status": "available", "concurrency": 4}))
            .send()
            .await
            .expect("register");
        assert_eq!(resp.status(), StatusCode::CREATED);
        tokens.insert(format!("tier1-{k}"), token);
    }
    let tokens = std::sync::Arc::new(tokens);
    let started = std::time::Instant::now();
    let mut tasks = Vec::new();
    for w in 0..WORKERS {
        let (client, base, tokens) = (client.clone(), base.clone(), tokens.clone());
        tasks.push(tokio::spawn(async move {
            let mut first = None;
            for _ in 0..CHATS_PER_WORKER {
                let queue = if w % 4 == 0 { "billing" } else { "orders" };
                let created: Value = client
                    .post(format!("{base}/v1/chats"))
                    .json(&json!({ "queue": queue }))
                    .send()
                    .await
                    .expect("create")
                    .json()
                    .await
                    .expect("json");
                assert_eq!(created["state"], "active", "32 slots for 16 workers");
                let id = str_of(&created["id"]).to_string();
                first.get_or_insert_with(|| id.clone());
                // The customer's view names the agent, whose own token acts on the chat.
                let view: Value = client
                    .get(format!("{base}/v1/chats/{id}"))
                    .header("X-Chat-Token", str_of(&created["token"]))
                    .send()
                    .await
                    .expect("view")
                    .json()
                    .await
                    .expect("json");
                let token = &tokens[str_of(&view["agent"])];
                let resp = client
                    .post(format!("{base}/v1/chats/{id}/messages"))
                    .bearer_auth(token)
                    .json(&json!({"text": "on it"}))
                    .send()
                    .await
                    .expect("message");
                assert_eq!(resp.status(), StatusCode::CREATED);
                let resp = client
                    .post(format!("{base}/v1/chats/{id}/close"))
                    .bearer_auth(token)
                    .json(&json!({"resolution": "resolved"}))
                    .send()
                    .await
                    .expect("close");
                assert_eq!(resp.status(), StatusCode::OK);
            }
            first
        }));
    }
    let mut first_ids = Vec::new();
    for task in tasks {
        first_ids.extend(task.await.expect("worker"));
    }
    let elapsed = started.elapsed().as_secs_f64();
    let total = WORKERS * CHATS_PER_WORKER;
    eprintln!(
        "burst: {total} chats, {} requests in {elapsed:.2} s: {:.0} requests/s",
        4 * total,
        4.0 * total as f64 / elapsed
    );
    let stats: Value = client
        .get(format!("{base}/v1/stats"))
        .send()
        .await
        .expect("stats")
        .json()
        .await
        .expect("json");
    let c = &stats["chats"];
    assert_eq!(c["created"], total as u64);
    assert_eq!(c["closed"], total as u64);
    assert_eq!(c["active"], 0);
    assert_eq!(stats["overall"]["answered"], total as f64);
    assert_eq!(stats["overall"]["service_level"], 1.0);
    assert_eq!(stats["queues"]["billing"]["answered"], (total / 4) as f64);
    assert!(stats["overall"]["frt_secs"].is_number());
    // Only the last 100 ended chats (and their assignments) stay in memory.
    assert_eq!(stats["retained"]["chats"], 100);
    assert_eq!(stats["retained"]["offers"], 100);
    // Only the last 100 ended chats stay readable; the first ones are forgotten.
    let resp = client
        .get(format!("{base}/v1/chats/{}", first_ids[0]))
        .send()
        .await
        .expect("get");
    expect_error(resp, StatusCode::NOT_FOUND, "unknown_chat").await;
    server.shutdown();
    tokio::time::timeout(Duration::from_secs(5), server.join())
        .await
        .expect("stops")
        .expect("cleanly");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_settings_are_refused_before_serving() {
    let profile = profile::parse(PROFILE, "server-test.toml", None).expect("profile");
    let mut config = ServerConfig::new(profile);
    config.bind = "127.0.0.1:0".parse().expect("address");
    config.time_scale = 0.5;
    let err = server::bind(config.clone())
        .await
        .err()
        .expect("time scale below 1");
    assert!(err.to_string().contains("time scale 0.5"), "{err}");
    config.time_scale = 1.0;
    config.agent_token = Some(String::new());
    let err = server::bind(config.clone())
        .await
        .err()
        .expect("empty token");
    assert!(err.to_string().contains("agent token is empty"), "{err}");
    assert!(!format!("{config:?}").contains("agent_token: Some(\"\")"));

    // A port already in use is a clear bind error naming the address.
    config.agent_token = Some("secret".to_string());
    let first = server::bind(config.clone()).await.expect("first server");
    config.bind = first.local_addr();
    let err = server::bind(config.clone())
        .await
        .err()
        .expect("port in use");
    assert!(matches!(err, server::ServerError::Bind { .. }), "{err}");
    assert!(
        err.to_string().contains(&first.local_addr().to_string()),
        "{err}"
    );
    assert!(
        !format!("{config:?}").contains("secret"),
        "Debug hides the token"
    );
    first.shutdown();
    tokio::time::timeout(Duration::from_secs(5), first.join())
        .await
        .expect("stops")
        .expect("cleanly");

    // The command checks its flags before it builds a runtime or binds.
    let cli = <chatcap::Cli as clap::Parser>::parse_from(["chatcap", "serve", "--time-scale", "0"]);
    let err = chatcap::run(cli, &mut Vec::new()).expect_err("time scale 0");
    assert_eq!(err.exit_code(), 2);
    assert!(err.to_string().contains("--time-scale"), "{err}");
}

/// Sends raw bytes to the server and returns what it answers within 5 s (the status line and
/// the rest), so that requests no HTTP client would send can be tried.
async fn raw_exchange(ts: &TestServer, request: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = ts.base.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    stream.write_all(request.as_bytes()).await.expect("write");
    let mut answer = vec![0u8; 4096];
    let n = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut answer))
        .await
        .expect("an answer within 5 s")
        .expect("read");
    String::from_utf8_lossy(&answer[..n]).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_requests_get_json_errors_in_public_names() {
    let toml = PROFILE.replace(
        "accept = { timeout = \"30s\", misses_before_away = 1 }",
        "accept = \"auto\"",
    );
    let mut config = config_of(&toml);
    config.limits.body_timeout = Duration::from_millis(300);
    let ts = serve(config).await;

    // A body that stops halfway is answered 408 once the body timeout passes.
    let stalled = raw_exchange(
        &ts,
        "POST /v1/chats HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"queue\":\"orders\"}",
    )
    .await;
    assert!(stalled.starts_with("HTTP/1.1 408"), "{stalled}");
    assert!(stalled.contains("body_timeout"), "{stalled}");
    // A declared length over the limit is refused before any body is read.
    let huge = raw_exchange(
        &ts,
        "POST /v1/chats HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999\r\n\r\n",
    )
    .await;
    assert!(huge.starts_with("HTTP/1.1 413"), "{huge}");
    assert!(huge.contains("body_too_large"), "{huge}");
    // An id that is not UTF-8 gets the API's JSON error, not a plain-text one.
    let resp = ts.get("/v1/chats/%FF").send().await.expect("send");
    expect_error(resp, StatusCode::BAD_REQUEST, "bad_path").await;

    for (skill, expected) in [
        (
            json!({"name": "orders", "profficiency": 9}),
            "skill key \"profficiency\" is unknown",
        ),
        (
            json!({"name": "orders", "proficiency": 300}),
            "proficiency 300 is not a whole number 1..=10",
        ),
    ] {
        let resp = ts
            .post("/v1/agents/alice/status")
            .json(&json!({"status": "available", "skills": [skill]}))
            .send()
            .await
            .expect("send");
        let detail = expect_error(resp, StatusCode::BAD_REQUEST, "bad_field").await;
        assert!(detail.contains(expected), "{detail}");
    }
    ts.login("alice").await;

    // A struct's fields in an array are not a request.
    let resp = ts
        .post("/v1/chats")
        .body(r#"["orders", null, 5]"#)
        .send()
        .await
        .expect("send");
    let detail = expect_error(resp, StatusCode::BAD_REQUEST, "bad_field").await;
    assert!(detail.contains("JSON array"), "{detail}");

    let chat = ts.create_chat("orders").await;
    let id = str_of(&chat["id"]);
    // Each chat has one id: no sign, no leading zero.
    let digits = id.trim_start_matches("c-");
    for alias in [format!("c-0{digits}"), format!("c-+{digits}")] {
        let resp = ts
            .get(&format!("/v1/chats/{alias}"))
            .send()
            .await
            .expect("send");
        expect_error(resp, StatusCode::NOT_FOUND, "unknown_chat").await;
    }
    let resp = ts
        .post(&format!("/v1/chats/{id}/transfer"))
        .json(&json!({"queue": "billing", "note": " "}))
        .send()
        .await
        .expect("send");
    let detail = expect_error(resp, StatusCode::BAD_REQUEST, "bad_field").await;
    assert!(detail.contains("note is empty"), "{detail}");
    // The core's refusals name chats and agents as clients know them.
    let resp = ts
        .agent_post("alice", &format!("/v1/chats/{id}/transfer"))
        .json(&json!({"agent": "alice"}))
        .send()
        .await
        .expect("send");
    let detail = expect_error(resp, StatusCode::CONFLICT, "transfer_to_self").await;
    assert!(
        detail.contains(&format!("chat {id} is already with agent \"alice\"")),
        "{detail}"
    );
    assert!(!detail.contains('#'), "{detail}");
    ts.stop().await;
}

/// Every response a customer gets (create, view, send, read, leave) is free of handover notes,
/// whichever way the customer authenticates.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn customer_facing_responses_never_carry_agent_notes() {
    let ts = start().await;
    ts.login("tier1-1").await;
    ts.login("tier1-2").await;
    let chat = ts.active_chat("tier1-1", "orders").await;
    let (id, token) = (str_of(&chat["id"]), str_of(&chat["token"]));
    let resp = ts
        .agent_post("tier1-1", &format!("/v1/chats/{id}/transfer"))
        .json(&json!({"queue": "billing", "note": "INTERNAL: customer is rude"}))
        .send()
        .await
        .expect("transfer");
    assert_eq!(resp.status(), StatusCode::OK);
    let moved: Value = resp.json().await.expect("json");
    assert_eq!(moved["notes"][0]["note"], "INTERNAL: customer is rude");
    let agent_view: Value = ts
        .agent_get("tier1-2", &format!("/v1/chats/{id}"))
        .send()
        .await
        .expect("agent view")
        .json()
        .await
        .expect("json");
    assert_eq!(agent_view["notes"].as_array().map(Vec::len), Some(1));

    let customer_calls = [
        ts.get(&format!("/v1/chats/{id}"))
            .header("X-Chat-Token", token),
        ts.get(&format!("/v1/chats/{id}")).bearer_auth(token),
        ts.post(&format!("/v1/chats/{id}/messages"))
            .header("X-Chat-Token", token)
            .json(&json!({"text": "hello?"})),
        ts.get(&format!("/v1/chats/{id}/messages?after=0"))
            .bearer_auth(token),
        ts.post(&format!("/v1/chats/{id}/leave"))
            .header("X-Chat-Token", token),
        ts.get(&format!("/v1/chats/{id}"))
            .header("X-Chat-Token", token),
    ];
    for request in customer_calls {
        let resp = request.send().await.expect("customer call");
        assert!(resp.status().is_success(), "{}", resp.status());
        let text = resp.text().await.expect("body");
        assert!(
            !text.contains("INTERNAL") && !text.contains("\"notes\""),
            "a customer saw the note: {text}"
        );
    }
    ts.stop().await;
}

/// With an operator token, login needs it; every other agent call needs the agent's own
/// token (401 without one, 403 with another agent's), and a new login replaces the old token.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_agent_acts_only_with_its_own_token() {
    let ts = start().await;
    for bearer in [None, Some("wrong")] {
        let mut request = ts.post("/v1/agents/tier1-1/login");
        if let Some(b) = bearer {
            request = request.bearer_auth(b);
        }
        let resp = request.send().await.expect("login");
        expect_error(resp, StatusCode::UNAUTHORIZED, "unauthorized").await;
    }
    ts.login("tier1-1").await;
    // tier1-1 holds an active chat and an open offer (its second slot).
    let chat = ts.active_chat("tier1-1", "orders").await;
    let id = str_of(&chat["id"]).to_string();
    let second = ts.create_chat("billing").await;
    let offers = ts.offers("tier1-1", 5.0).await;
    let open = offers["offers"]
        .as_array()
        .and_then(|o| o.iter().find(|o| o["chat_id"] == second["id"]))
        .expect("the second chat's offer")
        .clone();
    let offer_id = str_of(&open["offer_id"]).to_string();
    ts.login("tier1-2").await;
    let before = ts.counts().await;

    // tier1-2's token on tier1-1's chat, offer and inbox: 403.
    let cases: Vec<(RequestBuilder, &str)> = vec![
        (
            ts.agent_post("tier1-2", &format!("/v1/offers/{offer_id}/accept")),
            "not_your_offer",
        ),
        (
            ts.agent_post("tier1-2", &format!("/v1/offers/{offer_id}/decline")),
            "not_your_offer",
        ),
        (
            ts.agent_post("tier1-2", &format!("/v1/chats/{id}/messages"))
                .json(&json!({"text": "I am tier1-1"})),
            "not_your_chat",
        ),
        (
            ts.agent_post("tier1-2", &format!("/v1/chats/{id}/close"))
                .json(&json!({"resolution": "resolved"})),
            "not_your_chat",
        ),
        (
            ts.agent_post("tier1-2", &format!("/v1/chats/{id}/transfer"))
                .json(&json!({"queue": "billing"})),
            "not_your_chat",
        ),
        (
            ts.agent_get("tier1-2", "/v1/agents/tier1-1/offers"),
            "forbidden",
        ),
        (
            ts.agent_post("tier1-2", "/v1/agents/tier1-1/status")
                .json(&json!({"status": "offline"})),
            "forbidden",
        ),
        (ts.agent_get("tier1-2", "/v1/agents/tier1-1"), "forbidden"),
    ];
    for (request, code) in cases {
        let resp = request.send().await.expect("send");
        expect_error(resp, StatusCode::FORBIDDEN, code).await;
    }
    // No token, or the operator token (it only logs agents in): 401.
    for bearer in [None, Some(TOKEN)] {
        let mut request = ts.post(&format!("/v1/chats/{id}/close"));
        if let Some(b) = bearer {
            request = request.bearer_auth(b);
        }
        let resp = request
            .json(&json!({"resolution": "resolved"}))
            .send()
            .await
            .expect("send");
        expect_error(resp, StatusCode::UNAUTHORIZED, "unauthorized").await;
    }
    let resp = ts
        .get("/v1/agents/tier1-1/offers")
        .bearer_auth(TOKEN)
        .send()
        .await
        .expect("send");
    let detail = expect_error(resp, StatusCode::UNAUTHORIZED, "unauthorized").await;
    assert!(detail.contains("login"), "{detail}");
    assert_eq!(ts.counts().await["active"], before["active"]);

    // A new login replaces the token: the old one stops working, the new one acts.
    let old = ts.token_of("tier1-1");
    ts.agent_token("tier1-1").await;
    let resp = ts
        .get("/v1/agents/tier1-1")
        .bearer_auth(old)
        .send()
        .await
        .expect("send");
    expect_error(resp, StatusCode::UNAUTHORIZED, "unauthorized").await;
    let resp = ts
        .agent_post("tier1-1", &format!("/v1/offers/{offer_id}/accept"))
        .send()
        .await
        .expect("accept");
    assert_eq!(resp.status(), StatusCode::OK);
    ts.stop().await;
}

/// Without an operator token login is open, but not for an agent that is online: only its own
/// token logs it in again, so nobody takes over a working agent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn open_login_cannot_take_over_an_online_agent() {
    let ts = start_with(PROFILE, None, 1.0).await;
    ts.login("tier1-1").await;
    let resp = ts
        .post("/v1/agents/tier1-1/login")
        .send()
        .await
        .expect("login");
    expect_error(resp, StatusCode::CONFLICT, "logged_in").await;
    let resp = ts
        .post("/v1/agents/tier1-1/login")
        .bearer_auth(ts.token_of("tier1-1"))
        .send()
        .await
        .expect("login");
    assert_eq!(resp.status(), StatusCode::OK);
    let token = str_of(&resp.json::<Value>().await.expect("json")["token"]).to_string();
    let resp = ts
        .post("/v1/agents/tier1-1/status")
        .bearer_auth(&token)
        .json(&json!({"status": "offline"}))
        .send()
        .await
        .expect("offline");
    assert_eq!(resp.status(), StatusCode::OK);
    // Offline, the id is free to log in again.
    let resp = ts
        .post("/v1/agents/tier1-1/login")
        .send()
        .await
        .expect("login");
    assert_eq!(resp.status(), StatusCode::OK);
    // A request with no credentials is nobody's.
    let chat = ts.create_chat("orders").await;
    let resp = ts
        .get(&format!("/v1/chats/{}", str_of(&chat["id"])))
        .send()
        .await
        .expect("send");
    expect_error(resp, StatusCode::UNAUTHORIZED, "unauthorized").await;
    ts.stop().await;
}

/// A customer leaving an active chat wakes the agent's pending inbox long-poll with a
/// `customer_left` event, delivered once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agents_hear_when_a_customer_leaves_an_active_chat() {
    let ts = start().await;
    ts.login("tier1-1").await;
    let chat = ts.active_chat("tier1-1", "orders").await;
    let poll = ts.pending_inbox_poll("tier1-1");
    tokio::time::sleep(Duration::from_millis(100)).await;
    let resp = ts
        .post(&format!("/v1/chats/{}/leave", str_of(&chat["id"])))
        .header("X-Chat-Token", str_of(&chat["token"]))
        .send()
        .await
        .expect("leave");
    assert_eq!(resp.status(), StatusCode::OK);
    let inbox = tokio::time::timeout(Duration::from_secs(5), poll)
        .await
        .expect("the pending long-poll answers when the customer leaves")
        .expect("poll task");
    let events = inbox["events"].as_array().expect("events");
    assert_eq!(events.len(), 1, "{inbox}");
    assert_eq!(events[0]["kind"], "customer_left");
    assert_eq!(events[0]["chat_id"], chat["id"]);
    assert!(events[0]["at"].as_f64().is_some());
    assert_eq!(ts.offers("tier1-1", 0.0).await["events"], json!([]));
    ts.stop().await;
}

/// A transferred chat lists one handling leg per agent; the server's AHT is their mean, and
/// `?buckets=true` gives the route-latency histogram a client can subtract.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chat_views_list_every_handling_leg_and_aht_is_their_mean() {
    let ts = start().await;
    ts.login("tier1-1").await;
    let chat = ts.active_chat("tier1-1", "orders").await;
    let id = str_of(&chat["id"]).to_string();
    tokio::time::sleep(Duration::from_millis(300)).await;
    ts.login("tier1-2").await;
    let resp = ts
        .agent_post("tier1-1", &format!("/v1/chats/{id}/transfer"))
        .json(&json!({"agent": "tier1-2"}))
        .send()
        .await
        .expect("transfer");
    assert_eq!(resp.status(), StatusCode::OK);
    let offers = ts.offers("tier1-2", 5.0).await;
    let offer = str_of(&offers["offers"][0]["offer_id"]).to_string();
    let resp = ts
        .agent_post("tier1-2", &format!("/v1/offers/{offer}/accept"))
        .send()
        .await
        .expect("accept");
    assert_eq!(resp.status(), StatusCode::OK);
    tokio::time::sleep(Duration::from_millis(100)).await;
    let closed: Value = ts
        .agent_post("tier1-2", &format!("/v1/chats/{id}/close"))
        .json(&json!({"resolution": "resolved"}))
        .send()
        .await
        .expect("close")
        .json()
        .await
        .expect("json");
    let legs = closed["legs"].as_array().expect("legs");
    assert_eq!(legs.len(), 2, "{closed}");
    let spans: Vec<f64> = legs
        .iter()
        .map(|l| l["ended_at"].as_f64().expect("ended") - l["answered_at"].as_f64().expect("a"))
        .collect();
    assert!(spans[0] >= 0.3 && spans[1] >= 0.1, "{spans:?}");
    let stats: Value = ts
        .get("/v1/stats?buckets=true")
        .send()
        .await
        .expect("stats")
        .json()
        .await
        .expect("json");
    let aht = stats["queues"]["orders"]["aht_secs"].as_f64().expect("aht");
    let mean = (spans[0] + spans[1]) / 2.0;
    assert!((aht - mean).abs() < 1e-3, "aht {aht} vs mean leg {mean}");
    let buckets = stats["route_latency_buckets"].as_array().expect("buckets");
    let total: u64 = buckets.iter().map(|b| b[1].as_u64().expect("count")).sum();
    assert_eq!(total, stats["route_latency"]["count"].as_u64().expect("n"));
    assert!(ts.stats().await.get("route_latency_buckets").is_none());
    ts.stop().await;
}
