"""Handle drive.changed: read a source's changes (or list all its files) and publish doc.fetched."""

from __future__ import annotations

from dataclasses import dataclass, field

import structlog
from prometheus_client import Counter

from drive import reconcile
from drive.clients import SOURCE_REFUSED
from drive.sources import SourceKind, SourceRef
from fetcher.ancestry import FolderTree
from fetcher.failures import Retry
from fetcher.files import Limits
from fetcher.ports import Drive, Drives, Store
from fetcher.scope import Scope
from fetcher.sync import SourceSync
from shared.errors import PermanentError
from shared.events import DriveChanged
from shared.kafka import EventPublisher

log = structlog.get_logger(__name__)

RECONCILE_REFUSED = Counter(
    "drive_index_reconcile_refused_total",
    "Reconciles that deleted nothing: incomplete listing or too many deletions",
)
SOURCE_ERRORS = Counter(
    "drive_index_source_errors_total",
    "Reads of a user's or shared drive's source refused to its identity (recorded on the source)",
    ["kind"],
)
# A claimed retry that neither succeeds nor fails (the process died) is due again after this.
RETRY_LEASE_SECONDS = 300.0


@dataclass(frozen=True)
class Options:
    """The fetcher's limits, from FetcherSettings."""

    limits: Limits = field(default_factory=Limits)
    max_concurrency: int = 4
    page_size: int = 100
    retry: Retry = field(default_factory=Retry)
    max_delete_share: float = reconcile.DEFAULT_MAX_DELETE_SHARE
    scope: Scope = field(default_factory=Scope)
    # The folders each identity was seen to have, kept between messages (fetcher.ancestry).
    folders: FolderTree = field(default_factory=FolderTree)


async def handle_drive_changed(
    event: DriveChanged, *, drive: Drive, store: Store, publisher: EventPublisher, options: Options
) -> None:
    """Bring the index in step with the source named by `event`."""
    with structlog.contextvars.bound_contextvars(
        source_id=event.source_id,
        channel_id=event.channel_id,
        message_number=event.message_number,
        resource_state=event.resource_state,
    ):
        if event.resource_state == "sync":  # a new channel says hello; there is nothing to read
            log.info("channel.synced")
            return
        await store.ensure_source(event.source_id)
        if await store.is_removed(event.source_id):
            log.info("source.removed_ignored")
            return
        ref = SourceRef.parse(event.source_id)
        try:
            await _read_source(event, ref, drive=drive, store=store, publisher=publisher, options=options)
        except SOURCE_REFUSED as exc:
            if ref.kind is SourceKind.FEED:
                raise  # the deployment's own identity: an outage for everything, waited out as before
            # This user or drive alone: recorded, and read again by the next poll; others go on.
            error = f"{type(exc).__name__}: {exc}"[:500]
            await store.record_source_error(event.source_id, error)
            SOURCE_ERRORS.labels(ref.kind.value).inc()
            log.warning("source.unreadable", error=error)
            return
        await store.record_source_error(event.source_id, None)


async def _read_source(
    event: DriveChanged,
    ref: SourceRef,
    *,
    drive: Drive,
    store: Store,
    publisher: EventPublisher,
    options: Options,
) -> None:
    sync = _source_sync(event.source_id, drive=drive, store=store, publisher=publisher, options=options)
    size = options.page_size
    state = event.resource_state
    if (
        state not in ("backfill", "reconcile")
        and ref.kind is not SourceKind.FEED
        and await store.page_token(event.source_id) is None
    ):
        # Never read (added while its identity was refused, say): its first read is a backfill.
        state = "backfill"
        event = event.model_copy(update={"resource_state": state, "files_page_token": None})
    if state == "backfill":
        await backfill_page(event, drive=drive, store=store, sync=sync, publisher=publisher, page_size=size)
    elif state == "reconcile":
        await reconcile_source(event, drive=drive, store=store, sync=sync, options=options)
    else:
        await read_changes(event.source_id, drive=drive, store=store, sync=sync, page_size=size)


