"""Find the domain's sources: every active user's My Drive and every shared drive.

`plan` is pure: from what the domain has and what is followed, what to add and what to remove.
Only `user:` and `drive:` sources are discovered, so only they are ever removed by a sync;
other sources (`default`, say) are the operator's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, Protocol

from pydantic import Field

from shared.access import Permission
from shared.directory import DirectorySettings, User
from shared.drive import DriveSettings
from shared.sources import SourceKind, SourceRef


class DiscoverySettings(DriveSettings, DirectorySettings):
    """What `drive-index sources sync` reads: the scope, and the admin it acts as (GOOGLE_SUBJECT)."""

    # `domain`: every active user's My Drive and every shared drive, found by `sources sync`;
    # `sources`: only the sources added by hand (`drive-index sources add`).
    drive_scope: Literal["domain", "sources"] = Field(default="sources")


class UserDirectory(Protocol):
    async def list_users(self, customer: str = "my_customer", *, active_only: bool = True) -> list[User]: ...


class DriveLister(Protocol):
    async def list_drives(
        self, *, domain_admin: bool = False, page_size: int = 100
    ) -> list[dict[str, Any]]: ...

    async def list_drive_members(self, drive_id: str) -> list[Permission]: ...


# Organizers first: they stay members longest.
READER_RANK = {"organizer": 0, "fileOrganizer": 1, "writer": 2, "commenter": 3, "reader": 4}
DISCOVERED = frozenset({SourceKind.USER, SourceKind.DRIVE})


@dataclass(frozen=True)
class Plan:
    """The sources to add (with a backfill) and to remove (with their files)."""

    add: list[str]
    remove: list[str]


async def discover(directory: UserDirectory, drive: DriveLister, admin: str | None) -> set[str]:
    """Return the source ids the domain has now: active users and shared drives.

    A drive's feed can only be read by a member: `admin` (GOOGLE_SUBJECT) when it is one, or
    else one of the drive's active user members, named in the id (`drive:<id>?as=<email>`).
    """
    users = await directory.list_users(active_only=True)
    active = {u.email for u in users}
    drives = [d["id"] for d in await drive.list_drives(domain_admin=True)]
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


def plan(wanted: set[str], followed: set[str]) -> Plan:
    """Add what the domain has and nobody follows; remove discovered kinds the domain no longer has."""
    followed_as = {_same(source_id): source_id for source_id in followed}
    wanted_as = {_same(source_id) for source_id in wanted}
    add = sorted(source_id for source_id in wanted if _same(source_id) not in followed_as)
    remove = sorted(
        source_id
        for same, source_id in followed_as.items()
        if same not in wanted_as and SourceRef.parse(source_id).kind in DISCOVERED
    )
    return Plan(add=add, remove=remove)


def _same(source_id: str) -> str:
    """The id a discovered source has: a drive followed through a named member is that drive."""
    ref = SourceRef.parse(source_id)
    return SourceRef.drive(ref.drive_id).id if ref.drive_id else ref.id
