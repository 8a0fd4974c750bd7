"""Chatwoot stand-in: the model and its state, with auto-assignment.

Every method of State expects the caller to hold State.lock.
"""

from __future__ import annotations

import argparse
import secrets
import threading
import time
import uuid
from dataclasses import dataclass, field

from common import MESSAGE_TYPES, agent_token, attributes, not_found, parse_id, text_or_none


# --------------------------------------------------------------------------
# Model


@dataclass
class Agent:
    id: int
    name: str
    email: str
    token: str
    pubsub_token: str
    team_ids: set[int]
    availability: str = "offline"
    open_ids: set[int] = field(default_factory=set)  # open conversations held
    sessions: dict[str, str] = field(default_factory=dict)  # devise client -> token
    display_name: str | None = None
    message_signature: str | None = None
    active_at: float | None = None


@dataclass
class Team:
    id: int
    name: str
    created_at: float


@dataclass
class Contact:
    id: int
    source_id: str
    pubsub_token: str
    name: str | None
    email: str | None
    identifier: str | None
    custom_attributes: dict
    created_at: float
    conversation_ids: list[int] = field(default_factory=list)


@dataclass
class Message:
    id: int
    conversation_id: int
    message_type: int
    content: str
    private: bool
    sender_kind: str  # "contact" or "user"
    sender_id: int
    created_at: float
    echo_id: str | None = None


@dataclass
class Conversation:
    id: int  # Chatwoot's display_id, the id used in every path
    uuid: str
    contact_id: int
    custom_attributes: dict
    created_at: float
    status: str = "open"
    assignee_id: int | None = None
    team_id: int | None = None
    messages: list[Message] = field(default_factory=list)
    last_activity_at: float = 0.0
    waiting_since: float = 0.0
    first_reply_created_at: float = 0.0
    agent_last_seen_at: float = 0.0
    contact_last_seen_at: float = 0.0


# --------------------------------------------------------------------------
# State and routing (every method expects the caller to hold State.lock)


