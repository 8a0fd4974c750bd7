//! One API call through goose's client: named for goose's reports, timed into our per-endpoint
//! histograms, with the statuses a chat flow expects from races (a customer leaving while an
//! agent accepts, a full queue) counted as answers rather than failures.

use std::time::Duration;

use goose::prelude::*;
use serde_json::Value;

use super::run_state::{Endpoint, RunState, record_duration};

/// Pause after an unexpected failure (no answer, or an unexpected status), so that a user whose
/// calls fail retries at a modest rate instead of as fast as the server refuses.
const FAILURE_BACKOFF: Duration = Duration::from_millis(100);

/// Who is calling.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Auth<'a> {
    /// A customer with the chat token.
    Customer(&'a str),
    /// An agent, with the token its login returned.
    Agent(&'a str),
    /// The operator token, when one is configured (agent login).
    Operator,
    /// Nobody (chat creation).
    Anonymous,
}

/// The answer to a call.
#[derive(Debug)]
pub(crate) struct Reply {
    /// HTTP status; 0 when no answer came (transport error).
    pub status: u16,
    /// The JSON body, `Null` when there was none or it was not JSON.
    pub body: Value,
}

impl Reply {
    pub(crate) fn ok(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The API error code of a 4xx/5xx answer.
    pub(crate) fn code(&self) -> &str {
        self.body["error"].as_str().unwrap_or("")
    }

    pub(crate) fn str(&self, key: &str) -> Option<&str> {
        self.body[key].as_str()
    }

    pub(crate) fn f64(&self, key: &str) -> Option<f64> {
        self.body[key].as_f64()
    }
}

/// Sends one request and records it. `expected` lists non-2xx answers that are normal outcomes
/// here, not failures: a status with an API error code (`""` for any code). Only goose's own
/// shutdown makes this an `Err`.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn call(
    user: &mut GooseUser,
    run: &RunState,
    ep: Endpoint,
    method: GooseMethod,
    path: &str,
    auth: Auth<'_>,
    body: Option<&Value>,
    expected: &[(u16, &str)],
) -> Result<Reply, Box<TransactionError>> {
    let mut builder = user.get_request_builder(&method, path)?;
    match auth {
        Auth::Customer(token) => builder = builder.header("X-Chat-Token", token),
        Auth::Agent(token) => builder = builder.bearer_auth(token),
        Auth::Operator => {
            if let Some(token) = &run.agent_token {
                builder = builder.bearer_auth(token);
            }
        }
        Auth::Anonymous => {}
    }
    if let Some(body) = body {
        builder = builder.json(body);
    }
    let request = GooseRequest::builder()
        .method(method)
        .path(path)
        .name(ep.name())
        .set_request_builder(builder)
        .build();
    let goose = user.request(request).await?;
    let mut metric = goose.request;
    let latency = Duration::from_micros(metric.response_time_micros());
    let (status, body, transport) = match goose.response {
        Ok(response) => {
            let status = response.status().as_u16();
            let body = match response.bytes().await {
                Ok(bytes) => serde_json::from_slice(&bytes).unwrap_or(Value::Null),
                Err(_) => Value::Null,
            };
            (status, body, None)
        }
        Err(e) => (0, Value::Null, Some(transport_cause(&e))),
    };
    let code = body["error"].as_str().unwrap_or("");
    let expected_hit = expected
        .iter()
        .any(|(s, c)| *s == status && (c.is_empty() || *c == code));
    if expected_hit && !metric.success {
        user.set_success(&mut metric)?;
    }
    let failed = !(200..300).contains(&status) && !expected_hit;
    {
        let mut rec = run.rec();
        let stats = rec.endpoint(ep);
        stats.requests += 1;
        stats.failures += u64::from(failed);
        record_duration(&mut stats.latency_us, latency);
        if failed {
            let detail = match &transport {
                Some(e) => format!("{}: no answer ({e})", ep.name()),
                None if code.is_empty() => format!("{}: {status}", ep.name()),
                None => format!("{}: {status} {code}", ep.name()),
            };
            rec.error(detail);
        }
    }
    if failed {
        tokio::time::sleep(FAILURE_BACKOFF).await;
    }
    Ok(Reply { status, body })
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