async def read_changes(
    source_id: str, *, drive: Drive, store: Store, sync: SourceSync, page_size: int
) -> None:
    """Read changes.list from the stored cursor, page by page, moving the cursor after each page."""
    token = await store.page_token(source_id)
    if token is None:
        await _start_cursor(source_id, drive, store)
        return
    pages = changes = 0
    while True:
        page = await drive.list_changes(token, page_size)
        await sync.apply_changes(page.changes)
        pages, changes = pages + 1, changes + len(page.changes)
        next_token = page.next_page_token or page.new_start_page_token
        if next_token is None:
            raise PermanentError("changes.list answered with neither nextPageToken nor newStartPageToken")
        # Only now: every doc.fetched of the page is acknowledged, so no change can be lost.
        await store.save_page_token(source_id, next_token)
        token = next_token
        if page.next_page_token is None:
            break
    log.info("changes.read", pages=pages, changes=changes)


async def backfill_page(
    event: DriveChanged,
    *,
    drive: Drive,
    store: Store,
    sync: SourceSync,
    publisher: EventPublisher,
    page_size: int,
) -> None:
    """Fetch one files.list page newer than the index, then queue the next page as its own message.

    A page at a time, so a notification (a revoked share, say) waits for one page, not the pass.
    """
    if event.files_page_token is None and await store.page_token(event.source_id) is None:
        # Take the cursor first: changes made while listing are then read afterwards, not missed.
        await _start_cursor(event.source_id, drive, store)
    page = await drive.list_files(event.files_page_token, page_size)
    await sync.apply_files(page.files)
    if page.next_page_token:
        following = event.model_copy(update={"files_page_token": page.next_page_token})
        await publisher.publish(following)
    log.info("files.page_scanned", files=len(page.files), more=page.next_page_token is not None)


async def reconcile_source(
    event: DriveChanged, *, drive: Drive, store: Store, sync: SourceSync, options: Options
) -> None:
    """List every file, fetch those newer than the index, delete indexed files Drive confirms gone."""
    if await store.page_token(event.source_id) is None:
        # Take the cursor first: changes made while listing are then read afterwards, not missed.
        await _start_cursor(event.source_id, drive, store)
    indexed = await store.indexed_files(event.source_id)
    found = await reconcile.plan(
        drive,
        indexed,
        max_delete_share=options.max_delete_share,
        force=event.force,
        page_size=options.page_size,
    )
    await sync.apply_files(found.files)
    if found.may_delete:
        await sync.remove(found.gone)
    elif found.refusal:
        RECONCILE_REFUSED.inc()
        log.error("reconcile.refused", reason=found.refusal, candidates=len(found.gone))
    removed = len(found.gone) if found.may_delete else 0
    log.info("files.reconciled", files=len(found.listed), removed=removed, still_there=len(found.kept))


async def _start_cursor(source_id: str, drive: Drive, store: Store) -> None:
    token = await drive.get_start_page_token()
    await store.save_page_token(source_id, token)
    log.info("changes.cursor_started", page_token=token)


async def retry_failed_files(
    *, drives: Drives, store: Store, publisher: EventPublisher, options: Options, limit: int = 50
) -> int:
    """Try again the files whose transient failures are due; return how many were tried."""
    due = await store.due_failures(limit, lease_seconds=RETRY_LEASE_SECONDS)
    by_source: dict[str, list[str]] = {}
    for file_id, source_id in due:
        by_source.setdefault(source_id, []).append(file_id)
    for source_id, file_ids in by_source.items():
        drive = drives.for_source(source_id)
        sync = _source_sync(source_id, drive=drive, store=store, publisher=publisher, options=options)
        try:
            await sync.retry(file_ids)
        except SOURCE_REFUSED as exc:
            if SourceRef.parse(source_id).kind is SourceKind.FEED:
                raise
            await store.record_source_error(source_id, f"{type(exc).__name__}: {exc}"[:500])  # others go on
    if due:
        log.info("failures.retried", files=len(due))
    return len(due)


def _source_sync(
    source_id: str, *, drive: Drive, store: Store, publisher: EventPublisher, options: Options
) -> SourceSync:
    return SourceSync(
        source_id,
        drive=drive,
        store=store,
        publisher=publisher,
        limits=options.limits,
        max_concurrency=options.max_concurrency,
        retry=options.retry,
        scope=options.scope,
        folders=options.folders,
    )
