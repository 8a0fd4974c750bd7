//! The load test's one executor of target calls ([`super::target`]): it renders a call's path,
//! headers and body from the flow's variables, sends it through goose's client (named for
//! goose's reports), times it into the call's row, sorts the answer into success, an expected
//! refusal or a failure, and captures values from successful answers. A failure (no answer, an
//! unexpected status, a captured value missing) is counted per call and by kind, never lost.

use std::time::Duration;

use goose::prelude::*;
use serde_json::Value;

use super::run_state::{RunState, record_duration};
use super::target::{Call, Meaning, Method, Op, Values};

/// Pause after an unexpected failure (no answer, or an unexpected status), so that a user whose
/// calls fail retries at a modest rate instead of as fast as the server refuses.
const FAILURE_BACKOFF: Duration = Duration::from_millis(100);

/// What one operation came to.
#[derive(Debug)]
pub(crate) enum Outcome {
    /// Every call succeeded; the last answer's body (`null` when it had none).
    Done(Value),
    /// A call was refused: its status, what the target says it means (`None`: unexpected),
    /// and the body.
    Refused {
        status: u16,
        meaning: Option<Meaning>,
        body: Value,
    },
    /// No answer, or an answer without a value to capture.
    Failed,
}

impl Outcome {
    /// Whether the target calls this refusal `meaning`.
    pub(crate) fn is(&self, meaning: Meaning) -> bool {
        matches!(self, Outcome::Refused { meaning: Some(m), .. } if *m == meaning)
    }
}

/// A call's result; `Err` only when goose is shutting down.
pub(crate) type Answer = Result<Outcome, Box<TransactionError>>;

/// One goose user's calls, recorded into the run.
pub(crate) struct Client<'a> {
    user: &'a mut GooseUser,
    run: &'a RunState,
}

impl<'a> Client<'a> {
    pub(crate) fn new(user: &'a mut GooseUser, run: &'a RunState) -> Client<'a> {
        Client { user, run }
    }

    /// Runs `op`'s calls in order with `values`, capturing into them; stops at the first call
    /// that does not succeed.
    pub(crate) async fn op(&mut self, op: &Op, values: &mut Values) -> Answer {
        let mut last = Outcome::Failed;
        for call in &op.calls {
            last = self.call(op.name, call, values).await?;
            if !matches!(last, Outcome::Done(_)) {
                break;
            }
        }
        Ok(last)
    }

    /// Sends one call, records it, and reads its answer.
    async fn call(&mut self, op: &str, call: &Call, values: &mut Values) -> Answer {
        let mut request = match render(call, values) {
            Ok(r) => r,
            Err(why) => {
                self.failed(call, format!("{op}: {why}"));
                return Ok(Outcome::Failed);
            }
        };
        let builder = self
            .user
            .get_request_builder(&request.method, &request.path)?;
        let builder = request.fill(builder);
        let goose_request = GooseRequest::builder()
            .method(request.method)
            .path(request.path.as_str())
            .name(call.name.as_str())
            .set_request_builder(builder)
            .build();
        let goose = self.user.request(goose_request).await?;
        let mut metric = goose.request;
        let latency = Duration::from_micros(metric.response_time_micros());
        let (outcome, failure) = match goose.response {
            Ok(response) => {
                let status = response.status().as_u16();
                let bytes = response.bytes().await.unwrap_or_default();
                read_answer(call, status, &bytes, values)
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
            let stats = &mut rec.endpoints[call.endpoint];
            stats.requests += 1;
            stats.failures += u64::from(failure.is_some());
            record_duration(&mut stats.latency_us, latency);
            if let Some(why) = &failure {
                rec.error(format!("{}: {why}", call.name));
            }
        }
        if failure.is_some() {
            tokio::time::sleep(FAILURE_BACKOFF).await;
        }
        Ok(outcome)
    }

    /// Counts a call that could not be sent.
    fn failed(&self, call: &Call, why: String) {
        let mut rec = self.run.rec();
        rec.endpoints[call.endpoint].failures += 1;
        rec.error(format!("{}: {why}", call.name));
    }
}

/// A call rendered for sending.
pub(crate) struct Rendered {
    pub method: GooseMethod,
    pub path: String,
    pub headers: Vec<(String, String)>,
    /// JSON text.
    pub body: Option<Vec<u8>>,
}

impl Rendered {
    /// `builder` with the call's headers and its JSON body (taken out of the call).
    pub(crate) fn fill(&mut self, mut builder: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        for (name, value) in &self.headers {
            builder = builder.header(name.as_str(), value.as_str());
        }
        if let Some(body) = self.body.take() {
            builder = builder
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(body);
        }
        builder
    }
}

/// `call` with `values`; `Err` names a variable without a value.
pub(crate) fn render(call: &Call, values: &Values) -> Result<Rendered, String> {
    let unset = |slot| {
        format!(
            "{{{}}} has no value yet (a capture before it failed, or it is never captured)",
            call.var_name(slot)
        )
    };
    let path = call.path.render(values, true).map_err(unset)?;
    let mut headers = Vec::with_capacity(call.headers.len());
    for h in &call.headers {
        let value = h.value.render(values, false).map_err(unset)?;
        // An empty credential (no --agent-token) is left out.
        if !value.is_empty() {
            headers.push((h.name.clone(), format!("{}{value}", h.prefix)));
        }
    }
    let body = match &call.body {
        Some(b) => {
            let mut text = Vec::with_capacity(64);
            b.write_json(values, &mut text).map_err(unset)?;
            Some(text)
        }
        None => None,
    };
    Ok(Rendered {
        method: goose_method(call.method),
        path,
        headers,
        body,
    })
}

