"""Chatwoot stand-in: the JSON views (shapes from Chatwoot's jbuilder views; see README.md)."""

from __future__ import annotations


from common import CHANNEL_TYPE, iso
from model import Agent, Contact, Conversation, Message, State, Team


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
