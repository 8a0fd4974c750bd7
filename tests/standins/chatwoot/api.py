"""Chatwoot stand-in: the endpoints and their routes."""

from __future__ import annotations

import re
import secrets
import time

from common import AVAILABILITIES, ApiError, CONVERSATIONS_PER_PAGE, MESSAGES_PER_PAGE, MESSAGE_TYPES, Request, attributes, content_of, not_found, optional_id, parse_id, unprocessable
from model import Agent, Conversation, Message, State
from views import Views


# --------------------------------------------------------------------------
# Paging


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
