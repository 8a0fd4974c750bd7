//! Errors of the HTTP API and of starting the server. An API error always answers with the
//! JSON body `{"error": code, "detail": message}`, so clients branch on a stable code and
//! people read the detail; the status code follows the kind of mistake (docs/api.md).

use std::net::SocketAddr;

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::api::ErrorBody;
use crate::routing::RouteError;

/// The server could not start or stopped abnormally.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// A setting is out of range or the profile cannot be served.
    #[error("cannot serve: {0}")]
    Config(String),
    /// The listening socket could not be opened.
    #[error("cannot listen on {addr}: {cause}; pick a free port or another address")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// The operating system's reason (in the message, so not chained again as a source).
        cause: std::io::Error,
    },
    /// Accepting or serving connections failed (the cause is in the message, not chained).
    #[error("server failed: {0}")]
    Io(std::io::Error),
    /// The server task ended abnormally.
    #[error("server task failed: {0}")]
    Task(String),
}

/// One failed API request: status, stable code and a one-line detail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// The HTTP status.
    pub status: StatusCode,
    /// Stable snake_case code, e.g. `unknown_chat`.
    pub code: &'static str,
    /// What is wrong and what would be right.
    pub detail: String,
    /// Seconds for a `Retry-After` header (503 only).
    pub retry_after: Option<u64>,
}

/// The JSON error body `{"error": code, "detail": detail}` as bytes, for answers written below
/// axum (see `wire`).
pub(super) fn error_body(code: &str, detail: &str) -> Vec<u8> {
    serde_json::to_vec(&ErrorBody {
        error: code.to_string(),
        detail: detail.to_string(),
    })
    .unwrap_or_default()
}

impl ApiError {
    /// An error with this status, code and detail.
    pub fn new(status: StatusCode, code: &'static str, detail: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            detail: detail.into(),
            retry_after: None,
        }
    }

    /// 400 `bad_field`: a field has a value the API does not accept.
    pub fn bad_field(detail: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "bad_field", detail)
    }

    /// 404 `unknown_chat`.
    pub fn unknown_chat(id: &str) -> ApiError {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "unknown_chat",
            format!(
                "no chat {id:?}; use the id POST /v1/chats returned (closed chats are kept for a while, then forgotten)"
            ),
        )
    }

    /// 404 `unknown_agent`.
    pub fn unknown_agent(id: &str) -> ApiError {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "unknown_agent",
            format!("no agent {id:?}; register it first with POST /v1/agents/{{id}}/status"),
        )
    }

    /// 404 `unknown_offer`.
    pub fn unknown_offer(id: &str) -> ApiError {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "unknown_offer",
            format!("no offer {id:?}; use an offer_id from GET /v1/agents/{{id}}/offers"),
        )
    }

    /// 404 `unknown_queue`.
    pub fn unknown_queue(name: &str, known: &[String]) -> ApiError {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "unknown_queue",
            format!("no queue {name:?}; use one of {}", known.join(", ")),
        )
    }

    /// 409 `invalid_state`.
    pub fn invalid_state(detail: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::CONFLICT, "invalid_state", detail)
    }

    /// 403 `forbidden`.
    pub fn forbidden(detail: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::FORBIDDEN, "forbidden", detail)
    }

    /// 401 `unauthorized`.
    pub fn unauthorized(detail: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", detail)
    }

    /// 503 `unavailable`: the server is shutting down.
    pub fn shutting_down() -> ApiError {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "the server is shutting down; retry against another instance",
        )
    }

    /// Adds a `Retry-After` header.
    pub fn with_retry_after(mut self, secs: u64) -> ApiError {
        self.retry_after = Some(secs);
        self
    }

    /// Maps a routing-core refusal, explained by `detail` (in the client's names).
    pub fn from_route(err: &RouteError, detail: String) -> ApiError {
        use RouteError as E;
        match err {
            E::UnknownChat(_) => ApiError::new(StatusCode::NOT_FOUND, "unknown_chat", detail),
            E::UnknownAgent(_) => ApiError::new(StatusCode::NOT_FOUND, "unknown_agent", detail),
            E::UnknownQueue(_) => ApiError::new(StatusCode::NOT_FOUND, "unknown_queue", detail),
            E::InvalidState { .. } => ApiError::new(StatusCode::CONFLICT, "invalid_state", detail),
            E::NotOfferedToAgent { .. } => {
                ApiError::new(StatusCode::CONFLICT, "not_your_offer", detail)
            }
            E::OfferExpired { .. } => ApiError::new(StatusCode::CONFLICT, "offer_expired", detail),
            E::AgentUnavailable { .. } => {
                ApiError::new(StatusCode::CONFLICT, "agent_unavailable", detail)
            }
            E::TransferToSelf { .. } => {
                ApiError::new(StatusCode::CONFLICT, "transfer_to_self", detail)
            }
            E::CapBelowLoad { .. } => ApiError::new(StatusCode::CONFLICT, "cap_below_load", detail),
            E::QueueFull { .. } => {
                ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "queue_full", detail)
                    .with_retry_after(super::RETRY_AFTER_SECS)
            }
            E::Capacity { .. } => {
                ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "capacity", detail)
                    .with_retry_after(super::RETRY_AFTER_SECS)
            }
            E::DuplicateName { .. }
            | E::EmptyName { .. }
            | E::DuplicateSkill { .. }
            | E::InvalidProficiency { .. }
            | E::InvalidCap { .. } => ApiError::bad_field(detail),
        }
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}: {}", self.status.as_u16(), self.code, self.detail)
    }
}

impl std::error::Error for ApiError {}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error: self.code.to_string(),
            detail: self.detail,
        };
        let mut response = (self.status, Json(body)).into_response();
        if let Some(secs) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}
