"""The emulator's state: files, shared drives, users, groups, the change log and the push channels."""

from __future__ import annotations

import bisect
import hashlib
import itertools
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from shared import mime

DEFAULT_OWNER = {"type": "user", "role": "owner", "emailAddress": "owner@example.com"}
DRIVE_ROLES = frozenset({"organizer", "fileOrganizer", "writer", "commenter", "reader"})
PERMISSION_TYPES = frozenset({"user", "group", "domain", "anyone"})
MEMBER_TYPES = frozenset({"USER", "GROUP", "CUSTOMER"})
# Drive leaves modifiedTime alone when only the sharing of a file changes.
SHARING_FIELDS = frozenset({"permissions"})

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
        return mime.is_google_native(self.mime_type)


@dataclass
class SharedDrive:
    """A shared drive: its members (permission dicts) grant access to every file in it."""

    id: str
    name: str
    members: list[dict[str, Any]] = field(default_factory=list)
    created_time: datetime = field(default_factory=now)


@dataclass
class Group:
    """A Google Group of the Directory: members are {email, type (USER|GROUP|CUSTOMER), ...}."""

    email: str
    name: str
    id: str = field(default_factory=lambda: "0" + secrets.token_hex(7))
    members: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class User:
    """A user of the emulated Workspace domain, as the Directory lists them."""

    email: str
    name: str
    suspended: bool = False
    archived: bool = False
    admin: bool = False
    id: str = field(default_factory=lambda: str(secrets.randbelow(10**21)).zfill(21))


@dataclass(frozen=True)
class Change:
    """One entry of the change log, of a file or (with `drive_id` and no file) a shared drive.

    Ids double as page tokens. A file's change carries the drive the file is in, so feeds of one
    shared drive can pick it out even after the file is gone.
    """

    id: int
    file_id: str | None
    removed: bool
    time: datetime
    drive_id: str | None = None

    @property
    def key(self) -> str:
        """What changed: a file or a drive; the log keeps only the latest change of each."""
        return f"file:{self.file_id}" if self.file_id is not None else f"drive:{self.drive_id}"


@dataclass
class Channel:
    """A push channel opened by changes.watch."""

    id: str
    resource_id: str
    resource_uri: str
    address: str
    token: str | None
    expiration_ms: int
    subject: str | None = None  # whose feed it watches; None: the all-seeing caller's
    drive_id: str | None = None  # the one shared drive it watches, if any
    all_drives: bool = True  # whether the feed includes shared-drive items
    message_number: int = 0
    delivered: int = 0
    failed: int = 0

    def expired(self) -> bool:
        return self.expiration_ms <= int(now().timestamp() * 1000)

    def next_message_number(self) -> int:
        self.message_number += 1
        return self.message_number


Listener = Callable[[Change, str], None]


def latest(changes: Iterable[Change]) -> list[Change]:
    """The latest change of each file or drive, oldest first, like Drive's changes.list."""
    found: dict[str, Change] = {}
    for change in changes:
        found.pop(change.key, None)  # keep only the newest entry, in its own position
        found[change.key] = change
    return list(found.values())


def since(changes: list[Change], token: int) -> list[Change]:
    """The entries of a log (ordered by id) from `token` on, latest of each only."""
    return latest(changes[bisect.bisect_left(changes, token, key=lambda c: c.id) :])


