"""Google Groups membership, copied from the Directory API into `group_members`.

Only direct edges are stored; search expands nested groups when it resolves a caller. The copy
is replaced whole, in one transaction, so search never sees half a sync, and a listing that
fails part-way changes nothing.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import asyncpg
import structlog

log = structlog.get_logger(__name__)

# Directory member types that can hold a Drive grant through a group; CUSTOMER ("everyone in the
# organisation") is left out: the domain grant already says that, more precisely.
MEMBER_TYPES = frozenset({"USER", "GROUP"})


class DirectoryGroup(Protocol):
    @property
    def email(self) -> str: ...


class DirectoryMember(Protocol):
    @property
    def email(self) -> str | None: ...
    @property
    def type(self) -> str: ...
    @property
    def status(self) -> str | None: ...


class Directory(Protocol):
    """The Directory API calls the sync makes (drive.directory.DirectoryClient implements them)."""

    async def list_groups(self) -> Sequence[DirectoryGroup]: ...

    async def list_members(self, group_key: str) -> Sequence[DirectoryMember]: ...


@dataclass(frozen=True)
class GroupsSynced:
    groups: int
    edges: int
    seconds: float


async def read_edges(directory: Directory) -> list[tuple[str, str, str]]:
    """Every (group, member, member type) edge of the directory, e-mails lower-cased."""
    edges: set[tuple[str, str, str]] = set()
    for group in await directory.list_groups():
        for member in await directory.list_members(group.email):
            if member.type in MEMBER_TYPES and member.email and member.status != "SUSPENDED":
                edges.add((group.email.lower(), member.email.lower(), member.type))
    return sorted(edges)


async def sync_groups(directory: Directory, pool: asyncpg.Pool) -> GroupsSynced:
    """Replace `group_members` with the directory's current memberships."""
    started = time.perf_counter()
    edges = await read_edges(directory)
    async with pool.acquire() as connection, connection.transaction():
        await connection.execute("DELETE FROM group_members")
        if edges:
            await connection.copy_records_to_table(
                "group_members", records=edges, columns=["group_email", "member_email", "member_type"]
            )
    synced = GroupsSynced(
        groups=len({group for group, _, _ in edges}),
        edges=len(edges),
        seconds=round(time.perf_counter() - started, 3),
    )
    log.info("groups.synced", groups=synced.groups, edges=synced.edges, seconds=synced.seconds)
    return synced
