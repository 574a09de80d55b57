"""What the fetcher needs from Drive, its database and Kafka; the wiring picks the adapters."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from drive.models import ChangesPage, DriveFile, FilesPage
from fetcher.failures import Failure, Retry
from shared.access import Permission


@dataclass(frozen=True)
class Indexed:
    """What the index holds of a file: its version, and the modified time of its stored content."""

    version: int
    modified_time: datetime | None = None
    # The file's content was read (chunks or a skip reason are stored), not only its metadata.
    has_content: bool = False
    # The sources the index remembers as showing the file.
    shown_by: frozenset[str] = frozenset()


class Drive(Protocol):
    """The Drive v3 calls the fetcher makes (drive.client.DriveClient implements them)."""

    async def get_start_page_token(self) -> str: ...

    async def list_changes(self, page_token: str, page_size: int = 100) -> ChangesPage: ...

    async def list_files(self, page_token: str | None = None, page_size: int = 100) -> FilesPage: ...

    async def get_file(self, file_id: str) -> DriveFile: ...

    async def list_permissions(self, file_id: str) -> list[Permission]: ...

    async def download(self, file_id: str, max_bytes: int | None = None) -> bytes: ...

    async def export(self, file_id: str, mime_type: str) -> bytes: ...


class Drives(Protocol):
    """The Drive client that reads each source (drive.clients.DriveClients implements it)."""

    def for_source(self, source_id: str) -> Drive:
        """Return the client acting as the source's identity, scoped to its shared drive if any."""
        ...


@dataclass(frozen=True)
class SameDrive:
    """Read every source through one Drive client: a test's fake, or a single-identity deployment."""

    drive: Drive

    def for_source(self, source_id: str) -> Drive:  # every source shares the client
        return self.drive


class Store(Protocol):
    """The fetcher's reads of the index and its writes of change cursors and claim-checked texts."""

    async def ensure_source(self, source_id: str) -> None:
        """Create the source's row unless it exists."""
        ...

    async def is_removed(self, source_id: str) -> bool:
        """Tell whether the source was removed: its notifications and polls are then ignored."""
        ...

    async def record_source_error(self, source_id: str, error: str | None) -> None:
        """Record why the source could not be read as its identity, or clear it (None)."""
        ...

    async def page_token(self, source_id: str) -> str | None:
        """Return the stored changes.list cursor, or None if there is none yet."""
        ...

    async def save_page_token(self, source_id: str, token: str) -> None:
        """Store the cursor to read changes from next time."""
        ...

    async def indexed(self, file_ids: list[str]) -> dict[str, Indexed]:
        """Return what the index holds of each of these files that it knows."""
        ...

    async def claim(self, file_id: str, version: int, source_id: str) -> bool:
        """Claim fetching this version of the file; False when another source claimed it (or newer)."""
        ...

    async def save_access(self, file_id: str, version: int, readers: list[str], reason: str | None) -> None:
        """Store who may find the file as of `version`, unless a newer version's readers are stored."""
        ...

    async def drive_access_versions(self, drive_id: str) -> dict[str, int]:
        """Return the readers' version of every indexed file of a shared drive."""
        ...

    async def record_failure(
        self, file_id: str, source_id: str, version: int, failure: Failure, retry: Retry
    ) -> int:
        """Record that reading this version of the file failed; return the attempts so far."""
        ...

    async def clear_failure(self, file_id: str, version: int) -> None:
        """Forget the file's failures at this version or older: it was read."""
        ...

    async def due_failures(self, limit: int, lease_seconds: float) -> list[tuple[str, str]]:
        """Claim up to `limit` transient failures due for another try: (file id, source id) pairs.

        A claimed failure is not due again for `lease_seconds`, so replicas do not share one.
        """
        ...

    async def indexed_files(self, source_id: str) -> set[str]:
        """Return the ids of the source's files that are in the index and not trashed."""
        ...

    async def indexed_below(self, folder_id: str, source_id: str) -> list[str]:
        """Return the indexed files the source shows anywhere below the folder."""
        ...

    async def save_text(self, content_hash: str, text: str) -> None:
        """Store a text too large for a Kafka message under its content hash."""
        ...
