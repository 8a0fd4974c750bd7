//! Every limit of the server in one place: the ones an operator sets ([`ServerLimits`]) and the
//! fixed ones of the API (id and reference lengths, priorities, inbox size). The concurrency
//! cap is the routing core's [`crate::routing::MAX_CAP`], which the profile reads too, so a cap
//! one of them accepts the others accept.

use std::time::Duration;

use super::ServerError;

/// Longest agent id, characters.
pub(super) const MAX_AGENT_ID_CHARS: usize = 64;

/// Longest customer reference, characters.
pub(super) const MAX_CUSTOMER_CHARS: usize = 128;

/// Largest chat priority a customer may ask for, either sign.
pub(super) const MAX_CHAT_PRIORITY: i32 = 1000;

/// Most inbox events kept for an agent that does not poll; older ones are dropped.
pub(super) const MAX_EVENTS_PER_AGENT: usize = 1000;

/// CSAT scores an agent may record at close.
pub(super) const CSAT_RANGE: std::ops::RangeInclusive<u8> = 1..=5;

/// Requests waiting for the desk before senders wait; bounds memory under overload.
pub(super) const DESK_QUEUE: usize = 4096;

/// The `Retry-After` a full queue answers with, seconds.
pub const RETRY_AFTER_SECS: u64 = 5;

/// Size and time limits of the API.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ServerLimits {
    /// Largest request body, bytes (413 above).
    pub body_bytes: usize,
    /// Longest message or transfer note, characters.
    pub message_chars: usize,
    /// Most messages one chat may hold.
    pub messages_per_chat: usize,
    /// Ended chats (and answered offers) kept readable after they end.
    pub ended_kept: usize,
    /// Most agents that may register.
    pub max_agents: usize,
    /// Most live chats (queued, offered or active) at once; a new chat past it is refused with
    /// 503 `server_full` and counted as rejected. Each queue's `max_queue` applies as well.
    pub max_chats: usize,
    /// Longest long-poll `wait`, seconds.
    pub max_wait_secs: f64,
    /// Longest wait for a request body once its headers have arrived (408 after).
    pub body_timeout: Duration,
    /// Longest wait for a whole request head, and for the next request on an idle connection;
    /// the connection is closed after it.
    pub header_timeout: Duration,
    /// Longest URL (path and query), bytes (414 above).
    pub url_bytes: usize,
    /// Largest request head (request line and headers), bytes (431 above); at least 8 KiB.
    pub head_bytes: usize,
    /// How long a shutdown waits for open connections to finish before closing them.
    pub shutdown_timeout: Duration,
}

/// Smallest [`ServerLimits::head_bytes`] (the HTTP/1 parser's own minimum buffer).
pub const MIN_HEAD_BYTES: usize = 8 * 1024;

/// Largest [`ServerLimits::max_chats`].
pub const MAX_CHATS_LIMIT: usize = 10_000_000;

impl Default for ServerLimits {
    /// Limits that hold a busy contact centre and bound what a flood can take: 100,000 live
    /// chats is thousands of agents with several chats each plus long queues, in about 150 MB;
    /// 30 s for a request head is generous for any real client (and hyper's own default), and
    /// 10 s is long enough for in-flight requests to finish at shutdown (long-polls answer at
    /// once) and short enough for a rolling restart.
    fn default() -> Self {
        ServerLimits {
            body_bytes: 64 * 1024,
            message_chars: 4000,
            messages_per_chat: 1000,
            ended_kept: 10_000,
            max_agents: 100_000,
            max_chats: 100_000,
            max_wait_secs: 30.0,
            body_timeout: Duration::from_secs(10),
            header_timeout: Duration::from_secs(30),
            url_bytes: 8 * 1024,
            head_bytes: 64 * 1024,
            shutdown_timeout: Duration::from_secs(10),
        }
    }
}

impl ServerLimits {
    /// Checks the limits the server cannot run with.
    pub(super) fn check(&self) -> Result<(), ServerError> {
        let bad = |what: String| Err(ServerError::Config(what));
        if !(1..=MAX_CHATS_LIMIT).contains(&self.max_chats) {
            return bad(format!(
                "a limit of {} live chats is out of range; use 1 to {MAX_CHATS_LIMIT}",
                self.max_chats
            ));
        }
        if self.head_bytes < MIN_HEAD_BYTES {
            return bad(format!(
                "a request head limit of {} bytes is too small; use at least {MIN_HEAD_BYTES}",
                self.head_bytes
            ));
        }
        if self.url_bytes == 0 || self.header_timeout.is_zero() || self.body_timeout.is_zero() {
            return bad(
                "the URL limit, the header timeout and the body timeout must be above zero"
                    .to_string(),
            );
        }
        Ok(())
    }
}
