//! The chat log of one replication: an [`Observer`] that follows every customer from arrival
//! to the end of their chat and every agent's status, so that `chatcap simulate --log` writes
//! the history a chat platform would export, from a model whose parameters are known. `chatcap
//! fit` reads such a log back, which checks the fit against the truth.
//!
//! During the run only numbers are kept (a compact record per customer, status spans per
//! agent); names and timestamps are made when the rows are read out.
//!
//! What the rows say:
//! - one row per customer, in arrival order, numbered `c0000001`, ...; warm-up customers too;
//! - the replication runs until every chat has ended, as its tallies do: chats still in
//!   progress when the horizon ends are followed to their end; a chat that never ended (left
//!   waiting in a queue nobody staffs any more, without patience) has neither `closed_at` nor
//!   `abandoned_at`;
//! - a chat resolved by the bot: `bot_resolved = true`, `closed_at` when the bot finished, no
//!   `queued_at`;
//! - a chat a full queue refused: `closed_at = queued_at` (the refusal), no answer;
//! - a transferred chat: the first agent in `agent_id` and `answered_at`, the hand-over in
//!   `transferred_at`, the second agent in `transfer_agent_id` and `transfer_answered_at`,
//!   the final close in `closed_at`; its first response is the first agent's;
//! - in queues without a first-response delay the answer is the first message.
//!
//! Agents are named `<group>-<k>` (`tier1-001`, k from 1, zero-padded to at least three
//! digits). The agent log covers the horizon: `available` on duty, `away` after missed offers,
//! `offline` off duty (an agent going off duty finishes its chats, which the chat log shows,
//! but takes no new ones).

use jiff::{SignedDuration, Timestamp};

use crate::chatlog::{AgentRow, ChatRow};
use crate::profile::Calendar;
use crate::routing::{AgentId, AgentStatus, ChatId, Decision, Time, TransferTarget};
use crate::scenario::Scenario;

use super::driver::agents_created;
use super::{Entry, Observer};

/// A time not (yet) reached.
const NEVER: Time = Time::MAX;
/// No agent, no queue, no customer.
const NOBODY: u32 = u32::MAX;

/// One customer's story in numbers.
#[derive(Debug, Clone, Copy)]
struct Customer {
    queue: u16,
    bot_resolved: bool,
    /// Queue index the chat was transferred to, or [`NOBODY`].
    transferred_to: u32,
    agent: u32,
    transfer_agent: u32,
    created: Time,
    queued: Time,
    offered: Time,
    answered: Time,
    first_response: Time,
    closed: Time,
    abandoned: Time,
    transferred: Time,
    transfer_answered: Time,
    csat: Option<f64>,
}

/// An agent's status as the agent log writes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LogStatus {
    Available,
    Away,
    Offline,
}

impl LogStatus {
    fn of(status: AgentStatus) -> LogStatus {
        match status {
            AgentStatus::Available => LogStatus::Available,
            AgentStatus::Away => LogStatus::Away,
            AgentStatus::Offline | AgentStatus::Draining => LogStatus::Offline,
        }
    }

    fn name(self) -> &'static str {
        match self {
            LogStatus::Available => "available",
            LogStatus::Away => "away",
            LogStatus::Offline => "offline",
        }
    }
}

/// One agent's status spans `(status, from, to)`, in time order, the last one open.
#[derive(Debug, Clone)]
struct AgentTrack {
    spans: Vec<(LogStatus, Time, Time)>,
}

/// Follows a replication and gives its chat log and agent log; see the module docs.
#[derive(Debug, Clone)]
pub struct ChatLogObserver {
    customers: Vec<Customer>,
    /// The live chat at each router slot and its customer.
    chats: Vec<(ChatId, u32)>,
    /// The customer at each bot-stage place.
    bot_places: Vec<u32>,
    queue_names: Vec<String>,
    /// Whether each queue models a first-response delay.
    first_response_modelled: Vec<bool>,
    agent_names: Vec<String>,
    agent_groups: Vec<u16>,
    group_names: Vec<String>,
    agents: Vec<AgentTrack>,
    horizon: Time,
}

