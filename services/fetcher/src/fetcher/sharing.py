"""Who may find a file: read its permissions from Drive and store them as principals.

Readers are stored before the file's doc.fetched is published, so search never holds a file
whose readers are unknown, and a change of sharing applies without waiting for the embedder.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import structlog

from drive.client import DriveError
from drive.models import DriveFile
from fetcher.ports import Drive, Store
from shared import access
from shared.access import Permission

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Access:
    """A file's readers, or why it has none although Drive may share it."""

    readers: list[str]
    reason: str | None = None


async def read_access(file_id: str, drive: Drive, sent: Sequence[Permission] | None = None) -> Access:
    """Read who may find a file: from the permissions Drive `sent` with it, else from permissions.list.

    Drive leaves `permissions` out for shared-drive files and for callers who may not see the
    sharing (None, unlike an empty list). A file whose permissions cannot be read stays indexed
    but visible to nobody.
    """
    permissions = sent
    if permissions is None:
        try:
            permissions = await drive.list_permissions(file_id)
        except DriveError as exc:
            if exc.retriable:
                raise
            log.warning("permissions.unreadable", file_id=file_id, error=str(exc))
            return Access([], reason=f"permissions unreadable: {exc}")
    return Access(access.readers(permissions))


async def store_access(file: DriveFile, drive: Drive, store: Store) -> Access:
    """Read and store who may find `file` at its version."""
    found = await read_access(file.id, drive, file.permissions)
    await store.save_access(file.id, file.version, found.readers, found.reason)
    return found


async def refresh_drive(drive_id: str, drive: Drive, store: Store) -> int:
    """Re-read the readers of every indexed file of a shared drive whose members changed."""
    files = await store.drive_access_versions(drive_id)
    for file_id, version in files.items():
        found = await read_access(file_id, drive)
        await store.save_access(file_id, version, found.readers, found.reason)
    log.info("drive.access_refreshed", drive_id=drive_id, files=len(files))
    return len(files)
