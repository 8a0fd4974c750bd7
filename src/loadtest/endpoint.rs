//! The endpoints of docs/api.md the load test calls, each a named row in goose's reports and
//! in the summary's `http.endpoints`.

/// The API endpoints the users call, each a named row in goose's reports and ours.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Endpoint {
    CreateChat,
    CustomerMessage,
    PollMessages,
    LeaveChat,
    GetChat,
    AgentLogin,
    AgentStatus,
    PollOffers,
    AcceptOffer,
    AgentMessage,
    CloseChat,
    TransferChat,
}

impl Endpoint {
    pub(crate) const ALL: [Endpoint; 12] = [
        Endpoint::CreateChat,
        Endpoint::CustomerMessage,
        Endpoint::PollMessages,
        Endpoint::LeaveChat,
        Endpoint::GetChat,
        Endpoint::AgentLogin,
        Endpoint::AgentStatus,
        Endpoint::PollOffers,
        Endpoint::AcceptOffer,
        Endpoint::AgentMessage,
        Endpoint::CloseChat,
        Endpoint::TransferChat,
    ];

    /// The request name in goose's reports and the key in the summary.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Endpoint::CreateChat => "create_chat",
            Endpoint::CustomerMessage => "customer_message",
            Endpoint::PollMessages => "poll_messages",
            Endpoint::LeaveChat => "leave_chat",
            Endpoint::GetChat => "get_chat",
            Endpoint::AgentLogin => "agent_login",
            Endpoint::AgentStatus => "agent_status",
            Endpoint::PollOffers => "poll_offers",
            Endpoint::AcceptOffer => "accept_offer",
            Endpoint::AgentMessage => "agent_message",
            Endpoint::CloseChat => "close_chat",
            Endpoint::TransferChat => "transfer_chat",
        }
    }

    /// `METHOD /path` as documented in docs/api.md.
    pub(crate) fn route(self) -> &'static str {
        match self {
            Endpoint::CreateChat => "POST /v1/chats",
            Endpoint::CustomerMessage | Endpoint::AgentMessage => "POST /v1/chats/{id}/messages",
            Endpoint::PollMessages => "GET /v1/chats/{id}/messages",
            Endpoint::LeaveChat => "POST /v1/chats/{id}/leave",
            Endpoint::GetChat => "GET /v1/chats/{id}",
            Endpoint::AgentLogin => "POST /v1/agents/{id}/login",
            Endpoint::AgentStatus => "POST /v1/agents/{id}/status",
            Endpoint::PollOffers => "GET /v1/agents/{id}/offers",
            Endpoint::AcceptOffer => "POST /v1/offers/{id}/accept",
            Endpoint::CloseChat => "POST /v1/chats/{id}/close",
            Endpoint::TransferChat => "POST /v1/chats/{id}/transfer",
        }
    }

    /// Long-polls wait on purpose; their latency is not the server's speed.
    pub(crate) fn long_poll(self) -> bool {
        matches!(self, Endpoint::PollMessages | Endpoint::PollOffers)
    }

    pub(crate) fn index(self) -> usize {
        self as usize
    }
}
