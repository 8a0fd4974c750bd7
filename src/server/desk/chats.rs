//! Chat calls: customers start, read, write in and leave chats; agents read, write in, close
//! and transfer the chats they hold. Who calls is decided here from the credentials.

use tokio::sync::watch;

use super::sessions::{new_token, same_secret};
use super::{Caller, ChatRecord, Credentials, Desk, DeskError, Poll, StoredMessage, chat_name};
use crate::api::{
    self, Chat, CloseRequest, CreateChatRequest, CreatedChat, InboxEventKind, MessageFrom,
    MessageRequest, Messages, Note, Resolution, TransferRequest,
};
use crate::routing::{ChatId, ChatState, ChatView, QueueId, Time, TransferTarget};
use crate::server::limits::{CSAT_RANGE, MAX_CHAT_PRIORITY, MAX_CUSTOMER_CHARS};

/// The routing core's code of a close resolution: its place in [`Resolution::CLOSING`].
fn resolution_code(resolution: Resolution) -> u8 {
    let place = Resolution::CLOSING.iter().position(|r| *r == resolution);
    place.map_or(u8::MAX, |i| i as u8)
}

impl Desk {
    /// Decides whether a chat request comes from the chat's customer or from an agent:
    /// `X-Chat-Token` makes it the customer; a bearer is an agent's own token or the chat's.
    fn caller(&self, rec: &ChatRecord, creds: &Credentials) -> Result<Caller, DeskError> {
        if let Some(token) = &creds.chat_token {
            return if same_secret(token, &rec.token) {
                Ok(Caller::Customer)
            } else {
                Err(DeskError::Forbidden(
                    "X-Chat-Token is not this chat's token; use the token POST /v1/chats returned for this chat".to_string(),
                ))
            };
        }
        match &creds.bearer {
            Some(b) if same_secret(b, &rec.token) => Ok(Caller::Customer),
            Some(b) => match self.sessions.agent_of(b) {
                Some(agent) => Ok(Caller::Agent(agent.to_string())),
                None => Err(DeskError::Forbidden(
                    "the bearer token is neither this chat's token nor a logged-in agent's; customers send X-Chat-Token: <chat token>, agents the token POST /v1/agents/{id}/login returned".to_string(),
                )),
            },
            None => Err(DeskError::Unauthorized(
                "no credentials: customers send X-Chat-Token: <chat token>, agents Authorization: Bearer <agent token>".to_string(),
            )),
        }
    }

    /// Checks that `acting` is the agent holding the chat (403 `not_your_chat`).
    fn check_holder(&self, id: &str, view: &ChatView, acting: &str) -> Result<(), DeskError> {
        let holder = view.agent.and_then(|a| self.agent_name(a));
        if holder.as_deref() == Some(acting) {
            Ok(())
        } else {
            Err(DeskError::NotYourChat(format!(
                "chat {id} is with {}, not with agent {acting:?}",
                holder.map_or("no agent".to_string(), |h| format!("agent {h:?}"))
            )))
        }
    }

    /// The agent a request on a chat acts as (401 without an agent token).
    fn acting_agent(&self, creds: &Credentials) -> Result<String, DeskError> {
        self.sessions
            .acting(creds.bearer.as_deref())
            .map(str::to_string)
    }

    /// Refuses a new chat while the server holds [`crate::server::ServerLimits::max_chats`] live chats.
    /// The refusal is recorded as a full queue's is: one chat created and rejected.
    fn check_room(&mut self, queue: QueueId, queue_name: &str) -> Result<(), DeskError> {
        let counts = self.router.counts();
        let live = counts.queued + counts.offered + counts.active;
        if live < self.limits.max_chats as u64 {
            return Ok(());
        }
        self.refused_full += 1;
        if let Some(q) = self.queues.get_mut(queue.0 as usize) {
            q.tally.record_arrival();
            q.tally.record_queue_entry();
            q.tally.record_rejection();
        }
        Err(DeskError::ServerFull(format!(
            "the server holds {live} live chats, its limit; the chat for queue {queue_name:?} was not created (counted as rejected), retry later"
        )))
    }

