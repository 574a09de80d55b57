"""The safety net under push notifications: read every source's change feed on a timer.

Google does not promise delivery: a notification refused while the gateway could not queue it
(say, during a database restart) is retried for a while, then dropped. Every few minutes the
fetcher therefore queues a `poll` for each source; reading the feed from the stored cursor is
cheap when nothing changed, and finds what a lost notification announced.
"""

from __future__ import annotations

from datetime import UTC, datetime

import asyncpg
import structlog
from aiohttp import web

from shared.events import DriveChanged
from shared.kafka import EventPublisher
from shared.web import POOL, PUBLISHER, CleanupContext, every

log = structlog.get_logger(__name__)


async def queue_polls(pool: asyncpg.Pool, publisher: EventPublisher) -> int:
    """Queue one `poll` per active source, through drive.changed like any notification."""
    query = "SELECT id FROM sources WHERE removed_at IS NULL ORDER BY id"  # removed ones are not read
    sources = [row["id"] for row in await pool.fetch(query)]
    for source_id in sources:
        event = DriveChanged(source_id=source_id, resource_state="poll", received_at=datetime.now(UTC))
        await publisher.publish(event)
    return len(sources)


def poller(interval_seconds: float) -> CleanupContext:
    """Queue polls every `interval_seconds` for the app's lifetime (0 turns the safety net off)."""

    async def poll(app: web.Application) -> None:
        queued = await queue_polls(app[POOL], app[PUBLISHER])
        log.debug("poll.queued", sources=queued)

    return every(interval_seconds, "poll sources", poll)
