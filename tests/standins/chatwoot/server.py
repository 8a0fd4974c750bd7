#!/usr/bin/env python3
"""Stand-in for Chatwoot's public HTTP APIs, for chatcap's load-test tests.

Why this exists: chatcap's load tester must be exercised against something
that speaks Chatwoot's documented HTTP API (same paths, field names, status
codes and auth headers) without a Rails + Postgres + Redis + Sidekiq install.
This process keeps everything in memory, behind one lock, and implements only
the endpoints a customer (Client API) and an agent (Application API) need for
a live-chat session, plus Chatwoot-style auto-assignment with a per-agent
limit.  It is not Chatwoot: see README.md next to this file for exactly what
is implemented, which Chatwoot spec version it follows, and where it differs.

Standard library only (Python 3.11).  Run:

    python3 server.py --port 0 --agents 20 --max-per-agent 3 \
        --account-id 1 --inbox-identifier my-inbox [--password chatcap-password]

The first (and only) stdout line is ``listening on http://127.0.0.1:PORT``.
"""

from __future__ import annotations

import argparse
import json
import re
import secrets
import signal
import socket
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

MESSAGE_TYPES = {"incoming": 0, "outgoing": 1}  # Chatwoot enum values
AVAILABILITIES = ("online", "offline", "busy")
CONVERSATIONS_PER_PAGE = 25  # Chatwoot's ConversationFinder page size
MESSAGES_PER_PAGE = 20  # Chatwoot's MessageFinder page size
MAX_BODY_BYTES = 1 << 20
CHANNEL_TYPE = "Channel::Api"  # the public API only exists for API inboxes
NOT_FOUND = "Resource could not be found"


def agent_token(agent_id: int) -> str:
    """The seeded, deterministic api_access_token of agent ``agent_id``."""
    return f"standin-token-{agent_id}"


def iso(ts: float | None) -> str | None:
    """Rails' JSON time format, e.g. 2024-05-01T10:00:00.123Z."""
    if not ts:
        return None
    text = datetime.fromtimestamp(ts, timezone.utc).isoformat(timespec="milliseconds")
    return text.replace("+00:00", "Z")


class ApiError(Exception):
    """An HTTP error answer with a JSON body."""

    def __init__(self, status: int, body: object):
        super().__init__(status)
        self.status = status
        self.body = body


def not_found() -> ApiError:
    return ApiError(404, {"error": NOT_FOUND})


def unprocessable(message: str) -> ApiError:
    return ApiError(422, {"error": message})


def parse_id(text: str) -> int | None:
    """A path or query id, or None when it is not a plain decimal number."""
    return int(text) if text.isascii() and text.isdigit() else None


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


# --------------------------------------------------------------------------
# JSON views (shapes from Chatwoot's jbuilder views; see README.md)


