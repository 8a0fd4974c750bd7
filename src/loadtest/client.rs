//! The load test's client of the API of docs/api.md: one method per endpoint, taking and
//! returning the wire types of [`crate::api`], so that it needs nothing of the server it tests.
//! Every call goes through goose's client (named for goose's reports) and is timed into the
//! per-endpoint histograms. A call fails unless its answer is 2xx with the documented body, or
//! an error a chat flow expects from races (a customer leaving while an agent accepts, a full
//! queue), which each method lists; failures are tallied by kind.

use std::time::Duration;

use goose::prelude::*;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::endpoint::Endpoint;
use super::run_state::{RunState, record_duration};
use crate::api::{
    Chat, CloseRequest, CreateChatRequest, CreatedChat, ErrorBody, Inbox, Login, Message,
    MessageRequest, Messages, OfferAnswer, Stats, StatusRequest, TransferRequest,
};

/// Pause after an unexpected failure (no answer, or an unexpected status), so that a user whose
/// calls fail retries at a modest rate instead of as fast as the server refuses.
const FAILURE_BACKOFF: Duration = Duration::from_millis(100);

/// The stats path the run's snapshots read: with the route-latency histogram's buckets.
const SNAPSHOT_PATH: &str = "/v1/stats?buckets=true";

/// Who is calling.
#[derive(Debug, Clone, Copy)]
enum Auth<'a> {
    /// A customer with the chat token.
    Customer(&'a str),
    /// An agent, with the token its login returned.
    Agent(&'a str),
    /// The operator token, when one is configured (agent login).
    Operator,
    /// Nobody (chat creation).
    Anonymous,
}

/// An error answer: its status and the API's error body (empty when it sent none).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Refusal {
    /// HTTP status, 4xx or 5xx.
    pub status: u16,
    /// The API error code, e.g. `queue_full`.
    pub code: String,
    /// The server's explanation.
    pub detail: String,
}

/// What one call came to.
#[derive(Debug)]
pub(crate) enum Outcome<T> {
    /// A 2xx answer with the documented body.
    Done(T),
    /// An error answer, expected or not.
    Refused(Refusal),
    /// No answer, or a 2xx answer without the documented body.
    Failed,
}

impl<T> Outcome<T> {
    /// Whether the server refused with `status`.
    pub(crate) fn refused(&self, status: u16) -> bool {
        matches!(self, Outcome::Refused(r) if r.status == status)
    }
}

/// A call's result; `Err` only when goose is shutting down.
type Answer<T> = Result<Outcome<T>, Box<TransactionError>>;

/// One request as the client sends it.
struct Call<'a> {
    endpoint: Endpoint,
    method: GooseMethod,
    path: String,
    auth: Auth<'a>,
    body: Option<serde_json::Value>,
    /// Error answers that are normal outcomes here, not failures: a status with an API error
    /// code (`""`: any code).
    expected: &'a [(u16, &'a str)],
}

impl<'a> Call<'a> {
    fn new(endpoint: Endpoint, method: GooseMethod, path: String, auth: Auth<'a>) -> Call<'a> {
        Call {
            endpoint,
            method,
            path,
            auth,
            body: None,
            expected: &[],
        }
    }

    fn body(mut self, body: &impl Serialize) -> Call<'a> {
        // The request types serialize to JSON objects; this cannot fail.
        self.body = serde_json::to_value(body).ok();
        self
    }

    fn expecting(mut self, expected: &'a [(u16, &'a str)]) -> Call<'a> {
        self.expected = expected;
        self
    }
}

/// Errors an agent meets when its chat or offer ended meanwhile (the customer left).
const GONE: &[(u16, &str)] = &[(409, ""), (404, "")];

/// One goose user's calls, recorded into the run.
pub(crate) struct Client<'a> {
    user: &'a mut GooseUser,
    run: &'a RunState,
}