fn goose_method(m: Method) -> GooseMethod {
    match m {
        Method::Get => GooseMethod::Get,
        Method::Post => GooseMethod::Post,
        Method::Put => GooseMethod::Put,
        Method::Patch => GooseMethod::Patch,
        Method::Delete => GooseMethod::Delete,
    }
}

/// The outcome of an answer with `status` and `bytes` (captures applied to `values`), and
/// why it is a failure, if it is.
pub(crate) fn read_answer(
    call: &Call,
    status: u16,
    bytes: &[u8],
    values: &mut Values,
) -> (Outcome, Option<String>) {
    let ok = call.is_ok(status);
    // A success is parsed for the parts the call reads, a refusal whole (its error code).
    let body: Option<Value> = match &call.selection {
        _ if bytes.is_empty() => Some(Value::Null),
        Some(selection) if ok => selection.parse(bytes),
        None if ok => Some(Value::Null),
        _ => serde_json::from_slice(bytes).ok(),
    };
    if ok {
        let needs_body = !call.captures.is_empty();
        let Some(body) = body.filter(|b| !needs_body || !b.is_null()) else {
            return (
                Outcome::Failed,
                Some(format!("{status} without a JSON body to read")),
            );
        };
        for c in &call.captures {
            match c.pointer.get(&body).filter(|v| !v.is_null()) {
                Some(v) => values.set(c.slot, v.clone()),
                None => {
                    return (
                        Outcome::Failed,
                        Some(format!(
                            "{status} without {} (capture {} = \"{}\")",
                            c.pointer, c.var, c.pointer
                        )),
                    );
                }
            }
        }
        return (Outcome::Done(body), None);
    }
    let meaning = call.meaning(status);
    let body = body.unwrap_or(Value::Null);
    let failure = meaning.is_none().then(|| match error_code(&body) {
        Some(code) => format!("{status} {code}"),
        None => status.to_string(),
    });
    (
        Outcome::Refused {
            status,
            meaning,
            body,
        },
        failure,
    )
}

/// An error answer's code or message, as APIs commonly write it (`error`, `code`, `message`).
pub(crate) fn error_code(body: &Value) -> Option<String> {
    ["/error", "/code", "/message", "/errors/0"]
        .iter()
        .find_map(|p| body.pointer(p).and_then(Value::as_str))
        .map(str::to_string)
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
    use crate::loadtest::target::{self, TargetContext};

    #[test]
    fn answers_are_successes_expected_refusals_or_named_failures() {
        let t = target::load("chatcap", &TargetContext::default()).unwrap();
        let create = &t.customer.start.calls[0];
        let mut values = Values::new(t.customer_slots.len);
        let created = r#"{"id": "c-1", "token": "t", "queue": "sales", "state": "queued",
            "position": 1, "estimated_wait_secs": 12.5}"#;
        let (outcome, failure) = read_answer(create, 201, created.as_bytes(), &mut values);
        assert!(failure.is_none() && matches!(outcome, Outcome::Done(_)));
        assert_eq!(values.text(t.customer_slots.id).as_deref(), Some("c-1"));
        let shown = t.customer_slots.shown_wait.unwrap();
        assert_eq!(values.get(shown), Some(&serde_json::json!(12.5)));
        // A 2xx answer without a captured value fails and says which.
        let (outcome, failure) = read_answer(create, 201, br#"{"id": "c-1"}"#, &mut values);
        assert!(matches!(outcome, Outcome::Failed));
        assert!(failure.is_some_and(|f| f.starts_with("201 without /") && f.contains("chat.")));
        // An expected refusal is an answer; an unexpected one a failure with its code.
        let full = br#"{"error": "queue_full", "detail": "the queue is full"}"#;
        let (outcome, failure) = read_answer(create, 503, full, &mut values);
        assert!(failure.is_none() && outcome.is(Meaning::Rejected));
        let (outcome, failure) = read_answer(create, 500, b"oops", &mut values);
        assert_eq!(failure.as_deref(), Some("500"));
        assert!(matches!(
            outcome,
            Outcome::Refused {
                status: 500,
                meaning: None,
                ..
            }
        ));
        let (_, failure) = read_answer(create, 400, full, &mut values);
        assert_eq!(failure.as_deref(), Some("400 queue_full"));
    }

    #[test]
    fn rendering_needs_every_variable_and_leaves_out_empty_credentials() {
        let t = target::load("chatcap", &TargetContext::default()).unwrap();
        let login = &t.agent.login.calls[0];
        let mut values = Values::new(t.agent_slots.len);
        assert!(render(login, &values).is_err());
        values.set_str(t.agent_slots.id, "tier 1-0");
        let r = render(login, &values).unwrap();
        assert_eq!(r.path, "/v1/agents/tier%201-0/login");
        assert!(r.headers.is_empty(), "no operator token, no header");
        let with_token = TargetContext {
            agent_token: "s3cret".into(),
            ..TargetContext::default()
        };
        let t = target::load("chatcap", &with_token).unwrap();
        let r = render(&t.agent.login.calls[0], &values).unwrap();
        assert_eq!(
            r.headers,
            [("Authorization".to_string(), "Bearer s3cret".to_string())]
        );
    }
}