class Views:
    """Render model objects in Chatwoot's documented response shapes."""

    def __init__(self, state: State):
        self.s = state

    # contacts
    def contact_push(self, c: Contact) -> dict:
        return {"additional_attributes": {}, "custom_attributes": c.custom_attributes,
                "email": c.email, "id": c.id, "identifier": c.identifier, "name": c.name,
                "phone_number": None, "thumbnail": "", "blocked": False, "type": "contact"}

    def contact_record(self, c: Contact) -> dict:
        return {"id": c.id, "name": c.name, "email": c.email, "phone_number": None,
                "account_id": self.s.account_id, "created_at": iso(c.created_at),
                "updated_at": iso(c.created_at), "additional_attributes": {},
                "identifier": c.identifier, "custom_attributes": c.custom_attributes,
                "last_activity_at": None, "blocked": False}

    def contact_model(self, c: Contact) -> dict:
        return {"additional_attributes": {}, "availability_status": "offline",
                "email": c.email, "id": c.id, "name": c.name, "phone_number": None,
                "blocked": False, "identifier": c.identifier, "thumbnail": "",
                "custom_attributes": c.custom_attributes, "last_activity_at": None,
                "created_at": int(c.created_at)}

    def public_contact(self, c: Contact) -> dict:
        return {"source_id": c.source_id, "pubsub_token": c.pubsub_token, "id": c.id,
                "name": c.name, "email": c.email}

    # agents and users
    def user_push(self, a: Agent) -> dict:
        return {"id": a.id, "name": a.name, "available_name": a.display_name or a.name,
                "avatar_url": "", "type": "user", "availability_status": a.availability,
                "thumbnail": ""}

    def agent(self, a: Agent) -> dict:
        return {"id": a.id, "account_id": self.s.account_id,
                "availability_status": a.availability, "auto_offline": True,
                "confirmed": True, "email": a.email,
                "available_name": a.display_name or a.name, "name": a.name,
                "role": "agent", "thumbnail": ""}

    def user(self, a: Agent) -> dict:
        return {"access_token": a.token, "account_id": self.s.account_id,
                "available_name": a.display_name or a.name, "avatar_url": "",
                "confirmed": True, "display_name": a.display_name,
                "message_signature": a.message_signature, "email": a.email, "id": a.id,
                "inviter_id": None, "name": a.name, "provider": "email",
                "pubsub_token": a.pubsub_token, "role": "agent", "ui_settings": {},
                "uid": a.email, "type": "User", "accounts": [self._account_user(a)]}

    def _account_user(self, a: Agent) -> dict:
        return {"id": self.s.account_id, "name": "chatcap stand-in", "status": "active",
                "active_at": iso(a.active_at), "role": "agent",
                "availability": a.availability, "availability_status": a.availability,
                "auto_offline": True}

    def team(self, t: Team) -> dict:
        return {"id": t.id, "name": t.name, "description": "", "allow_auto_assign": True,
                "account_id": self.s.account_id, "created_at": iso(t.created_at),
                "updated_at": iso(t.created_at)}

    # messages
    def _sender(self, m: Message) -> dict:
        if m.sender_kind == "contact":
            return self.contact_push(self.s.contacts[m.sender_id])
        return self.user_push(self.s.agents[m.sender_id])

    def public_message(self, m: Message) -> dict:
        return {"id": m.id, "content": m.content, "message_type": m.message_type,
                "content_type": "text", "content_attributes": {},
                "created_at": int(m.created_at), "conversation_id": m.conversation_id,
                "sender": self._sender(m)}

    def app_message(self, m: Message) -> dict:
        out = {"id": m.id, "content": m.content, "inbox_id": self.s.inbox_id,
               "conversation_id": m.conversation_id, "message_type": m.message_type,
               "content_type": "text", "content_attributes": {},
               "created_at": int(m.created_at), "private": m.private, "source_id": None,
               "sender": self._sender(m)}
        if m.echo_id:
            out["echo_id"] = m.echo_id
        return out

    def message_push(self, m: Message) -> dict:
        out = self.app_message(m)
        out.update({"account_id": self.s.account_id, "status": "sent",
                    "updated_at": iso(m.created_at),
                    "sender_type": "Contact" if m.sender_kind == "contact" else "User",
                    "sender_id": m.sender_id, "processed_message_content": m.content})
        return out

    # conversations
    def public_conversation(self, c: Conversation) -> dict:
        chat = [self.public_message(m) for m in c.messages if not m.private]
        return {"id": c.id, "uuid": c.uuid, "inbox_id": self.s.inbox_id,
                "contact_last_seen_at": int(c.contact_last_seen_at), "status": c.status,
                "agent_last_seen_at": int(c.agent_last_seen_at), "messages": chat,
                "contact": self.contact_record(self.s.contacts[c.contact_id])}

    def app_conversation(self, c: Conversation) -> dict:
        last = [self.message_push(c.messages[-1])] if c.messages else []
        return {"meta": self._conversation_meta(c), "id": c.id, "messages": last,
                "account_id": self.s.account_id, "uuid": c.uuid,
                "additional_attributes": {}, "agent_last_seen_at": int(c.agent_last_seen_at),
                "assignee_last_seen_at": 0, "can_reply": True,
                "contact_last_seen_at": int(c.contact_last_seen_at),
                "custom_attributes": c.custom_attributes, "inbox_id": self.s.inbox_id,
                "labels": [], "muted": False, "snoozed_until": None, "status": c.status,
                "created_at": int(c.created_at), "timestamp": int(c.last_activity_at),
                "first_reply_created_at": int(c.first_reply_created_at),
                "unread_count": self._unread(c),
                "last_non_activity_message": last[0] if last else None,
                "last_activity_at": int(c.last_activity_at), "priority": None,
                "waiting_since": int(c.waiting_since), "sla_policy_id": None}

    def _conversation_meta(self, c: Conversation) -> dict:
        meta = {"sender": self.contact_model(self.s.contacts[c.contact_id]),
                "channel": CHANNEL_TYPE, "hmac_verified": False}
        if c.assignee_id is not None:
            meta["assignee"] = self.agent(self.s.agents[c.assignee_id])
        if c.team_id is not None:
            meta["team"] = self.team(self.s.teams[c.team_id])
        return meta

    def _unread(self, c: Conversation) -> int:
        return sum(1 for m in c.messages
                   if m.message_type == 0 and m.created_at > c.agent_last_seen_at)

    def messages_meta(self, c: Conversation) -> dict:
        meta = {"labels": [], "additional_attributes": {},
                "contact": self.contact_push(self.s.contacts[c.contact_id]),
                "agent_last_seen_at": iso(c.agent_last_seen_at),
                "assignee_last_seen_at": None}
        if c.assignee_id is not None:
            meta["assignee"] = self.user_push(self.s.agents[c.assignee_id])
        return meta


