"""Bring a source's changed files into the index: skip known versions, store readers, fetch, publish."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Coroutine, Iterable, Sequence
from typing import Any

import structlog
from prometheus_client import Histogram

from drive.client import DriveError, DriveNotFound
from drive.models import Change, DriveFile
from drive.source_sync import queue_backfill
from fetcher.ancestry import FolderTree
from fetcher.failures import FETCH_FAILURES, Failure, Retry, is_files_own
from fetcher.files import REMOVED, Fetched, FileFetcher, Limits, removal
from fetcher.ports import Drive, Indexed, Store
from fetcher.scope import Scope
from fetcher.sharing import refresh_drive, store_access
from shared.kafka import EventPublisher
from shared.mime import FOLDER, SHORTCUT

log = structlog.get_logger(__name__)

INGESTION_SECONDS = Histogram(
    "drive_index_ingestion_seconds",
    "Time from fetching a Drive file to publishing its text, by outcome",
    ["outcome"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120),
)


class SourceSync:
    """Fetch and publish one source's files, at most `max_concurrency` at a time."""

    def __init__(
        self,
        source_id: str,
        *,
        drive: Drive,
        store: Store,
        publisher: EventPublisher,
        limits: Limits,
        max_concurrency: int,
        retry: Retry | None = None,
        scope: Scope | None = None,
        folders: FolderTree | None = None,
    ) -> None:
        self._source_id = source_id
        self._scope = (scope or Scope()).for_source(source_id)
        self._ancestry = (folders or FolderTree()).ancestry(drive)
        self._drive = drive
        self._store = store
        self._publisher = publisher
        self._fetcher = FileFetcher(source_id, drive, store, limits)
        self._slots = asyncio.Semaphore(max_concurrency)
        self._retry = retry or Retry()
        # (file id, version) handled by this sync: a shortcut and its target must not both publish it.
        self._handled: set[tuple[str, int]] = set()

    async def apply_changes(self, changes: Iterable[Change]) -> None:
        """Publish an event for every changed file of one changes.list page; return once all are acked."""
        latest: dict[str, DriveFile | None] = {}  # file id -> the file as it is now, None if gone
        drives: set[str] = set()
        for change in changes:
            if change.change_type == "file" and change.file_id is not None:
                latest[change.file_id] = change.current  # the last change of a file wins
            elif change.drive_id:  # a shared drive itself changed: its members, say
                drives.add(change.drive_id)
        files = [file for file in latest.values() if file is not None]
        for file in files:
            self._ancestry.saw(file)
        known = await self._store.indexed([*latest, *_shortcut_targets(files)])
        if self._scope.needs_ancestors and await self._folder_entered(files, known):
            await self._rescan()
        await _all(
            self._sync(file, known) if file is not None else self._remove(file_id)
            for file_id, file in latest.items()
        )
        for drive_id in sorted(drives):
            await refresh_drive(drive_id, self._drive, self._store)

    async def apply_files(self, files: Sequence[DriveFile]) -> set[str]:
        """Publish an event for every listed file newer than the index; return the ids listed."""
        for file in files:
            self._ancestry.saw(file)
        known = await self._store.indexed([file.id for file in files] + _shortcut_targets(files))
        await _all(self._sync(file, known) for file in files)
        return {file.id for file in files} | set(_shortcut_targets(files))

    async def retry(self, file_ids: list[str]) -> None:
        """Read files again whose last read failed: gone ones are removed, failing ones recorded again."""
        files: list[DriveFile] = []
        for file_id in file_ids:
            try:
                files.append(await self._drive.get_file(file_id))
            except DriveNotFound:
                await self._remove(file_id)
                await self._store.clear_failure(file_id, REMOVED)
            except DriveError as exc:
                if not is_files_own(exc):
                    raise
                await self._record(file_id, 0, Failure.from_drive(exc))  # its version is unknown
        known = await self._store.indexed([file.id for file in files])
        for file in files:  # indexed meanwhile through a newer change: nothing left to retry
            if file.id in known and known[file.id].version >= file.version:
                await self._store.clear_failure(file.id, known[file.id].version)
        await self.apply_files(files)

    async def remove(self, file_ids: list[str]) -> None:
        """Publish a deletion for each of these files."""
        await _all(self._remove(file_id) for file_id in file_ids)

    async def _sync(self, file: DriveFile, known: dict[str, Indexed]) -> None:
        async with self._slots:
            started = time.perf_counter()
            target: DriveFile | None = file
            try:
                target = await self._resolve(file)
                if target is None:
                    return
                if (reason := await self._out_of_scope(target)) is not None:
                    log.info("file.out_of_scope", file_id=target.id, reason=reason)
                    await self._remove(target.id)  # leaves the index unless another source admits it
                    if target.mime_type == FOLDER:  # and so does what it holds: no change names that
                        await self.remove(await self._store.indexed_below(target.id, self._source_id))
                    return
                fetched = await self._fetch(target, known)
                if fetched is None:
                    return
            except DriveError as exc:
                INGESTION_SECONDS.labels("error").observe(time.perf_counter() - started)
                if not is_files_own(exc):
                    raise  # our credentials, not the file: the page stops and the cursor stays
                failed = target or file
                await self._record(failed.id, failed.version, Failure.from_drive(exc))
                return
            await self._publisher.publish(fetched.event)
            if not fetched.seen_only:  # a failure of the source that claimed the file is its own
                await self._store.clear_failure(fetched.event.file_id, fetched.event.version)
        seconds = time.perf_counter() - started
        event = fetched.event
        INGESTION_SECONDS.labels(event.action.value).observe(seconds)
        log.info(
            "file.fetched",
            file_id=event.file_id,
            action=event.action.value,
            mime_type=target.mime_type,
            version=event.version,
            bytes=fetched.size,
            seconds=round(seconds, 3),
            reason=event.reason,
        )

    async def _out_of_scope(self, file: DriveFile) -> str | None:
        ancestors = await self._ancestry.of(file) if self._scope.needs_ancestors else frozenset()
        return self._scope.admits(file, ancestors)

    async def _folder_entered(self, files: list[DriveFile], known: dict[str, Indexed]) -> bool:
        """Whether a folder in scope is new to this source: made here, or moved in with its files.

        Drive announces a moved folder, not what it holds, so those files are found by listing.
        """
        for file in files:
            indexed = known.get(file.id)
            new = indexed is None or self._source_id not in indexed.shown_by
            entered = file.mime_type == FOLDER and not file.trashed and new
            if entered and await self._out_of_scope(file) is None:
                return True
        return False

    async def _rescan(self) -> None:
        """Queue a listing of the source: a folder that came into scope brought unannounced files."""
        await queue_backfill(self._publisher, self._source_id)
        log.info("source.rescan_queued", reason="a folder came into scope")

    async def _read(self, file: DriveFile, indexed: Indexed | None) -> Fetched:
        """Store who may read the file, then describe it as one doc.fetched event."""
        if not file.trashed:
            await store_access(file, self._drive, self._store)
        return await self._fetcher.fetch(file, indexed)

    async def _record(self, file_id: str, version: int, failure: Failure) -> None:
        """Record a failure against the file (the target, for a shortcut) and let the page go on."""
        attempts = await self._store.record_failure(file_id, self._source_id, version, failure, self._retry)
        FETCH_FAILURES.labels(failure.kind, failure.error).inc()
        log.warning(
            "file.failed",
            file_id=file_id,
            version=version,
            kind=failure.kind,
            error=failure.error,
            reason=failure.reason,
            attempts=attempts,
        )

    async def _fetch(self, file: DriveFile, known: dict[str, Indexed]) -> Fetched | None:
        """Describe the file's version unless this sync handled it or the index holds it from here.

        A version that another source fetches (or the index holds from another source) costs this
        source only a metadata event, which makes the index remember that it shows the file.
        """
        version, indexed = file.version, known.get(file.id)
        if (file.id, version) in self._handled:
            return None
        self._handled.add((file.id, version))
        if indexed is not None and indexed.version >= version:
            if file.trashed or self._source_id in indexed.shown_by or indexed.version > version:
                log.debug("file.unchanged", file_id=file.id, version=version)
                return None
            return self._fetcher.seen(file)
        cheap = file.trashed or file.mime_type == FOLDER  # nothing to download
        if not cheap and not await self._store.claim(file.id, version, self._source_id):
            log.debug("file.claimed_elsewhere", file_id=file.id, version=version)
            return self._fetcher.seen(file)
        return await self._read(file, indexed)

    async def _resolve(self, file: DriveFile) -> DriveFile | None:
        """Return the file to index for `file`: itself, or a shortcut's target (None for folders)."""
        if file.mime_type != SHORTCUT:
            return file
        if file.trashed or file.target_mime_type == FOLDER or file.target_id is None:
            return None  # removing a shortcut leaves its target; shortcuts to folders are not followed
        try:
            target = await self._drive.get_file(file.target_id)
        except DriveNotFound:
            log.info("shortcut.dangling", file_id=file.id, target_id=file.target_id)
            return None
        return None if target.mime_type in (FOLDER, SHORTCUT) else target

    async def _remove(self, file_id: str) -> None:
        event = removal(self._source_id, file_id)
        await self._publisher.publish(event)
        INGESTION_SECONDS.labels(event.action.value).observe(0)
        log.info("file.fetched", file_id=file_id, action=event.action.value, removed=True, bytes=0)


def _shortcut_targets(files: Sequence[DriveFile]) -> list[str]:
    return [file.target_id for file in files if file.mime_type == SHORTCUT and file.target_id]


async def _all(jobs: Iterable[Coroutine[Any, Any, None]]) -> None:
    """Run the jobs together; on the first failure cancel the rest and raise that error itself."""
    try:
        async with asyncio.TaskGroup() as group:
            for job in jobs:
                group.create_task(job)
    except ExceptionGroup as failures:
        # The consume loop decides on retrying from the error's type, not from the group's.
        raise failures.exceptions[0] from None