impl<'a> Client<'a> {
    pub(crate) fn new(user: &'a mut GooseUser, run: &'a RunState) -> Client<'a> {
        Client { user, run }
    }

    /// `POST /v1/chats`; a full queue or server is an answer, not a failure.
    pub(crate) async fn create_chat(&mut self, request: &CreateChatRequest) -> Answer<CreatedChat> {
        let call = Call::new(
            Endpoint::CreateChat,
            GooseMethod::Post,
            "/v1/chats".into(),
            Auth::Anonymous,
        );
        self.send(
            call.body(request)
                .expecting(&[(503, "queue_full"), (503, "server_full")]),
        )
        .await
    }

    /// `GET /v1/chats/{id}` as its customer.
    pub(crate) async fn chat(&mut self, chat: &str, token: &str) -> Answer<Chat> {
        let path = format!("/v1/chats/{chat}");
        self.send(Call::new(
            Endpoint::GetChat,
            GooseMethod::Get,
            path,
            Auth::Customer(token),
        ))
        .await
    }

    /// `POST /v1/chats/{id}/messages` as its customer; an ended chat (409) is an answer.
    pub(crate) async fn customer_message(
        &mut self,
        chat: &str,
        token: &str,
        text: &str,
    ) -> Answer<Message> {
        let path = format!("/v1/chats/{chat}/messages");
        let call = Call::new(
            Endpoint::CustomerMessage,
            GooseMethod::Post,
            path,
            Auth::Customer(token),
        );
        let body = MessageRequest { text: text.into() };
        self.send(call.body(&body).expecting(&[(409, "")])).await
    }

    /// `GET /v1/chats/{id}/messages?after=N&wait=S` (long-poll) as its customer.
    pub(crate) async fn messages(
        &mut self,
        chat: &str,
        token: &str,
        after: u64,
        wait: Duration,
    ) -> Answer<Messages> {
        let path = format!(
            "/v1/chats/{chat}/messages?after={after}&wait={:.3}",
            wait.as_secs_f64()
        );
        let call = Call::new(
            Endpoint::PollMessages,
            GooseMethod::Get,
            path,
            Auth::Customer(token),
        );
        self.send(call).await
    }

    /// `POST /v1/chats/{id}/leave`; a chat that ended meanwhile (409) is an answer.
    pub(crate) async fn leave(&mut self, chat: &str, token: &str) -> Answer<Chat> {
        let path = format!("/v1/chats/{chat}/leave");
        let call = Call::new(
            Endpoint::LeaveChat,
            GooseMethod::Post,
            path,
            Auth::Customer(token),
        );
        self.send(call.expecting(&[(409, "invalid_state")])).await
    }

    /// `POST /v1/agents/{id}/login` with the operator token, when there is one.
    pub(crate) async fn login(&mut self, agent: &str) -> Answer<Login> {
        let path = format!("/v1/agents/{agent}/login");
        self.send(Call::new(
            Endpoint::AgentLogin,
            GooseMethod::Post,
            path,
            Auth::Operator,
        ))
        .await
    }

    /// `POST /v1/agents/{id}/status`: registration, or a status change.
    pub(crate) async fn status(
        &mut self,
        agent: &str,
        token: &str,
        request: &StatusRequest,
    ) -> Answer<crate::api::Agent> {
        let path = format!("/v1/agents/{agent}/status");
        let call = Call::new(
            Endpoint::AgentStatus,
            GooseMethod::Post,
            path,
            Auth::Agent(token),
        );
        self.send(call.body(request)).await
    }

    /// `GET /v1/agents/{id}/offers?wait=S` (long-poll): the agent's inbox.
    pub(crate) async fn inbox(
        &mut self,
        agent: &str,
        token: &str,
        wait: Duration,
    ) -> Answer<Inbox> {
        let path = format!("/v1/agents/{agent}/offers?wait={:.3}", wait.as_secs_f64());
        self.send(Call::new(
            Endpoint::PollOffers,
            GooseMethod::Get,
            path,
            Auth::Agent(token),
        ))
        .await
    }

    /// `POST /v1/offers/{id}/accept`; a withdrawn or lapsed offer is an answer.
    pub(crate) async fn accept(&mut self, offer: &str, token: &str) -> Answer<OfferAnswer> {
        let path = format!("/v1/offers/{offer}/accept");
        let call = Call::new(
            Endpoint::AcceptOffer,
            GooseMethod::Post,
            path,
            Auth::Agent(token),
        );
        self.send(call.expecting(GONE)).await
    }

    /// `POST /v1/chats/{id}/messages` as the agent holding it; an ended chat is an answer.
    pub(crate) async fn agent_message(
        &mut self,
        chat: &str,
        token: &str,
        text: &str,
    ) -> Answer<Message> {
        let path = format!("/v1/chats/{chat}/messages");
        let call = Call::new(
            Endpoint::AgentMessage,
            GooseMethod::Post,
            path,
            Auth::Agent(token),
        );
        let body = MessageRequest { text: text.into() };
        self.send(call.body(&body).expecting(GONE)).await
    }

    /// `POST /v1/chats/{id}/close`; an ended chat is an answer.
    pub(crate) async fn close(
        &mut self,
        chat: &str,
        token: &str,
        request: &CloseRequest,
    ) -> Answer<Chat> {
        let path = format!("/v1/chats/{chat}/close");
        let call = Call::new(
            Endpoint::CloseChat,
            GooseMethod::Post,
            path,
            Auth::Agent(token),
        );
        self.send(call.body(request).expecting(GONE)).await
    }

    /// `POST /v1/chats/{id}/transfer`; an ended chat or a full target queue is an answer.
    pub(crate) async fn transfer(
        &mut self,
        chat: &str,
        token: &str,
        request: &TransferRequest,
    ) -> Answer<Chat> {
        let path = format!("/v1/chats/{chat}/transfer");
        let call = Call::new(
            Endpoint::TransferChat,
            GooseMethod::Post,
            path,
            Auth::Agent(token),
        );
        let expected = &[(409, ""), (404, ""), (503, "queue_full")];
        self.send(call.body(request).expecting(expected)).await
    }

    /// `GET /v1/stats?buckets=true` outside goose's metrics: `Ok(None)` when the server has no
    /// such endpoint or answers with another body; `Err` when it does not answer.
    pub(crate) async fn stats_snapshot(&mut self) -> Result<Option<Stats>, String> {
        let builder = self
            .user
            .get_request_builder(&GooseMethod::Get, SNAPSHOT_PATH)
            .map_err(|e| format!("{e:?}"))?;
        let response = builder.send().await.map_err(|e| transport_cause(&e))?;
        if !response.status().is_success() {
            return Ok(None);
        }
        let bytes = response
            .bytes()
            .await
            .map_err(|e| e.without_url().to_string())?;
        Ok(serde_json::from_slice(&bytes).ok())
    }

    /// Sends one request, records it, and reads its answer. Only goose's own shutdown makes
    /// this an `Err`.
    async fn send<T: DeserializeOwned>(&mut self, call: Call<'_>) -> Answer<T> {
        let ep = call.endpoint;
        let request = self.request(&call)?;
        let goose = self.user.request(request).await?;
        let mut metric = goose.request;
        let latency = Duration::from_micros(metric.response_time_micros());
        let (outcome, failure) = match goose.response {
            Ok(response) => {
                let status = response.status().as_u16();
                let bytes = response.bytes().await.unwrap_or_default();
                read_answer(status, &bytes, call.expected)
            }
            Err(e) => (
                Outcome::Failed,
                Some(format!("no answer ({})", transport_cause(&e))),
            ),
        };
        if failure.is_none() && !metric.success {
            self.user.set_success(&mut metric)?;
        }
        {
            let mut rec = self.run.rec();
            let stats = rec.endpoint(ep);
            stats.requests += 1;
            stats.failures += u64::from(failure.is_some());
            record_duration(&mut stats.latency_us, latency);
            if let Some(why) = &failure {
                rec.error(format!("{}: {why}", ep.name()));
            }
        }
        if failure.is_some() {
            tokio::time::sleep(FAILURE_BACKOFF).await;
        }
        Ok(outcome)
    }

    /// Goose's request for `call`, with its credentials and body.
    fn request<'c>(
        &mut self,
        call: &'c Call<'_>,
    ) -> Result<GooseRequest<'c>, Box<TransactionError>> {
        let mut builder = self.user.get_request_builder(&call.method, &call.path)?;
        match call.auth {
            Auth::Customer(token) => builder = builder.header("X-Chat-Token", token),
            Auth::Agent(token) => builder = builder.bearer_auth(token),
            Auth::Operator => {
                if let Some(token) = &self.run.agent_token {
                    builder = builder.bearer_auth(token);
                }
            }
            Auth::Anonymous => {}
        }
        if let Some(body) = &call.body {
            builder = builder.json(body);
        }
        Ok(GooseRequest::builder()
            .method(call.method)
            .path(call.path.as_str())
            .name(call.endpoint.name())
            .set_request_builder(builder)
            .build())
    }
}