# --------------------------------------------------------------------------
# Request parsing helpers


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: object  # http.client.HTTPMessage
    body: bytes

    def json(self) -> dict:
        """The body as a JSON object ({} when empty); 400 when malformed."""
        if not self.body.strip():
            return {}
        try:
            value = json.loads(self.body)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ApiError(400, {"error": f"malformed JSON body: {exc}"}) from None
        if not isinstance(value, dict):
            raise ApiError(400, {"error": "JSON body must be an object"})
        return value


def text_or_none(body: dict, key: str) -> str | None:
    value = body.get(key)
    if value is not None and not isinstance(value, str):
        raise unprocessable(f"{key} must be a string")
    return value


def attributes(body: dict) -> dict:
    value = body.get("custom_attributes")
    if value is not None and not isinstance(value, dict):
        raise unprocessable("custom_attributes must be an object")
    return dict(value or {})


def content_of(body: dict) -> str:
    content = body.get("content")
    if not isinstance(content, str):
        raise unprocessable("content must be a string")
    return content


def optional_id(body: dict, key: str) -> int | None:
    """An id from the body: None when null/blank, 422 when not an integer."""
    value = body.get(key)
    if value is None or value == "":
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        raise unprocessable(f"{key} must be an integer") from None


def older_or_newer(messages: list[Message], query: dict[str, str]) -> list[Message]:
    """Chatwoot's MessageFinder paging: the last 20, before/after a message id."""
    try:
        if "after" in query:
            after = int(query["after"])
            return [m for m in messages if m.id > after][:100]
        if "before" in query:
            before = int(query["before"])
            messages = [m for m in messages if m.id < before]
    except ValueError:
        raise unprocessable("before/after must be a message id") from None
    return messages[-MESSAGES_PER_PAGE:]


# --------------------------------------------------------------------------
# Endpoint handlers (each returns (status, body[, headers]))