impl ChatLogObserver {
    /// An observer for a replication of `sc`, before it starts.
    pub fn new(sc: &Scenario) -> ChatLogObserver {
        let mut agent_names = Vec::new();
        let mut agent_groups = Vec::new();
        for (g, group) in sc.groups.iter().enumerate() {
            let count = agents_created(group);
            let width = count.to_string().len().max(3);
            for k in 1..=count {
                agent_names.push(format!("{}-{k:0width$}", group.name));
                agent_groups.push(g as u16);
            }
        }
        let offline = AgentTrack {
            spans: vec![(LogStatus::Offline, 0, NEVER)],
        };
        ChatLogObserver {
            customers: Vec::new(),
            chats: Vec::new(),
            bot_places: Vec::new(),
            queue_names: sc.queues.iter().map(|q| q.name.clone()).collect(),
            first_response_modelled: sc
                .queues
                .iter()
                .map(|q| q.first_response.is_some())
                .collect(),
            agents: vec![offline; agent_names.len()],
            agent_names,
            agent_groups,
            group_names: sc.groups.iter().map(|g| g.name.clone()).collect(),
            horizon: sc.horizon(),
        }
    }

    /// Customers seen so far (one chat-log row each).
    pub fn customers(&self) -> usize {
        self.customers.len()
    }

    /// The chat log's rows, in arrival order, placed on `calendar`.
    pub fn chat_rows<'a>(&'a self, calendar: &'a Calendar) -> impl Iterator<Item = ChatRow> + 'a {
        let width = self.customers.len().to_string().len().max(7);
        self.customers.iter().enumerate().map(move |(i, c)| {
            let at = |t: Time| (t != NEVER).then(|| instant(calendar, t));
            let agent = |a: u32| self.agent_names.get(a as usize).cloned();
            ChatRow {
                chat_id: format!("c{:0width$}", i + 1),
                queue: self.queue_names[c.queue as usize].clone(),
                created_at: instant(calendar, c.created),
                queued_at: at(c.queued),
                offered_at: at(c.offered),
                answered_at: at(c.answered),
                first_response_at: at(c.first_response),
                closed_at: at(c.closed),
                abandoned_at: at(c.abandoned),
                agent_id: agent(c.agent),
                bot_resolved: Some(c.bot_resolved),
                transferred_to: self.queue_names.get(c.transferred_to as usize).cloned(),
                transferred_at: at(c.transferred),
                transfer_answered_at: at(c.transfer_answered),
                transfer_agent_id: agent(c.transfer_agent),
                csat: c.csat,
            }
        })
    }

    /// The agent log's rows, agent by agent in time order, covering the horizon, placed on
    /// `calendar`.
    pub fn agent_rows<'a>(&'a self, calendar: &'a Calendar) -> impl Iterator<Item = AgentRow> + 'a {
        let horizon = self.horizon;
        self.agents.iter().enumerate().flat_map(move |(a, track)| {
            track.spans.iter().filter_map(move |&(status, from, to)| {
                let (from, to) = (from.min(horizon), to.min(horizon));
                (from < to).then(|| AgentRow {
                    agent_id: self.agent_names[a].clone(),
                    group: self.group_names[self.agent_groups[a] as usize].clone(),
                    status: status.name().to_string(),
                    from: instant(calendar, from),
                    to: instant(calendar, to),
                })
            })
        })
    }

    /// The index of the customer of a live chat.
    #[inline]
    fn index_of(&self, chat: ChatId) -> Option<usize> {
        match self.chats.get(chat.index()) {
            Some(&(live, c)) if live == chat && c != NOBODY => Some(c as usize),
            _ => None,
        }
    }

    /// The customer of a live chat.
    #[inline]
    fn customer_of(&mut self, chat: ChatId) -> Option<&mut Customer> {
        let i = self.index_of(chat)?;
        self.customers.get_mut(i)
    }

    /// Files `chat` as customer `c`'s.
    fn file_chat(&mut self, chat: ChatId, c: u32) {
        if chat.index() >= self.chats.len() {
            self.chats.resize(chat.index() + 1, (chat, NOBODY));
        }
        self.chats[chat.index()] = (chat, c);
    }

    /// Forgets an ended chat.
    fn end_chat(&mut self, chat: ChatId) {
        if let Some(slot) = self.chats.get_mut(chat.index())
            && slot.0 == chat
        {
            slot.1 = NOBODY;
        }
    }

    /// `agent`'s status from `now` on.
    fn set_status(&mut self, now: Time, agent: AgentId, status: LogStatus) {
        let Some(track) = self.agents.get_mut(agent.0 as usize) else {
            return;
        };
        let Some(last) = track.spans.last_mut() else {
            return;
        };
        if last.0 == status {
            return;
        }
        if last.1 == now {
            // Replaced within the same instant: the earlier status lasted no time.
            last.0 = status;
            let merged = track.spans.len() >= 2 && track.spans[track.spans.len() - 2].0 == status;
            if merged {
                track.spans.pop();
                if let Some(prev) = track.spans.last_mut() {
                    prev.2 = NEVER;
                }
            }
            return;
        }
        last.2 = now;
        track.spans.push((status, now, NEVER));
    }

