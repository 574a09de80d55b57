"""Keep the followed sources in step with what is asked for: the domain and DRIVE_SOURCES.

`drive-index sources sync` runs it on demand, and the fetcher every SOURCES_SYNC_SECONDS (one
replica at a time). Adding a source queues its backfill and opens its push channel; removing one
stops its channels and takes its files out of the index unless another source shows them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import asyncpg

from drive import discovery, source_admin, watch
from drive.clients import SOURCE_REFUSED, DriveClients
from drive.directory import USER_SCOPES, DirectoryClient
from drive.source_admin import Origin
from shared.concurrency import run_all
from shared.events import DriveChanged
from shared.kafka import EventPublisher
from shared.settings import SettingsError

Report = Callable[[str], None]
# Sources added at once by a sync.
ADDING = 16


@dataclass(frozen=True)
class Adding:
    """Add sources: the row, a queued backfill, and a watch channel when an address is given."""

    pool: asyncpg.Pool
    publisher: EventPublisher
    drives: DriveClients
    address: str | None
    report: Report = print

    async def add(self, source_ids: dict[str, Origin]) -> None:
        """Add each source with its origin; one whose channel is refused is recorded, not fatal.

        Several at once: each new identity costs a token grant and two Drive calls, which one at
        a time made a thousand users take minutes. The call budgets still bound the rate.
        """
        await run_all(
            (self._add(source_id, origin) for source_id, origin in source_ids.items()), limit=ADDING
        )

    async def _add(self, source_id: str, origin: Origin) -> None:
        if not await source_admin.add(self.pool, source_id, origin):
            self.report(f"{source_id} is already indexed")
            return
        await queue_backfill(self.publisher, source_id)
        self.report(f"added {source_id}; its backfill is queued")
        if self.address:
            await self._watch(source_id, self.address)

    async def remove(self, source_id: str, why: str = "") -> int:
        """Stop following the source; return how many files it no longer shows."""
        files = await source_admin.remove(self.pool, self.drives, self.publisher, source_id)
        self.report(f"removed {source_id}{why}: {files} file(s) no longer shown by it")
        return files

    async def _watch(self, source_id: str, address: str) -> None:
        try:
            await watch.start(self.pool, self.drives, source_id, address)
        except SOURCE_REFUSED as exc:
            error = f"{type(exc).__name__}: {exc}"[:500]
            await self.pool.execute(
                "UPDATE sources SET last_error = $2, last_error_at = now() WHERE id = $1", source_id, error
            )
            self.report(f"  no channel for {source_id}: {error}")


async def sync(settings: discovery.DiscoverySettings, adding: Adding) -> discovery.Plan:
    """Add what the domain (DRIVE_SCOPE=domain) and DRIVE_SOURCES want; remove what they dropped."""
    if not settings.syncs:
        raise SettingsError("nothing to sync: set DRIVE_SCOPE=domain or DRIVE_SOURCES")
    discovered = None
    if settings.drive_scope == "domain":
        async with DirectoryClient.from_settings(settings, USER_SCOPES) as directory:
            discovered = await discovery.discover(directory, adding.drives.default, settings.google_subject)
    followed = await source_admin.active(adding.pool)
    changes = discovery.plan(followed, discovered=discovered, configured=settings.configured_sources)
    await adding.add(changes.add)
    for source_id in changes.remove:
        unnamed = followed[source_id] == Origin.SETTING and source_id not in settings.configured_sources
        why = " (no longer in DRIVE_SOURCES)" if unnamed else " (gone from the domain)"
        await adding.remove(source_id, why)
    wanted = len(discovered or ()) + len(settings.configured_sources)
    adding.report(f"{wanted} source(s) wanted: {len(changes.add)} added, {len(changes.remove)} removed")
    return changes


async def queue_backfill(publisher: EventPublisher, source_id: str) -> None:
    """Queue a full pass over the source's files, as `drive-index backfill` does."""
    event = DriveChanged(source_id=source_id, resource_state="backfill", received_at=datetime.now(UTC))
    await publisher.publish(event)