class Api:
    """The endpoints; each handler runs with the state lock held."""

    def __init__(self, state: State):
        self.s = state
        self.v = Views(state)

    # -- auth -----------------------------------------------------------------

    def current_agent(self, req: Request) -> Agent:
        """api_access_token header, or the devise_token_auth header triple."""
        token = req.headers.get("api_access_token") or req.headers.get("api-access-token")
        if token:
            agent = self.s.by_token.get(token)
            if agent:
                return agent
            raise ApiError(401, {"error": "Invalid Access Token"})
        agent = self.s.by_email.get(req.headers.get("uid", ""))
        client = req.headers.get("client", "")
        if agent and client and agent.sessions.get(client) == req.headers.get("access-token"):
            return agent
        raise ApiError(401, {"errors": ["You need to sign in or sign up before continuing."]})

    def account_agent(self, req: Request, account_id: str) -> Agent:
        agent = self.current_agent(req)
        if account_id != str(self.s.account_id):
            raise not_found()
        return agent

    def check_inbox(self, inbox_identifier: str) -> None:
        if inbox_identifier != self.s.inbox_identifier:
            raise not_found()

    # -- Client (public) API ------------------------------------------------

    def public_create_contact(self, req, inbox):
        self.check_inbox(inbox)
        return 200, self.v.public_contact(self.s.create_contact(req.json()))

    def public_show_contact(self, req, inbox, source_id):
        self.check_inbox(inbox)
        return 200, self.v.public_contact(self.s.contact_by_source(source_id))

    def public_list_conversations(self, req, inbox, source_id):
        self.check_inbox(inbox)
        contact = self.s.contact_by_source(source_id)
        convs = [self.s.conversations[i] for i in contact.conversation_ids]
        return 200, [self.v.public_conversation(c) for c in convs]

    def public_create_conversation(self, req, inbox, source_id):
        self.check_inbox(inbox)
        body = req.json()
        contact = self.s.contact_by_source(source_id)
        conv = self.s.create_conversation(contact, attributes(body))
        return 200, self.v.public_conversation(conv)

    def public_show_conversation(self, req, inbox, source_id, conv_id):
        self.check_inbox(inbox)
        contact = self.s.contact_by_source(source_id)
        return 200, self.v.public_conversation(self.s.contact_conversation(contact, conv_id))

    def public_toggle_status(self, req, inbox, source_id, conv_id):
        self.check_inbox(inbox)
        contact = self.s.contact_by_source(source_id)
        conv = self.s.contact_conversation(contact, conv_id)
        self.s.resolve(conv, "contact")
        return 200, self.v.public_conversation(conv)

    def public_list_messages(self, req, inbox, source_id, conv_id):
        self.check_inbox(inbox)
        contact = self.s.contact_by_source(source_id)
        conv = self.s.contact_conversation(contact, conv_id)
        visible = [m for m in conv.messages if not m.private]
        return 200, [self.v.public_message(m) for m in older_or_newer(visible, req.query)]

    def public_create_message(self, req, inbox, source_id, conv_id):
        self.check_inbox(inbox)
        body = req.json()
        contact = self.s.contact_by_source(source_id)
        conv = self.s.contact_conversation(contact, conv_id)
        echo = body.get("echo_id")
        msg = self.s.add_message(conv, "incoming", content_of(body), False, contact,
                                 str(echo) if echo is not None else None)
        return 200, self.v.public_message(msg)

    # -- Application API: auth and profile -------------------------------------

    def sign_in(self, req):
        body = req.json()
        agent = self.s.by_email.get(str(body.get("email", "")).strip().lower())
        if agent is None or body.get("password") != self.s.password:
            return 401, {"success": False,
                         "errors": ["Invalid login credentials. Please try again."]}
        client, token = secrets.token_urlsafe(16), secrets.token_urlsafe(16)
        agent.sessions[client] = token
        agent.active_at = time.time()
        headers = {"access-token": token, "token-type": "Bearer", "client": client,
                   "expiry": str(int(time.time()) + 60 * 24 * 3600), "uid": agent.email}
        return 200, {"data": self.v.user(agent)}, headers

    def show_profile(self, req):
        return 200, self.v.user(self.current_agent(req))

    def update_profile(self, req):
        agent = self.current_agent(req)
        profile = self._profile_param(req)
        for key in ("name", "display_name", "message_signature"):
            if isinstance(profile.get(key), str):
                setattr(agent, key, profile[key])
        return 200, self.v.user(agent)

    def set_availability(self, req):
        agent = self.current_agent(req)
        profile = self._profile_param(req)
        if str(profile.get("account_id")) != str(self.s.account_id):
            raise not_found()
        availability = profile.get("availability")
        if availability not in AVAILABILITIES:
            raise unprocessable(f"availability must be one of {', '.join(AVAILABILITIES)}")
        self.s.set_availability(agent, availability)
        return 200, self.v.user(agent)

    @staticmethod
    def _profile_param(req: Request) -> dict:
        profile = req.json().get("profile")
        if not isinstance(profile, dict) or not profile:
            raise unprocessable("param is missing or the value is empty: profile")
        return profile

    # -- Application API: conversations -----------------------------------------

    def list_conversations(self, req, account_id):
        agent = self.account_agent(req, account_id)
        convs = self._filtered(req.query)
        meta = {"mine_count": sum(c.assignee_id == agent.id for c in convs),
                "assigned_count": sum(c.assignee_id is not None for c in convs),
                "unassigned_count": sum(c.assignee_id is None for c in convs),
                "all_count": len(convs)}
        page = self._page_of(self._by_assignee(convs, req.query, agent), req.query)
        return 200, {"data": {"meta": meta,
                              "payload": [self.v.app_conversation(c) for c in page]}}

    def conversations_meta(self, req, account_id):
        status, body = self.list_conversations(req, account_id)
        return status, {"meta": body["data"]["meta"]}

    def _filtered(self, query: dict[str, str]) -> list[Conversation]:
        status = query.get("status", "open")
        if status == "open":
            convs = [self.s.conversations[i] for i in self.s.open_ids]
        elif status == "all":
            convs = list(self.s.conversations.values())
        else:
            convs = [c for c in self.s.conversations.values() if c.status == status]
        if query.get("inbox_id") not in (None, "", str(self.s.inbox_id)):
            return []
        team = query.get("team_id")
        if team:
            convs = [c for c in convs if str(c.team_id) == team]
        return convs

    @staticmethod
    def _by_assignee(convs, query, agent):
        kind = query.get("assignee_type", "all")
        if kind == "me":
            convs = [c for c in convs if c.assignee_id == agent.id]
        elif kind == "unassigned":
            convs = [c for c in convs if c.assignee_id is None]
        elif kind == "assigned":
            convs = [c for c in convs if c.assignee_id is not None]
        return sorted(convs, key=lambda c: (-c.last_activity_at, -c.id))

    @staticmethod
    def _page_of(convs, query):
        page = max(parse_id(query.get("page", "1")) or 1, 1)
        start = (page - 1) * CONVERSATIONS_PER_PAGE
        return convs[start:start + CONVERSATIONS_PER_PAGE]

    def show_conversation(self, req, account_id, conv_id):
        self.account_agent(req, account_id)
        return 200, self.v.app_conversation(self.s.conversation(conv_id))

    def list_messages(self, req, account_id, conv_id):
        self.account_agent(req, account_id)
        conv = self.s.conversation(conv_id)
        page = older_or_newer(conv.messages, req.query)
        return 200, {"meta": self.v.messages_meta(conv),
                     "payload": [self.v.app_message(m) for m in page]}

    def create_message(self, req, account_id, conv_id):
        agent = self.account_agent(req, account_id)
        body = req.json()
        conv = self.s.conversation(conv_id)
        kind = body.get("message_type") or "outgoing"
        if not isinstance(kind, str) or kind not in MESSAGE_TYPES:
            raise unprocessable("message_type must be outgoing or incoming")
        private = body.get("private") in (True, "true", "1", 1)
        sender = agent if kind == "outgoing" else self.s.contacts[conv.contact_id]
        echo = body.get("echo_id")
        msg = self.s.add_message(conv, kind, content_of(body), private, sender,
                                 str(echo) if echo is not None else None)
        return 200, self.v.app_message(msg)

    def toggle_status(self, req, account_id, conv_id):
        self.account_agent(req, account_id)
        body = req.json()
        conv = self.s.conversation(conv_id)
        status = body.get("status") or ("open" if conv.status == "resolved" else "resolved")
        if status not in ("open", "resolved"):
            raise unprocessable(f"status {status!r} is not supported by the stand-in")
        if status == "resolved":
            self.s.resolve(conv, "agent")
        else:
            self.s.reopen(conv)
        return 200, {"meta": {}, "payload": {"success": True, "conversation_id": conv.id,
                                             "current_status": conv.status,
                                             "snoozed_until": None}}

    def assign(self, req, account_id, conv_id):
        self.account_agent(req, account_id)
        body = req.json()
        conv = self.s.conversation(conv_id)
        if "assignee_id" in body:
            return self._assign_agent(conv, optional_id(body, "assignee_id"))
        if "team_id" in body:
            return self._assign_team(conv, optional_id(body, "team_id"))
        return 200, None

    def _assign_agent(self, conv, agent_id):
        agent = None if agent_id is None else self.s.agents.get(agent_id)
        if agent_id is not None and agent is None:
            raise not_found()
        if self.s.assign_agent(conv, agent):
            self.s.counters["transfers"] += 1
        return 200, self.v.agent(agent) if agent else None

    def _assign_team(self, conv, team_id):
        team = None if team_id is None else self.s.teams.get(team_id)
        if team_id is not None and team is None:
            raise not_found()
        if self.s.assign_team(conv, team):
            self.s.counters["transfers"] += 1
        return 200, self.v.team(team) if team else None

    # -- the stand-in's own test endpoint ----------------------------------------

    def standin_counts(self, req):
        return 200, self.s.counts()


