//! Errors of the HTTP API and of starting the server. An API error always answers with the
//! JSON body `{"error": code, "detail": message}`, so clients branch on a stable code and
//! people read the detail; the status code follows the kind of mistake (docs/api.md).

use std::net::SocketAddr;

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::desk::DeskError;
use super::limits::RETRY_AFTER_SECS;
use crate::api::ErrorBody;

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
pub(super) struct ApiError {
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
    pub(super) fn new(
        status: StatusCode,
        code: &'static str,
        detail: impl Into<String>,
    ) -> ApiError {
        ApiError {
            status,
            code,
            detail: detail.into(),
            retry_after: None,
        }
    }

    /// 400 `bad_field`: a field has a value the API does not accept.
    pub(super) fn bad_field(detail: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "bad_field", detail)
    }

    /// 503 `unavailable`: the server is shutting down.
    pub(super) fn shutting_down() -> ApiError {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "the server is shutting down; retry against another instance",
        )
    }

    /// Adds a `Retry-After` header.
    pub(super) fn with_retry_after(mut self, secs: u64) -> ApiError {
        self.retry_after = Some(secs);
        self
    }
}

/// The one place a desk refusal becomes an HTTP answer: status, stable code, `Retry-After`.
impl From<DeskError> for ApiError {
    fn from(err: DeskError) -> ApiError {
        use DeskError as E;
        use StatusCode as S;
        let (status, code, retry) = match &err {
            E::BadField(_) => (S::BAD_REQUEST, "bad_field", false),
            E::Unauthorized(_) => (S::UNAUTHORIZED, "unauthorized", false),
            E::Forbidden(_) => (S::FORBIDDEN, "forbidden", false),
            E::NotYourChat(_) => (S::FORBIDDEN, "not_your_chat", false),
            E::NotYourOffer(_) => (S::FORBIDDEN, "not_your_offer", false),
            E::UnknownChat(_) => (S::NOT_FOUND, "unknown_chat", false),
            E::UnknownAgent(_) => (S::NOT_FOUND, "unknown_agent", false),
            E::UnknownOffer(_) => (S::NOT_FOUND, "unknown_offer", false),
            E::UnknownQueue(_) => (S::NOT_FOUND, "unknown_queue", false),
            E::InvalidState(_) => (S::CONFLICT, "invalid_state", false),
            E::NotOfferedToAgent(_) => (S::CONFLICT, "not_your_offer", false),
            E::OfferExpired(_) => (S::CONFLICT, "offer_expired", false),
            E::AgentUnavailable(_) => (S::CONFLICT, "agent_unavailable", false),
            E::TransferToSelf(_) => (S::CONFLICT, "transfer_to_self", false),
            E::CapBelowLoad(_) => (S::CONFLICT, "cap_below_load", false),
            E::LoggedIn(_) => (S::CONFLICT, "logged_in", false),
            E::SkillsFixed(_) => (S::CONFLICT, "skills_fixed", false),
            E::MessageLimit(_) => (S::CONFLICT, "message_limit", false),
            E::QueueFull(_) => (S::SERVICE_UNAVAILABLE, "queue_full", true),
            E::ServerFull(_) => (S::SERVICE_UNAVAILABLE, "server_full", true),
            E::Capacity(_) => (S::SERVICE_UNAVAILABLE, "capacity", true),
        };
        let error = ApiError::new(status, code, err.to_string());
        if retry {
            error.with_retry_after(RETRY_AFTER_SECS)
        } else {
            error
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
        // The body was left unread (too large, or too slow): the connection cannot carry
        // another request, so the client is told to open a new one.
        if matches!(
            self.status,
            StatusCode::PAYLOAD_TOO_LARGE | StatusCode::REQUEST_TIMEOUT
        ) {
            response
                .headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
        }
        if let Some(secs) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}
