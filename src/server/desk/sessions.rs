//! Agent sessions: every agent acts with a token of its own, so one agent cannot accept, write
//! in, close or transfer another's chats.
//!
//! `POST /v1/agents/{id}/login` issues the token. With an operator token configured
//! (`--agent-token`), login needs it and always succeeds, replacing the agent's previous token
//! (the operator's login service is trusted to say who is who). Without one, login is open for
//! an agent that is new or offline; an agent that is online can only log in again with its own
//! current token, so nobody takes over a working agent's session.

use std::collections::HashMap;

use rand::RngExt;

use super::DeskError;

/// Compares secrets without an early exit on the first differing byte.
pub(super) fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// A random 128-bit token in hex.
pub(super) fn new_token() -> String {
    let mut rng = rand::rng();
    format!("{:016x}{:016x}", rng.random::<u64>(), rng.random::<u64>())
}

/// The agents' current tokens.
pub(super) struct Sessions {
    operator: Option<String>,
    token_of: HashMap<String, String>,
    agent_of: HashMap<String, String>,
    max_agents: usize,
}

const LOGIN_HINT: &str =
    "log in with POST /v1/agents/{id}/login and send Authorization: Bearer <the token it returns>";

impl Sessions {
    /// No sessions yet; `operator` guards login, at most `max_agents` agents hold a token.
    pub(super) fn new(operator: Option<String>, max_agents: usize) -> Sessions {
        Sessions {
            operator,
            token_of: HashMap::new(),
            agent_of: HashMap::new(),
            max_agents,
        }
    }

    /// Issues a new token for `agent` (its previous one stops working). `bearer` is the
    /// request's credential; `online` says whether the agent is registered and not offline.
    pub(super) fn login(
        &mut self,
        agent: &str,
        bearer: Option<&str>,
        online: bool,
    ) -> Result<String, DeskError> {
        match (&self.operator, bearer) {
            (Some(op), Some(b)) if same_secret(b, op) => {}
            (Some(_), Some(_)) => {
                return Err(DeskError::Unauthorized(
                    "wrong operator token; send Authorization: Bearer <the token given to chatcap serve --agent-token>"
                        .to_string(),
                ));
            }
            (Some(_), None) => {
                return Err(DeskError::Unauthorized(
                    "login needs the operator token; send Authorization: Bearer <the token given to chatcap serve --agent-token>"
                        .to_string(),
                ));
            }
            (None, bearer) => {
                let own = self.token_of.get(agent);
                let is_own = matches!((own, bearer), (Some(t), Some(b)) if same_secret(b, t));
                if online && !is_own {
                    return Err(DeskError::LoggedIn(format!(
                        "agent {agent:?} is online in another session; log in again with its own token, set it offline first, or run the server with --agent-token"
                    )));
                }
            }
        }
        if !self.token_of.contains_key(agent) && self.token_of.len() >= self.max_agents {
            return Err(DeskError::Capacity(format!(
                "{} agents hold a session, the most this server takes; reuse agent ids",
                self.token_of.len()
            )));
        }
        let token = new_token();
        if let Some(old) = self.token_of.insert(agent.to_string(), token.clone()) {
            self.agent_of.remove(&old);
        }
        self.agent_of.insert(token.clone(), agent.to_string());
        Ok(token)
    }

    /// The agent whose token `bearer` is, if any.
    pub(super) fn agent_of(&self, bearer: &str) -> Option<&str> {
        self.agent_of.get(bearer).map(String::as_str)
    }

    /// The agent a request acts as: 401 without a current agent token.
    pub(super) fn acting(&self, bearer: Option<&str>) -> Result<&str, DeskError> {
        let Some(bearer) = bearer else {
            return Err(DeskError::Unauthorized(format!(
                "missing agent token; {LOGIN_HINT}"
            )));
        };
        if let Some(agent) = self.agent_of(bearer) {
            return Ok(agent);
        }
        if self
            .operator
            .as_deref()
            .is_some_and(|op| same_secret(bearer, op))
        {
            return Err(DeskError::Unauthorized(format!(
                "the operator token only logs agents in; {LOGIN_HINT}"
            )));
        }
        Err(DeskError::Unauthorized(format!(
            "unknown or replaced agent token; {LOGIN_HINT}"
        )))
    }

    /// Checks that `bearer` is `agent`'s own token: 401 without an agent token, 403 with
    /// another agent's.
    pub(super) fn require(&self, agent: &str, bearer: Option<&str>) -> Result<(), DeskError> {
        let acting = self.acting(bearer)?;
        if acting == agent {
            Ok(())
        } else {
            Err(DeskError::Forbidden(format!(
                "the token is agent {acting:?}'s, not agent {agent:?}'s; each agent uses its own"
            )))
        }
    }
}