    /// Checks a new chat's customer reference and priority; the priority to use.
    fn check_new_chat(req: &CreateChatRequest) -> Result<i32, DeskError> {
        if let Some(c) = &req.customer
            && c.chars().count() > MAX_CUSTOMER_CHARS
        {
            return Err(DeskError::BadField(format!(
                "customer has {} characters; use at most {MAX_CUSTOMER_CHARS}",
                c.chars().count()
            )));
        }
        let priority = req.priority.unwrap_or(0);
        if priority.abs() > MAX_CHAT_PRIORITY {
            return Err(DeskError::BadField(format!(
                "priority {priority} is out of range; use -{MAX_CHAT_PRIORITY}..={MAX_CHAT_PRIORITY}"
            )));
        }
        Ok(priority)
    }

    /// `POST /v1/chats`.
    pub(crate) fn create_chat(&mut self, req: CreateChatRequest) -> Result<CreatedChat, DeskError> {
        let queue = self
            .router
            .queue_id(&req.queue)
            .ok_or_else(|| DeskError::unknown_queue(&req.queue, &self.queue_names()))?;
        let priority = Desk::check_new_chat(&req)?;
        self.check_room(queue, &req.queue)?;
        let now = self.now();
        let chat = self
            .router
            .arrive(now, queue, priority, &mut self.out)
            .map_err(|e| self.route_error(&e, &format!("queue {:?}", req.queue)))?;
        let token = new_token();
        let key = self.new_chat_record(chat, queue, now, token.clone(), req.customer);
        self.settle(now);
        let Some(view) = self
            .router
            .chat(chat)
            .filter(|_| self.chats.contains_key(&key))
        else {
            return Err(DeskError::QueueFull(format!(
                "queue {:?} is full and no agent is free; the chat was not created (counted as rejected), retry later",
                req.queue
            )));
        };
        let (position, ewt) = if view.state == ChatState::Queued {
            (
                self.router.position(chat).unwrap_or(0),
                self.router.estimated_wait(now, chat).unwrap_or(0),
            )
        } else {
            (0, 0)
        };
        Ok(CreatedChat {
            id: chat_name(key),
            token,
            queue: req.queue,
            state: view.state,
            position,
            estimated_wait_secs: self.profile_secs(ewt),
        })
    }

    /// Keeps the record of a chat the routing core took, and tallies its arrival; its key.
    fn new_chat_record(
        &mut self,
        chat: ChatId,
        queue: QueueId,
        now: Time,
        token: String,
        customer: Option<String>,
    ) -> u64 {
        let key = self.next_chat;
        self.next_chat += 1;
        let (changes, _) = watch::channel(0);
        self.chats.insert(
            key,
            ChatRecord {
                token,
                customer,
                arrival_queue: queue.0 as usize,
                created_at: now,
                router_id: Some(chat),
                final_view: None,
                messages: Vec::new(),
                notes: Vec::new(),
                legs: Vec::new(),
                changes,
                offer: None,
                transferred: false,
                answered_once: false,
                shown_ewt: None,
                resolution: None,
            },
        );
        self.by_router.insert(chat, key);
        if let Some(q) = self.queues.get_mut(queue.0 as usize) {
            q.tally.record_arrival();
            q.tally.record_queue_entry();
        }
        key
    }

    /// `GET /v1/chats/{id}`.
    pub(crate) fn chat_info(&self, id: &str, creds: &Credentials) -> Result<Chat, DeskError> {
        let (key, rec) = self.record(id)?;
        let caller = self.caller(rec, creds)?;
        self.chat_out(key, rec, &caller)
    }