    /// The router's decision about a chat.
    fn chat_decision(&mut self, now: Time, decision: &Decision) {
        match *decision {
            Decision::Offered { chat, .. } => {
                if let Some(c) = self.customer_of(chat)
                    && c.answered == NEVER
                {
                    c.offered = now;
                }
            }
            Decision::Assigned { chat, agent } => {
                let Some(i) = self.index_of(chat) else {
                    return;
                };
                let c = &mut self.customers[i];
                if c.answered == NEVER {
                    c.answered = now;
                    c.agent = agent.0;
                    if c.offered == NEVER {
                        c.offered = now;
                    }
                    if !self.first_response_modelled[c.queue as usize] {
                        c.first_response = now;
                    }
                } else if c.transfer_answered == NEVER {
                    c.transfer_answered = now;
                    c.transfer_agent = agent.0;
                }
            }
            Decision::Rejected { chat, .. } => {
                if let Some(c) = self.customer_of(chat) {
                    c.closed = now;
                }
                self.end_chat(chat);
            }
            Decision::Abandoned { chat } => {
                if let Some(c) = self.customer_of(chat) {
                    c.abandoned = now;
                }
                self.end_chat(chat);
            }
            Decision::Transferred { chat, to } => {
                if let Some(c) = self.customer_of(chat) {
                    c.transferred = now;
                    if let TransferTarget::Queue(q) = to {
                        c.transferred_to = q.0;
                    }
                }
            }
            _ => {}
        }
    }
}

impl Observer for ChatLogObserver {
    fn decision(&mut self, now: Time, decision: &Decision) {
        match *decision {
            Decision::AgentAway { agent } => self.set_status(now, agent, LogStatus::Away),
            _ => self.chat_decision(now, decision),
        }
    }

    fn arrived(&mut self, now: Time, queue: u16, entry: Entry) {
        let c = self.customers.len() as u32;
        self.customers.push(Customer {
            queue,
            bot_resolved: false,
            transferred_to: NOBODY,
            agent: NOBODY,
            transfer_agent: NOBODY,
            created: now,
            queued: NEVER,
            offered: NEVER,
            answered: NEVER,
            first_response: NEVER,
            closed: NEVER,
            abandoned: NEVER,
            transferred: NEVER,
            transfer_answered: NEVER,
            csat: None,
        });
        match entry {
            Entry::Bot { place } => {
                let place = place as usize;
                if place >= self.bot_places.len() {
                    self.bot_places.resize(place + 1, NOBODY);
                }
                self.bot_places[place] = c;
            }
            Entry::Queue { chat } => {
                self.customers[c as usize].queued = now;
                self.file_chat(chat, c);
            }
        }
    }

    fn bot_done(&mut self, now: Time, place: u32, queued_as: Option<ChatId>) {
        let Some(&c) = self.bot_places.get(place as usize) else {
            return;
        };
        let Some(customer) = self.customers.get_mut(c as usize) else {
            return;
        };
        match queued_as {
            None => {
                customer.bot_resolved = true;
                customer.closed = now;
            }
            Some(chat) => {
                customer.queued = now;
                self.file_chat(chat, c);
            }
        }
    }

    fn first_response(&mut self, now: Time, chat: ChatId) {
        if let Some(c) = self.customer_of(chat)
            && c.first_response == NEVER
        {
            c.first_response = now;
        }
    }

    fn closed(&mut self, now: Time, chat: ChatId, csat: Option<f64>) {
        if let Some(c) = self.customer_of(chat) {
            c.closed = now;
            c.csat = csat;
        }
        self.end_chat(chat);
    }

    fn agent_status(&mut self, now: Time, agent: AgentId, status: AgentStatus) {
        self.set_status(now, agent, LogStatus::of(status));
    }
}

/// The instant `t` (microseconds into the horizon) on `calendar`, exact to the microsecond.
fn instant(calendar: &Calendar, t: Time) -> Timestamp {
    let micros = i64::try_from(t).unwrap_or(i64::MAX);
    calendar
        .start
        .checked_add(SignedDuration::from_micros(micros))
        .unwrap_or(calendar.start)
}
