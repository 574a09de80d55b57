"""Find the domain's sources: every active user's My Drive and every shared drive.

`plan` is pure: from what the domain has and what is followed, what to add and what to remove.
Only `user:` and `drive:` sources are discovered, so only they are ever removed by a sync;
other sources (`default`, say) are the operator's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

from pydantic import Field, field_validator

from drive.client import DriveSettings
from drive.directory import DirectorySettings, User
from drive.models import SharedDrive
from drive.source_admin import Origin
from drive.sources import SourceKind, SourceRef
from shared.access import Permission
from shared.settings import names


class DiscoverySettings(DriveSettings, DirectorySettings):
    """What `drive-index sources sync` reads: the scope, and the admin it acts as (GOOGLE_SUBJECT)."""

    # `domain`: every active user's My Drive and every shared drive, found by `sources sync`;
    # `sources`: only the sources added by hand (`drive-index sources add`).
    drive_scope: Literal["domain", "sources"] = Field(default="sources")
    # Sources a deployment names, comma separated (user:<email>, drive:<id>[?as=<email>],
    # folder:<id>[?as=<email>]): added by every sync, and removed once no longer named.
    drive_sources: str = Field(default="")
    # The gateway's public address: each source added gets a push channel to it (none when unset).
    drive_webhook_url: str | None = Field(default=None)
    # Seconds between the fetcher's syncs of the sources (one replica at a time); 0 turns them off.
    sources_sync_seconds: float = Field(default=3600, ge=0)

    @field_validator("drive_sources")
    @classmethod
    def _valid_sources(cls, value: str) -> str:
        for source_id in names(value):
            SourceRef.parse(source_id)  # a malformed id stops the start with what was expected
        return value

    @property
    def configured_sources(self) -> set[str]:
        """The source ids DRIVE_SOURCES names, in their canonical spelling."""
        return {SourceRef.parse(source_id).id for source_id in names(self.drive_sources)}

    @property
    def syncs(self) -> bool:
        """Whether there is anything to sync: the domain, or sources named in the settings."""
        return self.drive_scope == "domain" or bool(self.drive_sources.strip())


class UserDirectory(Protocol):
    async def list_users(self, customer: str = "my_customer", *, active_only: bool = True) -> list[User]: ...


class DriveLister(Protocol):
    async def list_drives(self, *, domain_admin: bool = False, page_size: int = 100) -> list[SharedDrive]: ...

    async def list_drive_members(self, drive_id: str) -> list[Permission]: ...


# Organizers first: they stay members longest.
READER_RANK = {"organizer": 0, "fileOrganizer": 1, "writer": 2, "commenter": 3, "reader": 4}
DISCOVERED = frozenset({SourceKind.USER, SourceKind.DRIVE})


@dataclass(frozen=True)
class Plan:
    """The sources to add (with a backfill), each with its origin, and to remove (with their files)."""

    add: dict[str, Origin]
    remove: list[str]


async def discover(directory: UserDirectory, drive: DriveLister, admin: str | None) -> set[str]:
    """Return the source ids the domain has now: active users and shared drives.

    A drive's feed can only be read by a member: `admin` (GOOGLE_SUBJECT) when it is one, or
    else one of the drive's active user members, named in the id (`drive:<id>?as=<email>`).
    """
    users = await directory.list_users(active_only=True)
    active = {u.email for u in users}
    drives = [d.id for d in await drive.list_drives(domain_admin=True)]
    found = {SourceRef.user(email).id for email in active}
    for drive_id in drives:
        members = await drive.list_drive_members(drive_id)
        found.add(_drive_source(drive_id, _reader(members, admin, active)))
    return found


def _reader(members: list[Permission], admin: str | None, active: set[str]) -> str | None:
    """The member to read a drive as: None for the admin (or when only groups are members)."""
    emails = sorted(
        (READER_RANK.get(m.role, len(READER_RANK)), m.email_address.lower())
        for m in members
        if m.type == "user" and m.email_address and not m.deleted
    )
    if admin is None or any(email == admin.lower() for _, email in emails):
        return None
    return next((email for _, email in emails if email in active), None)


def _drive_source(drive_id: str, member: str | None) -> str:
    return SourceRef.drive(drive_id).id + (f"?as={member}" if member else "")


def plan(followed: dict[str, Origin], *, discovered: set[str] | None, configured: set[str]) -> Plan:
    """Compare what is followed with what the domain has (None: not read) and DRIVE_SOURCES names.

    Added: what either wants and nobody follows. Removed: the `user:` and `drive:` sources a domain
    that was read no longer has, and the sources DRIVE_SOURCES added and names no more; unless the
    other still wants them. Sources added by hand are the operator's, unless the domain lost them.
    """
    wanted = {_same(s): s for s in configured} | {_same(s): s for s in discovered or ()}
    followed_as = {_same(source_id): source_id for source_id in followed}
    add = {
        source_id: Origin.SETTING if source_id in configured else Origin.DISCOVERED
        for same, source_id in sorted(wanted.items())
        if same not in followed_as
    }
    named = {_same(s) for s in configured}
    domain = None if discovered is None else {_same(s) for s in discovered}
    remove = sorted(
        source_id
        for same, source_id in followed_as.items()
        if same not in wanted
        and (
            (domain is not None and same not in domain and SourceRef.parse(source_id).kind in DISCOVERED)
            or (followed[source_id] == Origin.SETTING and same not in named)
        )
    )
    return Plan(add=dict(sorted(add.items())), remove=remove)


def _same(source_id: str) -> str:
    """The id a discovered source has: a drive followed through a named member is that drive."""
    ref = SourceRef.parse(source_id)
    return SourceRef.drive(ref.drive_id).id if ref.drive_id else ref.id