/// The outcome of an answer with `status` and `bytes`, and why it is a failure, if it is.
fn read_answer<T: DeserializeOwned>(
    status: u16,
    bytes: &[u8],
    expected: &[(u16, &str)],
) -> (Outcome<T>, Option<String>) {
    if (200..300).contains(&status) {
        return match serde_json::from_slice(bytes) {
            Ok(body) => (Outcome::Done(body), None),
            Err(e) => (
                Outcome::Failed,
                Some(format!("{status} without the documented body ({e})")),
            ),
        };
    }
    let (code, detail) = match serde_json::from_slice::<ErrorBody>(bytes) {
        Ok(body) => (body.error, body.detail),
        Err(_) => (String::new(), String::new()),
    };
    let expected_hit = expected
        .iter()
        .any(|(s, c)| *s == status && (c.is_empty() || *c == code));
    let failure = (!expected_hit).then(|| {
        if code.is_empty() {
            status.to_string()
        } else {
            format!("{status} {code}")
        }
    });
    let refusal = Refusal {
        status,
        code,
        detail,
    };
    (Outcome::Refused(refusal), failure)
}

/// Why a request got no answer, in plain words: the innermost cause ("connection refused")
/// rather than the client library's "error sending request".
pub(crate) fn transport_cause(error: &(dyn std::error::Error + 'static)) -> String {
    let mut source = Some(error);
    let mut innermost = error.to_string();
    while let Some(e) = source {
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            match io.kind() {
                std::io::ErrorKind::ConnectionRefused => {
                    return "connection refused (nothing listens there)".to_string();
                }
                std::io::ErrorKind::TimedOut => return "timed out".to_string(),
                _ => {}
            }
        }
        if let Some(r) = e.downcast_ref::<reqwest::Error>()
            && r.is_timeout()
        {
            return "timed out waiting for an answer".to_string();
        }
        innermost = e.to_string();
        source = e.source();
    }
    innermost
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(
        status: u16,
        body: &str,
        expected: &[(u16, &str)],
    ) -> (Outcome<CreatedChat>, Option<String>) {
        read_answer(status, body.as_bytes(), expected)
    }

    #[test]
    fn answers_are_read_as_documented_bodies_or_named_failures() {
        let created = r#"{"id": "c-1", "token": "t", "queue": "sales", "state": "queued",
            "position": 1, "estimated_wait_secs": 12.5}"#;
        let (outcome, failure) = read(201, created, &[]);
        assert!(failure.is_none());
        assert!(
            matches!(outcome, Outcome::Done(c) if c.id == "c-1" && c.estimated_wait_secs == 12.5)
        );
        // A 2xx answer without the documented body fails and says what is missing.
        let (outcome, failure) = read(201, r#"{"id": "c-1"}"#, &[]);
        assert!(matches!(outcome, Outcome::Failed));
        assert!(failure.is_some_and(|f| f.starts_with("201 ") && f.contains("token")));
        // An expected refusal is an answer; the same status with another code is a failure.
        let full = r#"{"error": "queue_full", "detail": "the queue is full"}"#;
        let expected = &[(503, "queue_full")];
        let (outcome, failure) = read(503, full, expected);
        assert!(failure.is_none());
        assert!(
            matches!(&outcome, Outcome::Refused(r) if r.code == "queue_full" && r.detail == "the queue is full")
        );
        assert!(outcome.refused(503) && !outcome.refused(409));
        let other = r#"{"error": "capacity", "detail": "too many"}"#;
        assert_eq!(
            read(503, other, expected).1.as_deref(),
            Some("503 capacity")
        );
        // "" accepts any code; a body that is not the error body still refuses.
        assert!(read(409, other, &[(409, "")]).1.is_none());
        let (outcome, failure) = read(500, "oops", &[]);
        assert_eq!(failure.as_deref(), Some("500"));
        assert!(matches!(outcome, Outcome::Refused(r) if r.status == 500 && r.code.is_empty()));
    }
}
