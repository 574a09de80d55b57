"""Google's push-notification headers, read and checked.

See https://developers.google.com/drive/api/guides/push: the body is empty and everything the
gateway needs travels in `X-Goog-*` headers.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

PROTOCOL = "https://developers.google.com/drive/api/guides/push"
# `sync` opens every channel; changes.watch then sends `change`, files.watch the others.
RESOURCE_STATES = frozenset({"sync", "change", "add", "update", "remove", "trash", "untrash"})
# Stored as bigint: at most 18 digits keeps it in range.
_MESSAGE_NUMBER = re.compile(r"[0-9]{1,18}")
# Header values end up in logs: keep them short.
_MAX_LOGGED = 200


class MalformedError(ValueError):
    """The headers do not follow Google's push-notification protocol."""


@dataclass(frozen=True)
class Notification:
    """One push notification from Drive."""

    channel_id: str
    token: str | None
    message_number: int
    resource_state: str
    resource_id: str | None
    resource_uri: str | None
    changed: tuple[str, ...]
    expiration: str | None


def parse(headers: Mapping[str, str]) -> Notification:
    """Read a notification from its headers, or say which header is missing or malformed."""
    channel_id = _required(headers, "X-Goog-Channel-ID")
    number = _required(headers, "X-Goog-Message-Number")
    if not _MESSAGE_NUMBER.fullmatch(number):
        raise MalformedError(f"X-Goog-Message-Number must be a positive integer, got {number[:40]!r}")
    state = _required(headers, "X-Goog-Resource-State")
    if state not in RESOURCE_STATES:
        expected = ", ".join(sorted(RESOURCE_STATES))
        raise MalformedError(f"X-Goog-Resource-State must be one of {expected}, got {state[:40]!r}")
    changed = headers.get("X-Goog-Changed", "")
    return Notification(
        channel_id=channel_id,
        token=headers.get("X-Goog-Channel-Token"),
        message_number=int(number),
        resource_state=state,
        resource_id=headers.get("X-Goog-Resource-ID"),
        resource_uri=headers.get("X-Goog-Resource-URI"),
        changed=tuple(part.strip() for part in changed.split(",") if part.strip()),
        expiration=headers.get("X-Goog-Channel-Expiration"),
    )


def log_context(headers: Mapping[str, str]) -> dict[str, str | None]:
    """Name the notification in every log line, even when its headers turn out malformed."""
    channel_id = headers.get("X-Goog-Channel-ID")
    number = headers.get("X-Goog-Message-Number")
    request_id = headers.get("X-Request-Id") or (f"{channel_id}:{number}" if channel_id and number else None)
    values = {
        "request_id": request_id,
        "channel_id": channel_id,
        "message_number": number,
        "resource_state": headers.get("X-Goog-Resource-State"),
    }
    return {key: value[:_MAX_LOGGED] if value else value for key, value in values.items()}


def _required(headers: Mapping[str, str], name: str) -> str:
    value = headers.get(name, "").strip()
    if not value:
        raise MalformedError(f"header {name} is missing; Drive push notifications always send it")
    return value