    /// `POST /v1/chats/{id}/messages`.
    pub(crate) fn post_message(
        &mut self,
        id: &str,
        creds: &Credentials,
        req: MessageRequest,
    ) -> Result<api::Message, DeskError> {
        let chars = req.text.chars().count();
        if chars == 0 || chars > self.limits.message_chars {
            return Err(DeskError::BadField(format!(
                "text has {chars} characters; send 1..={} characters",
                self.limits.message_chars
            )));
        }
        let (key, rec) = self.record(id)?;
        let caller = self.caller(rec, creds)?;
        let chat = self.live_chat(id, rec)?;
        let view = self.view(rec).ok_or_else(|| DeskError::unknown_chat(id))?;
        let count = rec.messages.len();
        let (created_at, arrival_queue, transferred) =
            (rec.created_at, rec.arrival_queue, rec.transferred);
        if count >= self.limits.messages_per_chat {
            return Err(DeskError::MessageLimit(format!(
                "chat {id} already has {count} messages, the most one chat may hold; close it and start another"
            )));
        }
        let now = self.now();
        let from_agent = match &caller {
            Caller::Customer => None,
            Caller::Agent(acting) => {
                self.check_holder(id, &view, acting)?;
                self.router
                    .first_response(now, chat, &mut self.out)
                    .map_err(|e| self.route_error(&e, &format!("chat {id}")))?;
                // The first agent message of a chat never transferred is its first response.
                if view.first_response_at.is_none() && !transferred {
                    let frt = self.profile_secs(now.saturating_sub(created_at));
                    if let Some(q) = self.queues.get_mut(arrival_queue) {
                        q.tally.record_first_response(frt);
                        self.telemetry.observe_first_response(arrival_queue, frt);
                    }
                }
                view.agent.and_then(|a| self.agent_name(a))
            }
        };
        let Some(rec) = self.chats.get_mut(&key) else {
            return Err(DeskError::unknown_chat(id));
        };
        rec.messages.push(StoredMessage {
            from_agent: from_agent.clone(),
            text: req.text.clone(),
            sent_at: now,
        });
        let seq = rec.messages.len() as u64;
        let from = if from_agent.is_some() {
            MessageFrom::Agent
        } else {
            MessageFrom::Customer
        };
        Desk::bump(&rec.changes);
        self.settle(now);
        Ok(api::Message {
            seq,
            from,
            agent: from_agent,
            text: req.text,
            sent_at: self.epoch(now),
        })
    }

    /// `GET /v1/chats/{id}/messages`: ready when a message after `after` exists, the chat has
    /// ended, or `force`.
    pub(crate) fn poll_messages(
        &self,
        id: &str,
        creds: &Credentials,
        after: u64,
        force: bool,
    ) -> Result<Poll<Messages>, DeskError> {
        let (_, rec) = self.record(id)?;
        self.caller(rec, creds)?;
        let view = self.view(rec).ok_or_else(|| DeskError::unknown_chat(id))?;
        let total = rec.messages.len() as u64;
        if !force && total <= after && !view.state.is_terminal() {
            return Ok(Poll::Wait(rec.changes.subscribe()));
        }
        let skip = usize::try_from(after).unwrap_or(usize::MAX);
        let messages = rec
            .messages
            .iter()
            .enumerate()
            .skip(skip)
            .map(|(i, m)| api::Message {
                seq: i as u64 + 1,
                from: if m.from_agent.is_some() {
                    MessageFrom::Agent
                } else {
                    MessageFrom::Customer
                },
                agent: m.from_agent.clone(),
                text: m.text.clone(),
                sent_at: self.epoch(m.sent_at),
            })
            .collect();
        Ok(Poll::Ready(Messages {
            chat_id: id.to_string(),
            state: view.state,
            messages,
            last_seq: total,
        }))
    }

    /// `POST /v1/chats/{id}/leave` (customer only).
    pub(crate) fn leave(&mut self, id: &str, creds: &Credentials) -> Result<Chat, DeskError> {
        let (key, rec) = self.record(id)?;
        if self.caller(rec, creds)? != Caller::Customer {
            return Err(DeskError::Forbidden(
                "leave is the customer's call (send X-Chat-Token); agents end chats with POST /v1/chats/{id}/close".to_string(),
            ));
        }
        let chat = self.live_chat(id, rec)?;
        // The agent of an active chat is told on its inbox that the customer left.
        let holder = self
            .view(rec)
            .filter(|v| v.state == ChatState::Active)
            .and_then(|v| v.agent);
        let now = self.now();
        self.router
            .leave(now, chat, &mut self.out)
            .map_err(|e| self.route_error(&e, &format!("chat {id}")))?;
        self.settle(now);
        if let Some(agent) = holder {
            self.push_event(agent, InboxEventKind::CustomerLeft, key, now);
        }
        self.chat_after(key, id, &Caller::Customer)
    }

