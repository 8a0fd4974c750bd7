//! What the desk refuses, in its own words: each variant is one kind of mistake with a one-line
//! detail for people. The HTTP layer gives each kind its status, stable code and headers in one
//! place (`server::error`), so the desk knows nothing of HTTP.

use crate::routing::RouteError;

/// A request the desk refused; the state is as it was (a full queue or server also counts the
/// chat as rejected).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum DeskError {
    /// A field has a value the API does not accept.
    #[error("{0}")]
    BadField(String),
    /// No such chat (never created, or ended and forgotten).
    #[error("{0}")]
    UnknownChat(String),
    /// No such agent.
    #[error("{0}")]
    UnknownAgent(String),
    /// No such offer.
    #[error("{0}")]
    UnknownOffer(String),
    /// No such queue.
    #[error("{0}")]
    UnknownQueue(String),
    /// The chat or offer is not in a state that allows the call.
    #[error("{0}")]
    InvalidState(String),
    /// No credentials, or an operator or agent token missing, unknown or replaced.
    #[error("{0}")]
    Unauthorized(String),
    /// The credentials are not the ones for this chat or agent.
    #[error("{0}")]
    Forbidden(String),
    /// The chat is held by another agent.
    #[error("{0}")]
    NotYourChat(String),
    /// The offer was made to another agent.
    #[error("{0}")]
    NotYourOffer(String),
    /// The routing core holds the chat as not offered to this agent (a race with a re-offer).
    #[error("{0}")]
    NotOfferedToAgent(String),
    /// The offer's deadline has passed.
    #[error("{0}")]
    OfferExpired(String),
    /// The target agent cannot take the chat now.
    #[error("{0}")]
    AgentUnavailable(String),
    /// An agent transferred a chat to itself.
    #[error("{0}")]
    TransferToSelf(String),
    /// A cap below the agent's current load.
    #[error("{0}")]
    CapBelowLoad(String),
    /// Open login of an agent that is online, without its own token.
    #[error("{0}")]
    LoggedIn(String),
    /// Skills other than the registered ones.
    #[error("{0}")]
    SkillsFixed(String),
    /// The chat holds the most messages one chat may hold.
    #[error("{0}")]
    MessageLimit(String),
    /// The queue is full and no agent is free (the chat counts as rejected).
    #[error("{0}")]
    QueueFull(String),
    /// The server holds its most live chats (the chat counts as rejected).
    #[error("{0}")]
    ServerFull(String),
    /// Too many agents, or the routing core is out of room.
    #[error("{0}")]
    Capacity(String),
}

impl DeskError {
    /// No chat `id`.
    pub(crate) fn unknown_chat(id: &str) -> DeskError {
        DeskError::UnknownChat(format!(
            "no chat {id:?}; use the id POST /v1/chats returned (closed chats are kept for a while, then forgotten)"
        ))
    }

    /// No agent `id`.
    pub(crate) fn unknown_agent(id: &str) -> DeskError {
        DeskError::UnknownAgent(format!(
            "no agent {id:?}; register it first with POST /v1/agents/{{id}}/status"
        ))
    }

    /// No offer `id`.
    pub(crate) fn unknown_offer(id: &str) -> DeskError {
        DeskError::UnknownOffer(format!(
            "no offer {id:?}; use an offer_id from GET /v1/agents/{{id}}/offers"
        ))
    }

    /// No queue `name`; `known` lists the profile's queues.
    pub(crate) fn unknown_queue(name: &str, known: &[String]) -> DeskError {
        DeskError::UnknownQueue(format!(
            "no queue {name:?}; use one of {}",
            known.join(", ")
        ))
    }

    /// A routing-core refusal, explained by `detail` (in the client's names).
    pub(crate) fn from_route(err: &RouteError, detail: String) -> DeskError {
        use RouteError as E;
        match err {
            E::UnknownChat(_) => DeskError::UnknownChat(detail),
            E::UnknownAgent(_) => DeskError::UnknownAgent(detail),
            E::UnknownQueue(_) => DeskError::UnknownQueue(detail),
            E::InvalidState { .. } => DeskError::InvalidState(detail),
            E::NotOfferedToAgent { .. } => DeskError::NotOfferedToAgent(detail),
            E::OfferExpired { .. } => DeskError::OfferExpired(detail),
            E::AgentUnavailable { .. } => DeskError::AgentUnavailable(detail),
            E::TransferToSelf { .. } => DeskError::TransferToSelf(detail),
            E::CapBelowLoad { .. } => DeskError::CapBelowLoad(detail),
            E::QueueFull { .. } => DeskError::QueueFull(detail),
            E::Capacity { .. } => DeskError::Capacity(detail),
            E::DuplicateName { .. }
            | E::EmptyName { .. }
            | E::DuplicateSkill { .. }
            | E::InvalidProficiency { .. }
            | E::InvalidCap { .. } => DeskError::BadField(detail),
        }
    }
}