class State:
    """All data of the stand-in, plus Chatwoot-like auto-assignment."""

    def __init__(self, args: argparse.Namespace):
        self.lock = threading.Lock()
        self.account_id = args.account_id
        self.inbox_id = 1
        self.inbox_identifier = args.inbox_identifier
        self.password = args.password
        self.max_per_agent = args.max_per_agent
        self.started = time.time()
        self.agents: dict[int, Agent] = {}
        self.by_token: dict[str, Agent] = {}
        self.by_email: dict[str, Agent] = {}
        self.teams: dict[int, Team] = {}
        self.contacts: dict[int, Contact] = {}
        self.by_source: dict[str, Contact] = {}
        self.conversations: dict[int, Conversation] = {}
        self.open_ids: set[int] = set()
        self.waiting: dict[int, None] = {}  # insertion-ordered FIFO of conv ids
        self.next_message_id = 1
        self.counters = dict.fromkeys(
            ("resolved_by_agent", "resolved_by_contact", "messages_incoming",
             "messages_outgoing", "assignments", "transfers"), 0)
        self._seed(args.agents, args.teams)

    def _seed(self, n_agents: int, n_teams: int) -> None:
        for t in range(1, n_teams + 1):
            self.teams[t] = Team(t, f"team-{t}", self.started)
        for k in range(1, n_agents + 1):
            teams = {(k - 1) % n_teams + 1} if n_teams else set()
            agent = Agent(k, f"Agent {k}", f"agent{k}@standin.test", agent_token(k),
                          f"standin-pubsub-{k}", teams)
            self.agents[k] = agent
            self.by_token[agent.token] = agent
            self.by_email[agent.email] = agent

    # -- lookups ------------------------------------------------------------

    def contact_by_source(self, source_id: str) -> Contact:
        contact = self.by_source.get(source_id)
        if contact is None:
            raise not_found()
        return contact

    def conversation(self, conv_id: str) -> Conversation:
        conv = self.conversations.get(parse_id(conv_id))
        if conv is None:
            raise not_found()
        return conv

    def contact_conversation(self, contact: Contact, conv_id: str) -> Conversation:
        conv = self.conversation(conv_id)
        if conv.contact_id != contact.id:
            raise not_found()
        return conv

    # -- creation -----------------------------------------------------------

    def create_contact(self, body: dict) -> Contact:
        source_id = str(uuid.uuid4())
        contact = Contact(len(self.contacts) + 1, source_id, secrets.token_urlsafe(18),
                          text_or_none(body, "name"), text_or_none(body, "email"),
                          text_or_none(body, "identifier"), attributes(body), time.time())
        self.contacts[contact.id] = contact
        self.by_source[source_id] = contact
        return contact

    def create_conversation(self, contact: Contact, custom_attributes: dict) -> Conversation:
        now = time.time()
        conv = Conversation(len(self.conversations) + 1, str(uuid.uuid4()), contact.id,
                            custom_attributes, now, last_activity_at=now,
                            waiting_since=now)
        self.conversations[conv.id] = conv
        contact.conversation_ids.append(conv.id)
        self.open_ids.add(conv.id)
        self._route(conv)
        return conv

    def add_message(self, conv: Conversation, kind: str, content: str, private: bool,
                    sender: Contact | Agent, echo_id: str | None = None) -> Message:
        now = time.time()
        sender_kind = "contact" if isinstance(sender, Contact) else "user"
        msg = Message(self.next_message_id, conv.id, MESSAGE_TYPES[kind], content, private,
                      sender_kind, sender.id, now, echo_id)
        self.next_message_id += 1
        conv.messages.append(msg)
        conv.last_activity_at = now
        self.counters[f"messages_{kind}"] += 1
        if kind == "incoming":
            self._on_incoming(conv, now)
        elif not private:
            conv.first_reply_created_at = conv.first_reply_created_at or now
            conv.waiting_since = 0.0
        return msg

    def _on_incoming(self, conv: Conversation, now: float) -> None:
        """Chatwoot reopens a resolved conversation when the contact writes."""
        conv.waiting_since = conv.waiting_since or now
        if conv.status == "resolved":
            self.reopen(conv)

    # -- status -------------------------------------------------------------

    def resolve(self, conv: Conversation, by: str) -> bool:
        if conv.status == "resolved":
            return False
        conv.status = "resolved"
        self.open_ids.discard(conv.id)
        self.waiting.pop(conv.id, None)
        holder = self.agents.get(conv.assignee_id)
        if holder:
            holder.open_ids.discard(conv.id)
        self.counters[f"resolved_by_{by}"] += 1
        self._drain()
        return True

    def reopen(self, conv: Conversation) -> None:
        """Back to open: the previous assignee keeps it, else auto-assignment."""
        if conv.status == "open":
            return
        conv.status = "open"
        self.open_ids.add(conv.id)
        holder = self.agents.get(conv.assignee_id)
        if holder:
            holder.open_ids.add(conv.id)
        else:
            self._route(conv)

    def set_availability(self, agent: Agent, availability: str) -> None:
        agent.availability = availability
        if availability == "online":
            self._drain()

    # -- manual assignment (the assignments endpoint) ----------------------

    def assign_agent(self, conv: Conversation, agent: Agent | None) -> bool:
        """Manual (re)assignment; ignores the per-agent limit, like Chatwoot."""
        if conv.assignee_id == (agent.id if agent else None):
            return False
        freed = conv.assignee_id is not None
        self._set_assignee(conv, agent)
        if agent is None and conv.status == "open":
            self._route(conv)
        if freed:
            self._drain()
        return True

    def assign_team(self, conv: Conversation, team: Team | None) -> bool:
        """Chatwoot: an assignee outside the new team is dropped, and an open
        conversation is then auto-assigned among that team's members."""
        if conv.team_id == (team.id if team else None):
            return False
        conv.team_id = team.id if team else None
        holder = self.agents.get(conv.assignee_id)
        if team and holder and team.id not in holder.team_ids:
            self._set_assignee(conv, None)
            if conv.status == "open":
                self._route(conv)
            self._drain()
        elif conv.id in self.waiting:  # may now fit an agent; else keeps its place
            agent = self._pick(conv, [a for a in self.agents.values() if self._has_slot(a)])
            if agent is not None:
                self._set_assignee(conv, agent)
        return True

    # -- routing --------------------------------------------------------------

    def _set_assignee(self, conv: Conversation, agent: Agent | None) -> None:
        old = self.agents.get(conv.assignee_id)
        if old:
            old.open_ids.discard(conv.id)
        conv.assignee_id = agent.id if agent else None
        self.waiting.pop(conv.id, None)
        if agent:
            self.counters["assignments"] += 1
            if conv.status == "open":
                agent.open_ids.add(conv.id)

    def _has_slot(self, agent: Agent) -> bool:
        return agent.availability == "online" and (
            self.max_per_agent <= 0 or len(agent.open_ids) < self.max_per_agent)

    def _pick(self, conv: Conversation, agents) -> Agent | None:
        """Fewest open conversations first, then lowest id, within the team."""
        best = None
        for agent in agents:
            if conv.team_id is not None and conv.team_id not in agent.team_ids:
                continue
            if best is None or len(agent.open_ids) < len(best.open_ids):
                best = agent
        return best

    def _route(self, conv: Conversation) -> None:
        """Auto-assign an open unassigned conversation, or queue it (FIFO)."""
        agent = self._pick(conv, [a for a in self.agents.values() if self._has_slot(a)])
        if agent is None:
            self.waiting[conv.id] = None
        else:
            self._set_assignee(conv, agent)

    def _drain(self) -> None:
        """Hand queued conversations, oldest first, to agents with a free slot."""
        free = [a for a in self.agents.values() if self._has_slot(a)]
        while free and self.waiting:
            match = self._first_fit(free)
            if match is None:
                return
            conv, agent = match
            self._set_assignee(conv, agent)
            if not self._has_slot(agent):
                free.remove(agent)

    def _first_fit(self, free: list[Agent]) -> tuple[Conversation, Agent] | None:
        """The oldest queued conversation some free agent may take (teams)."""
        for conv_id in self.waiting:
            conv = self.conversations[conv_id]
            agent = self._pick(conv, free)
            if agent is not None:
                return conv, agent
        return None

    # -- the stand-in's own counts -------------------------------------------

    def counts(self) -> dict:
        open_unassigned = len(self.waiting)
        open_total = len(self.open_ids)
        return {
            "contacts": len(self.contacts),
            "conversations_created": len(self.conversations),
            "open_unassigned": open_unassigned,
            "open_assigned": open_total - open_unassigned,
            "resolved": len(self.conversations) - open_total,
            **self.counters,
        }