SEG = r"([^/]+)"
PUB = r"/public/api/v1/inboxes/" + SEG + r"/contacts"
APP = r"/api/v1/accounts/" + SEG + r"/conversations"
ROUTES = [
    ("POST", PUB, "public_create_contact"),
    ("GET", PUB + "/" + SEG, "public_show_contact"),
    ("GET", PUB + "/" + SEG + "/conversations", "public_list_conversations"),
    ("POST", PUB + "/" + SEG + "/conversations", "public_create_conversation"),
    ("GET", PUB + "/" + SEG + "/conversations/" + SEG, "public_show_conversation"),
    ("POST", PUB + "/" + SEG + "/conversations/" + SEG + "/toggle_status",
     "public_toggle_status"),
    ("GET", PUB + "/" + SEG + "/conversations/" + SEG + "/messages", "public_list_messages"),
    ("POST", PUB + "/" + SEG + "/conversations/" + SEG + "/messages",
     "public_create_message"),
    ("POST", r"/auth/sign_in", "sign_in"),
    ("GET", r"/api/v1/profile", "show_profile"),
    ("PUT", r"/api/v1/profile", "update_profile"),
    ("PATCH", r"/api/v1/profile", "update_profile"),
    ("POST", r"/api/v1/profile/availability", "set_availability"),
    ("GET", APP, "list_conversations"),
    ("GET", APP + "/meta", "conversations_meta"),
    ("GET", APP + "/" + SEG, "show_conversation"),
    ("GET", APP + "/" + SEG + "/messages", "list_messages"),
    ("POST", APP + "/" + SEG + "/messages", "create_message"),
    ("POST", APP + "/" + SEG + "/toggle_status", "toggle_status"),
    ("POST", APP + "/" + SEG + "/assignments", "assign"),
    ("GET", r"/standin/counts", "standin_counts"),
]
COMPILED = [(m, re.compile(p + r"/?\Z"), h) for m, p, h in ROUTES]