class Store:
    """Files, drives, users, groups, the change log and the channels to notify; owned by one loop."""

    def __init__(self) -> None:
        self.files: dict[str, DriveFile] = {}
        self.drives: dict[str, SharedDrive] = {}
        self.users: dict[str, User] = {}  # by lower-cased e-mail
        self.groups: dict[str, Group] = {}  # by lower-cased e-mail
        self.changes: list[Change] = []
        self.channels: dict[str, Channel] = {}
        self.last_change_id = 0
        self._change_ids = itertools.count(1)
        self._listeners: list[Listener] = []

    def on_change(self, listener: Listener) -> None:
        """Call `listener(change, what_changed)` after every change (the feeds subscribe here)."""
        self._listeners.append(listener)

    def next_change_id(self) -> int:
        """Take the next change id; per-user feeds take some for entries of their own."""
        self.last_change_id = next(self._change_ids)
        return self.last_change_id

    def start_page_token(self) -> str:
        return str(self.last_change_id + 1)

    def add(self, file: DriveFile) -> DriveFile:
        """Create a file and record the change."""
        if file.id in self.files:
            raise ValueError(f"file {file.id} exists")
        self.files[file.id] = file
        self._record(file.id, removed=False, what="content", drive_id=file.drive_id)
        return file

    def update(self, file_id: str, what: str, **values: Any) -> DriveFile:
        """Change a file's fields, bump its version (and modifiedTime unless only sharing changed)."""
        file = self.files[file_id]
        for name, value in values.items():
            if not hasattr(file, name):
                raise ValueError(f"unknown field {name}")
            setattr(file, name, value)
        file.version += 1
        if set(values) != SHARING_FIELDS:
            file.modified_time = now()
        self._record(file_id, removed=False, what=what, drive_id=file.drive_id)
        return file

    def add_drive(self, drive: SharedDrive) -> SharedDrive:
        """Create a shared drive and record a drive change."""
        if drive.id in self.drives:
            raise ValueError(f"drive {drive.id} exists")
        self.drives[drive.id] = drive
        self._record(None, removed=False, what="properties", drive_id=drive.id)
        return drive

    def update_drive(self, drive_id: str, what: str, **values: Any) -> SharedDrive:
        """Change a drive's name or members; a changes reader sees one drive change, not one per file."""
        drive = self.drives[drive_id]
        for name, value in values.items():
            if name not in ("name", "members"):
                raise ValueError(f"cannot change a drive's {name}")
            setattr(drive, name, value)
        self._record(None, removed=False, what=what, drive_id=drive_id)
        return drive

    def delete(self, file_id: str) -> None:
        """Delete a file for good; changes.list then reports it removed."""
        file = self.files.pop(file_id)
        self._record(file_id, removed=True, what="content", drive_id=file.drive_id)

    def changes_since(self, token: int) -> list[Change]:
        """The latest change of each file changed at or after `token`, oldest first, like Drive."""
        return since(self.changes, token)

    def _record(self, file_id: str | None, *, removed: bool, what: str, drive_id: str | None = None) -> None:
        change = Change(self.next_change_id(), file_id, removed, now(), drive_id)
        self.changes.append(change)
        for listener in self._listeners:
            listener(change, what)


def checked_permissions(
    value: Any, types: frozenset[str] = PERMISSION_TYPES, roles: frozenset[str] | None = None
) -> list[dict[str, Any]]:
    """Check grants given to the control API; raise ValueError naming what is wrong."""
    if not isinstance(value, list) or not all(isinstance(p, dict) for p in value):
        raise ValueError("permissions must be a list of objects")
    for p in value:
        if p.get("type") not in types:
            raise ValueError(f"permission type must be one of {sorted(types)}: {p}")
        if not isinstance(p.get("role"), str) or (roles is not None and p["role"] not in roles):
            raise ValueError(f"permission role must be one of {sorted(roles or ['a string'])}: {p}")
        needed = {"user": "emailAddress", "group": "emailAddress", "domain": "domain"}.get(p["type"])
        if needed and not isinstance(p.get(needed), str):
            raise ValueError(f"a {p['type']} permission needs {needed}: {p}")
        if not all(isinstance(p.get(flag, False), bool) for flag in ("allowFileDiscovery", "deleted")):
            raise ValueError(f"allowFileDiscovery and deleted must be booleans: {p}")
    return [dict(p) for p in value]


def checked_members(value: Any) -> list[dict[str, Any]]:
    """Check Directory group members ({email, type, role?, status?}) given to the control API."""
    if not isinstance(value, list) or not all(isinstance(m, dict) for m in value):
        raise ValueError("members must be a list of objects")
    for m in value:
        if m.get("type") not in MEMBER_TYPES:
            raise ValueError(f"member type must be one of {sorted(MEMBER_TYPES)}: {m}")
        if m["type"] != "CUSTOMER" and not isinstance(m.get("email"), str):
            raise ValueError(f"a {m['type']} member needs an email: {m}")
    return [dict(m) for m in value]


def md5_hex(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()