    fn chat_after(&self, key: u64, id: &str, caller: &Caller) -> Result<Chat, DeskError> {
        let rec = self
            .chats
            .get(&key)
            .ok_or_else(|| DeskError::unknown_chat(id))?;
        self.chat_out(key, rec, caller)
    }

    /// `POST /v1/chats/{id}/close` (the holding agent only).
    pub(crate) fn close(
        &mut self,
        id: &str,
        creds: &Credentials,
        req: CloseRequest,
    ) -> Result<Chat, DeskError> {
        let name = Resolution::CLOSING
            .into_iter()
            .find(|r| r.as_str() == req.resolution)
            .ok_or_else(|| {
                let names: Vec<&str> = Resolution::CLOSING.iter().map(|r| r.as_str()).collect();
                DeskError::BadField(format!(
                    "resolution {:?} is not known; use one of {}",
                    req.resolution,
                    names.join(", ")
                ))
            })?;
        if let Some(csat) = req.csat
            && !CSAT_RANGE.contains(&csat)
        {
            return Err(DeskError::BadField(format!(
                "csat {csat} is out of range; use {}..={}",
                CSAT_RANGE.start(),
                CSAT_RANGE.end()
            )));
        }
        let acting = self.acting_agent(creds)?;
        let (key, rec) = self.record(id)?;
        let chat = self.live_chat(id, rec)?;
        let view = self.view(rec).ok_or_else(|| DeskError::unknown_chat(id))?;
        self.check_holder(id, &view, &acting)?;
        let now = self.now();
        self.router
            .close(now, chat, resolution_code(name), req.csat, &mut self.out)
            .map_err(|e| self.route_error(&e, &format!("chat {id}")))?;
        if let Some(rec) = self.chats.get_mut(&key) {
            rec.resolution = Some(name);
        }
        self.settle(now);
        self.chat_after(key, id, &Caller::Agent(acting))
    }

    /// `POST /v1/chats/{id}/transfer` (the holding agent only).
    pub(crate) fn transfer(
        &mut self,
        id: &str,
        creds: &Credentials,
        req: TransferRequest,
    ) -> Result<Chat, DeskError> {
        if req.note.as_deref().is_some_and(|n| n.trim().is_empty()) {
            return Err(DeskError::BadField(
                "note is empty; write the handover text, or leave note out".to_string(),
            ));
        }
        let note = req.note.unwrap_or_default();
        if note.chars().count() > self.limits.message_chars {
            return Err(DeskError::BadField(format!(
                "note has {} characters; use at most {}",
                note.chars().count(),
                self.limits.message_chars
            )));
        }
        let (target, to) = match (&req.queue, &req.agent) {
            (Some(q), None) => (
                TransferTarget::Queue(
                    self.router
                        .queue_id(q)
                        .ok_or_else(|| DeskError::unknown_queue(q, &self.queue_names()))?,
                ),
                format!("queue:{q}"),
            ),
            (None, Some(a)) => (
                TransferTarget::Agent(self.agent_by_name(a)?),
                format!("agent:{a}"),
            ),
            _ => {
                return Err(DeskError::BadField(
                    "give exactly one of queue (a queue name) and agent (an agent id)".to_string(),
                ));
            }
        };
        let acting = self.acting_agent(creds)?;
        let (key, rec) = self.record(id)?;
        let chat = self.live_chat(id, rec)?;
        let view = self.view(rec).ok_or_else(|| DeskError::unknown_chat(id))?;
        self.check_holder(id, &view, &acting)?;
        let from_agent = view.agent.and_then(|a| self.agent_name(a));
        let now = self.now();
        self.router
            .transfer(now, chat, target, &mut self.out)
            .map_err(|e| self.route_error(&e, &format!("chat {id}")))?;
        let at = self.epoch(now);
        if let Some(rec) = self.chats.get_mut(&key) {
            rec.notes.push(Note {
                from_agent,
                to,
                note,
                at,
            });
        }
        self.settle(now);
        self.chat_after(key, id, &Caller::Agent(acting))
    }
}