def dispatch(api: Api, req: Request):
    """Find the route and run it under the state lock."""
    for method, pattern, handler in COMPILED:
        match = pattern.match(req.path)
        if match and method == req.method:
            with api.s.lock:
                return getattr(api, handler)(req, *match.groups())
    raise ApiError(404, {"error": "Not Found", "path": req.path})


# --------------------------------------------------------------------------
# HTTP plumbing


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "chatwoot-standin/1"
    wbufsize = -1  # buffer the answer; handle_one_request flushes it in one go
    api: Api  # set on the subclass made by make_server
    verbose = False

    def setup(self):
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def handle_expect_100(self):
        ok = super().handle_expect_100()
        self.wfile.flush()  # the answer buffer would otherwise hold "100 Continue"
        return ok

    def log_message(self, fmt, *args):
        if self.verbose:
            sys.stderr.write("%s - %s\n" % (self.address_string(), fmt % args))

    def do_GET(self):
        self._serve()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_GET

    def _serve(self):
        try:
            req = self._request()
            answer = dispatch(self.api, req)
        except ApiError as err:
            answer = (err.status, err.body)
        except Exception as exc:  # never let one bad request kill the server
            answer = (500, {"error": f"stand-in internal error: {exc!r}"})
        self._reply(*answer)

    def _request(self) -> Request:
        parts = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        return Request(self.command, parts.path, query, self.headers, self._body())

    def _body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self._chunked_body()
        length = self.headers.get("Content-Length", "0").strip() or "0"
        if not length.isdigit() or int(length) > MAX_BODY_BYTES:
            self.close_connection = True
            raise ApiError(400, {"error": "bad or too large Content-Length"})
        return self.rfile.read(int(length))

    def _chunked_body(self) -> bytes:
        data = bytearray()
        while True:
            line = self.rfile.readline(1024).split(b";")[0].strip()
            try:
                size = int(line, 16)
            except ValueError:
                self.close_connection = True
                raise ApiError(400, {"error": "bad chunked body"}) from None
            if size == 0:
                while self.rfile.readline(1024).strip():  # trailers
                    pass
                return bytes(data)
            data += self.rfile.read(size)
            self.rfile.readline(8)
            if len(data) > MAX_BODY_BYTES:
                self.close_connection = True
                raise ApiError(400, {"error": "body too large"})

    def _reply(self, status: int, body: object, headers: dict | None = None):
        payload = json.dumps(body, separators=(",", ":")).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(payload)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(payload)


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 1024


