"""Add, list and remove sources: the rows the fetcher follows, their channels, their files.

Removing a source publishes, for each file it still shows, the removal a vanished file gets
(DELETE at the largest version, from that source only): the embedder then drops the files no
other source shows, and keeps the others.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

import asyncpg
import structlog

from drive import watch
from drive.sources import SourceRef
from shared.events import DocFetched, FetchAction
from shared.kafka import EventPublisher

log = structlog.get_logger(__name__)

# The largest bigint: a removal at this version supersedes every version of the file.
REMOVED = 2**63 - 1


@dataclass(frozen=True)
class SourceStatus:
    """One row of `drive-index sources list`."""

    id: str
    kind: str
    cursor_updated_at: datetime | None
    channel_expires_at: datetime | None
    files: int
    last_error: str | None
    last_error_at: datetime | None
    removed_at: datetime | None


class Origin(StrEnum):
    """Who asked for a source; a sync removes only what its own origin no longer wants."""

    CLI = "cli"  # drive-index sources add
    SETTING = "setting"  # DRIVE_SOURCES
    DISCOVERED = "discovered"  # DRIVE_SCOPE=domain


async def add(pool: asyncpg.Pool, source_id: str, origin: Origin = Origin.CLI) -> bool:
    """Add a source (or bring back a removed one); return False if it was already active."""
    ref = SourceRef.parse(source_id)
    added = await pool.fetchval(
        """INSERT INTO sources (id, kind, drive_id, origin) VALUES ($1, $2, $3, $4)
           ON CONFLICT (id) DO UPDATE
             SET removed_at = NULL, kind = EXCLUDED.kind, origin = EXCLUDED.origin, updated_at = now()
             WHERE sources.removed_at IS NOT NULL
           RETURNING id""",
        ref.id,
        ref.kind.value,
        ref.drive_id,
        origin.value,
    )
    return added is not None


async def ensure(db: asyncpg.Pool | asyncpg.Connection, source_id: str) -> None:
    """Create the source's row unless it exists: a message, a channel or a test may name a source
    before anyone added it. The one other writer of `sources` rows is `add`."""
    ref = SourceRef.parse(source_id)
    await db.execute(
        "INSERT INTO sources (id, kind, drive_id) VALUES ($1, $2, $3) ON CONFLICT (id) DO NOTHING",
        source_id,
        ref.kind.value,
        ref.drive_id,
    )


async def active(pool: asyncpg.Pool) -> dict[str, Origin]:
    """Return the sources not removed, each with its origin."""
    rows = await pool.fetch("SELECT id, origin FROM sources WHERE removed_at IS NULL ORDER BY id")
    return {row["id"]: Origin(row["origin"]) for row in rows}


async def statuses(pool: asyncpg.Pool, *, include_removed: bool = False) -> list[SourceStatus]:
    """Return each source's kind, cursor age, channel expiry, files shown and last error."""
    rows = await pool.fetch(
        """SELECT s.id, s.kind, CASE WHEN s.page_token IS NULL THEN NULL ELSE s.updated_at END AS cursor,
                  (SELECT max(c.expires_at) FROM watch_channels c
                    WHERE c.source_id = s.id AND c.stopped_at IS NULL) AS channel_expires_at,
                  (SELECT count(*) FROM document_sources d
                    WHERE d.source_id = s.id AND NOT d.removed) AS files,
                  s.last_error, s.last_error_at, s.removed_at
             FROM sources s
            WHERE $1 OR s.removed_at IS NULL
            ORDER BY s.id""",
        include_removed,
    )
    return [
        SourceStatus(
            id=row["id"],
            kind=row["kind"] or SourceRef.parse(row["id"]).kind.value,
            cursor_updated_at=row["cursor"],
            channel_expires_at=row["channel_expires_at"],
            files=row["files"],
            last_error=row["last_error"],
            last_error_at=row["last_error_at"],
            removed_at=row["removed_at"],
        )
        for row in rows
    ]


async def remove(pool: asyncpg.Pool, drives: watch.Drives, publisher: EventPublisher, source_id: str) -> int:
    """Stop the source's channels, remove its files from it, mark it removed; return the files."""
    for channel in await watch.list_channels(pool, source_id):
        await watch.stop(pool, drives, channel)
    # Marked first: a notification or poll arriving meanwhile no longer reads the source.
    await pool.execute(
        "UPDATE sources SET removed_at = coalesce(removed_at, now()), page_token = NULL WHERE id = $1",
        source_id,
    )
    rows = await pool.fetch(
        "SELECT file_id FROM document_sources WHERE source_id = $1 AND NOT removed ORDER BY file_id",
        source_id,
    )
    now = datetime.now(UTC)
    for row in rows:
        event = DocFetched(
            source_id=source_id,
            file_id=row["file_id"],
            action=FetchAction.DELETE,
            version=REMOVED,
            fetched_at=now,
        )
        await publisher.publish(event)
    log.info("source.removed", source_id=source_id, files=len(rows))
    return len(rows)
