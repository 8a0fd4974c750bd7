"""Chatwoot stand-in: constants, errors and request parsing shared by every part."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timezone


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
