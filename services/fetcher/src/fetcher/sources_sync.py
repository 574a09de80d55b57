"""Sync the sources on a schedule, so new users and shared drives are indexed without an operator.

With DRIVE_SCOPE=domain or DRIVE_SOURCES set, the fetcher runs `drive-index sources sync` at start
and every SOURCES_SYNC_SECONDS. One replica syncs at a time (a PostgreSQL advisory lock), and a
replica that wakes within half an interval of another's sync skips its round, so the domain is
read once per interval however many fetchers run.
"""

from __future__ import annotations

import hashlib

import asyncpg
import structlog
from aiohttp import web

from drive import source_sync
from drive.clients import DriveClients
from fetcher.settings import FetcherSettings
from shared.web import POOL, PUBLISHER, CleanupContext, every

log = structlog.get_logger(__name__)

# pg_try_advisory_lock key of the sources sync: "drive-index sources sync" as a number.
SYNC_LOCK = 0x5EED_50C5
JOB = "sources sync"


def sources_sync(settings: FetcherSettings) -> CleanupContext:
    """Sync at start and every SOURCES_SYNC_SECONDS; nothing when there is nothing to sync."""
    seconds = settings.sources_sync_seconds if settings.syncs else 0
    # A sync with other settings (DRIVE_SOURCES changed in a rollout) is never skipped as recent.
    wanted = f"{settings.drive_scope}|{sorted(settings.configured_sources)}".encode()
    run = f"{JOB} {hashlib.sha256(wanted).hexdigest()[:16]}"

    async def job(app: web.Application) -> None:
        pool = app[POOL]
        async with pool.acquire() as connection:
            if not await connection.fetchval("SELECT pg_try_advisory_lock($1)", SYNC_LOCK):
                log.info("sources.sync_skipped", reason="another replica is syncing")
                return
            try:
                if await _ran_lately(connection, run, seconds / 2):
                    log.info("sources.sync_skipped", reason="another replica synced lately")
                    return
                async with DriveClients(settings, pool) as drives:
                    adding = source_sync.Adding(
                        pool, app[PUBLISHER], drives, settings.drive_webhook_url, report=_log
                    )
                    await source_sync.sync(settings, adding)
                await connection.execute(
                    """INSERT INTO background_runs (name, finished_at) VALUES ($1, now())
                       ON CONFLICT (name) DO UPDATE SET finished_at = now()""",
                    run,
                )
            finally:
                await connection.execute("SELECT pg_advisory_unlock($1)", SYNC_LOCK)

    return every(seconds, "sync sources", job, first_after=0)


async def _ran_lately(connection: asyncpg.Connection, run: str, seconds: float) -> bool:
    return bool(
        await connection.fetchval(
            "SELECT finished_at > now() - make_interval(secs => $2) FROM background_runs WHERE name = $1",
            run,
            seconds,
        )
    )


def _log(line: str) -> None:
    log.info("sources.sync", detail=line.strip())
