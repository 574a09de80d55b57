"""The emulator's state: files, the change log and the push channels watching it."""

from __future__ import annotations

import hashlib
import itertools
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

FOLDER = "application/vnd.google-apps.folder"
SHORTCUT = "application/vnd.google-apps.shortcut"
DOCUMENT = "application/vnd.google-apps.document"
SPREADSHEET = "application/vnd.google-apps.spreadsheet"
PRESENTATION = "application/vnd.google-apps.presentation"
GOOGLE_PREFIX = "application/vnd.google-apps."
DEFAULT_OWNER = {"type": "user", "role": "owner", "emailAddress": "owner@example.com"}

# Docs hold Markdown source (str), Sheets tab name -> rows, Slides one text per slide, others bytes.
Content = bytes | str | dict[str, list[list[Any]]] | list[str] | None


def now() -> datetime:
    return datetime.now(UTC)


def rfc3339(moment: datetime) -> str:
    """Format a time the way Drive does: milliseconds and a Z."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def new_id() -> str:
    """Make an opaque id shaped like Drive's (33 URL-safe characters)."""
    return "1" + secrets.token_urlsafe(24)[:32]


@dataclass
class DriveFile:
    """One file as the emulator keeps it."""

    id: str
    name: str
    mime_type: str
    parents: list[str] = field(default_factory=list)
    content: Content = None
    version: int = 1
    created_time: datetime = field(default_factory=now)
    modified_time: datetime = field(default_factory=now)
    trashed: bool = False
    drive_id: str | None = None
    permissions: list[dict[str, Any]] = field(default_factory=lambda: [dict(DEFAULT_OWNER)])
    target_id: str | None = None  # shortcuts only

    @property
    def is_google_native(self) -> bool:
        return self.mime_type.startswith(GOOGLE_PREFIX)


@dataclass(frozen=True)
class Change:
    """One entry of the change log; ids double as page tokens."""

    id: int
    file_id: str
    removed: bool
    time: datetime


@dataclass
class Channel:
    """A push channel opened by changes.watch."""

    id: str
    resource_id: str
    resource_uri: str
    address: str
    token: str | None
    expiration_ms: int
    message_number: int = 0
    delivered: int = 0
    failed: int = 0

    def expired(self) -> bool:
        return self.expiration_ms <= int(now().timestamp() * 1000)

    def next_message_number(self) -> int:
        self.message_number += 1
        return self.message_number


Listener = Callable[[str], None]


class Store:
    """Files, their change log and the channels to notify; single-threaded, owned by one loop."""

    def __init__(self) -> None:
        self.files: dict[str, DriveFile] = {}
        self.changes: list[Change] = []
        self.channels: dict[str, Channel] = {}
        self._change_ids = itertools.count(1)
        self._listeners: list[Listener] = []

    def on_change(self, listener: Listener) -> None:
        """Call `listener(what_changed)` after every change (the notifier subscribes here)."""
        self._listeners.append(listener)

    def start_page_token(self) -> str:
        return str(self.changes[-1].id + 1 if self.changes else 1)

    def add(self, file: DriveFile) -> DriveFile:
        """Create a file and record the change."""
        if file.id in self.files:
            raise ValueError(f"file {file.id} exists")
        self.files[file.id] = file
        self._record(file.id, removed=False, what="content")
        return file

    def update(self, file_id: str, what: str, **values: Any) -> DriveFile:
        """Change a file's fields, bump its version and record the change."""
        file = self.files[file_id]
        for name, value in values.items():
            if not hasattr(file, name):
                raise ValueError(f"unknown field {name}")
            setattr(file, name, value)
        file.version += 1
        file.modified_time = now()
        self._record(file_id, removed=False, what=what)
        return file

    def delete(self, file_id: str) -> None:
        """Delete a file for good; changes.list then reports it removed."""
        del self.files[file_id]
        self._record(file_id, removed=True, what="content")

    def changes_since(self, token: int) -> list[Change]:
        """The latest change of each file changed at or after `token`, oldest first, like Drive."""
        latest: dict[str, Change] = {}
        for change in self.changes[max(token - 1, 0) :]:
            latest.pop(change.file_id, None)  # keep only the newest entry, in its own position
            latest[change.file_id] = change
        return list(latest.values())

    def _record(self, file_id: str, *, removed: bool, what: str) -> None:
        self.changes.append(Change(next(self._change_ids), file_id, removed, now()))
        for listener in self._listeners:
            listener(what)


def md5_hex(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()