def make_server(args: argparse.Namespace) -> Server:
    api = Api(State(args))
    handler = type("BoundHandler", (Handler,), {"api": api, "verbose": args.verbose})
    return Server(("127.0.0.1", args.port), handler)


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--port", type=int, default=0, help="0 picks a free port")
    p.add_argument("--agents", type=int, default=20, help="seeded agents, ids 1..N")
    p.add_argument("--max-per-agent", type=int, default=3,
                   help="open conversations an agent may hold by auto-assignment (0 = no limit)")
    p.add_argument("--account-id", type=int, default=1)
    p.add_argument("--inbox-identifier", required=True,
                   help="identifier of the one API-channel inbox (public API paths)")
    p.add_argument("--password", default="chatcap-password", help="password of every agent")
    p.add_argument("--teams", type=int, default=1,
                   help="seeded teams; agent k belongs to team ((k-1) %% teams) + 1")
    p.add_argument("--verbose", action="store_true", help="log each request to stderr")
    args = p.parse_args(argv)
    if args.agents < 0 or args.teams < 0 or args.max_per_agent < 0:
        p.error("--agents, --teams and --max-per-agent must be >= 0")
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    server = make_server(args)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    worker = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2},
                              daemon=True)
    worker.start()
    print(f"listening on http://127.0.0.1:{server.server_address[1]}", flush=True)
    while not stop.wait(0.5):
        pass
    server.shutdown()
    server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
