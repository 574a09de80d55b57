"""Turn one Drive file into a doc.fetched event: download or export, extract, claim-check."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import structlog

from drive.client import DriveError, DriveExportTooLarge, DriveFileTooLarge, DriveNotFound
from drive.models import DriveFile
from fetcher import extract
from fetcher.errors import UnparsableFile
from fetcher.extract import Extracted
from fetcher.ports import Drive, Indexed, Store
from fetcher.sandbox import Extractor, in_process
from shared import mime
from shared.events import DocFetched, FetchAction, FileMetadata

# What each Google-native type is exported as. Sheets go as XLSX: a CSV export has the first tab only.
EXPORT_AS = {
    mime.DOCUMENT: mime.MARKDOWN,
    mime.SPREADSHEET: mime.XLSX,
    mime.PRESENTATION: mime.PLAIN_TEXT,
}
MIB = 1024 * 1024
# A removed file has no version any more, and a newer one of it may still be on its way to the
# index; the largest bigint supersedes every version, so the removal cannot lose to a stale upsert.
REMOVED = 2**63 - 1
EXPORT_TOO_LARGE = "too large: exceeds Drive's 10 MB export limit"


@dataclass(frozen=True)
class Limits:
    """How large a file may be to download, and a text to travel inside the event; who parses."""

    max_file_bytes: int = 10 * MIB
    inline_text_limit: int = 256 * 1024
    # The service passes its Sandbox's `extract` (fetcher.app); parsing in-process is for tests.
    extractor: Extractor = in_process


@dataclass(frozen=True)
class Fetched:
    """The event to publish for a file, and how many bytes Drive sent for it."""

    event: DocFetched
    size: int = 0
    # Metadata only: another source fetches this version (FileFetcher.seen).
    seen_only: bool = False


def metadata_of(file: DriveFile) -> FileMetadata:
    """Map a Drive file onto the event's metadata."""
    return FileMetadata(
        name=file.name,
        mime_type=file.mime_type,
        web_view_link=file.web_view_link,
        parents=list(file.parents),
        modified_time=file.modified_time,
        drive_id=file.drive_id,
        size=file.size,
    )


def removal(source_id: str, file_id: str) -> DocFetched:
    """Make the event that removes a file Drive no longer shows us from the index."""
    return DocFetched(
        source_id=source_id, file_id=file_id, action=FetchAction.DELETE, version=REMOVED, fetched_at=_now()
    )


def _content_unchanged(file: DriveFile, indexed: Indexed | None) -> bool:
    """Tell whether the index holds this file's content as of its current modified time.

    Drive moves modifiedTime on every edit of content or name, but not when sharing changes,
    so a new version at the same modified time is a change of permissions (or of labels, stars).
    """
    if indexed is None or not indexed.has_content or indexed.modified_time is None:
        return False
    return file.modified_time == indexed.modified_time


def _now() -> datetime:
    return datetime.now(UTC)


def _human_size(size: int) -> str:
    for unit, scale in (("MB", MIB), ("KB", 1024)):
        if size >= scale:
            return f"{size / scale:.1f}".removesuffix(".0") + f" {unit}"
    return f"{size} bytes"


class FileFetcher:
    """Fetch the current content of a source's files and describe each as one event."""

    def __init__(self, source_id: str, drive: Drive, store: Store, limits: Limits) -> None:
        self._source_id = source_id
        self._drive = drive
        self._store = store
        self._limits = limits

    async def fetch(self, file: DriveFile, indexed: Indexed | None = None) -> Fetched:
        """Describe `file` at its current version; Drive's retriable errors propagate.

        `indexed` is what the index holds of the file: when its content is stored at the file's
        modified time, only metadata (sharing, say) changed, and nothing is downloaded.
        """
        if file.trashed:
            return Fetched(self._event(file, FetchAction.DELETE))
        # Folders are kept as documents without text, so folder filters can walk up.
        if file.mime_type == mime.FOLDER or _content_unchanged(file, indexed):
            return Fetched(self._event(file, FetchAction.METADATA))
        reason = self._skip_reason(file)
        if reason:
            return Fetched(self._event(file, FetchAction.SKIPPED, reason=reason))
        try:
            data, extracted = await self._text(file)
        except UnparsableFile as exc:
            return Fetched(self._event(file, FetchAction.SKIPPED, reason=exc.reason))
        except (DriveNotFound, DriveExportTooLarge) as exc:
            return Fetched(self._refused(file, exc))
        return Fetched(await self._upsert(file, extracted.text, extracted.note), size=len(data))

    def seen(self, file: DriveFile) -> Fetched:
        """Describe a file another source fetches at this version: metadata only, nothing downloaded.

        The index then remembers that this source shows the file too.
        """
        return Fetched(self._event(file, FetchAction.METADATA), seen_only=True)

    def _skip_reason(self, file: DriveFile) -> str | None:
        mime_type = file.mime_type
        if mime_type in EXPORT_AS:
            return None  # Drive reports no size for native files; its export limit speaks instead
        if mime.is_google_native(mime_type) or not extract.supports(mime_type):
            return f"unsupported type {mime_type}"
        size = file.size or 0
        if size > self._limits.max_file_bytes:
            limit = _human_size(self._limits.max_file_bytes)
            return f"too large: {_human_size(size)} exceeds the {limit} limit"
        return None

    async def _text(self, file: DriveFile) -> tuple[bytes, Extracted]:
        export_as = EXPORT_AS.get(file.mime_type)
        limit = self._limits.max_file_bytes
        try:
            if export_as:  # Drive caps exports at 10 MB itself
                data = await self._drive.export(file.id, export_as)
            else:  # capped as it streams in: the size in the metadata may be wrong
                data = await self._drive.download(file.id, max_bytes=limit)
        except DriveFileTooLarge as exc:
            size = f"{_human_size(exc.size)} exceeds" if exc.size else "the download exceeds"
            raise UnparsableFile(f"too large: {size} the {_human_size(limit)} limit") from exc
        # Parsing runs in a worker process under memory, CPU and time limits (fetcher.sandbox), so
        # a parser bomb costs this file a recorded failure, and the event loop stays free meanwhile.
        with structlog.contextvars.bound_contextvars(file_id=file.id):
            extracted = await self._limits.extractor(export_as or file.mime_type, data)
        return data, extracted

    def _refused(self, file: DriveFile, error: DriveError) -> DocFetched:
        """Describe a file Drive will not hand over for good; other refusals are the caller's to record."""
        if isinstance(error, DriveNotFound):  # deleted, or access lost, since the change was listed
            return self._event(file, FetchAction.DELETE)
        return self._event(file, FetchAction.SKIPPED, reason=EXPORT_TOO_LARGE)

    async def _upsert(self, file: DriveFile, text: str, note: str | None) -> DocFetched:
        """Describe new text; `note` (a truncation, say) travels as the reason and is kept on the document."""
        encoded = text.encode()
        content_hash = hashlib.sha256(encoded).hexdigest()
        if len(encoded) <= self._limits.inline_text_limit:
            return self._event(file, FetchAction.UPSERT, text=text, content_hash=content_hash, reason=note)
        await self._store.save_text(content_hash, text)
        return self._event(
            file, FetchAction.UPSERT, text_ref=content_hash, content_hash=content_hash, reason=note
        )

    def _event(self, file: DriveFile, action: FetchAction, **fields: Any) -> DocFetched:
        return DocFetched(
            source_id=self._source_id,
            file_id=file.id,
            action=action,
            version=file.version,
            metadata=metadata_of(file),
            fetched_at=_now(),
            **fields,
        )
