"""`drive-index sources add|list|remove|sync`: which users' My Drives and shared drives are indexed."""

from __future__ import annotations

import argparse
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

import asyncpg

from shared import db, discovery, kafka, source_admin, topics, watch
from shared.drive_sources import SOURCE_REFUSED, DriveClients
from shared.events import DriveChanged
from shared.settings import CommonSettings, SettingsError, load


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `sources` and its actions to the CLI."""
    sources = sub.add_parser("sources", help="the users' My Drives and shared drives that are indexed")
    actions = sources.add_subparsers(dest="action", required=True)
    add = actions.add_parser(
        "add", help="index a source now: queues its backfill, opens its channel if DRIVE_WEBHOOK_URL is set"
    )
    add.add_argument("source", nargs="+", help="user:<email> | drive:<id>[?as=<member email>]")
    listing = actions.add_parser("list", help="sources with cursor age, channel expiry, files, last error")
    listing.add_argument("--all", action="store_true", help="include removed sources")
    remove = actions.add_parser("remove", help="stop following a source; its files nobody else sees leave")
    remove.add_argument("source", nargs="+")
    actions.add_parser("sync", help="with DRIVE_SCOPE=domain: follow every active user and shared drive")


async def sources_command(args: argparse.Namespace) -> int:
    async with _pipeline() as (pool, publisher):
        if args.action == "list":
            _print(await source_admin.statuses(pool, include_removed=args.all))
            return 0
        settings = load(discovery.DiscoverySettings)
        async with DriveClients(settings, pool) as drives:
            adding = Adding(pool, publisher, drives, os.environ.get("DRIVE_WEBHOOK_URL"))
            if args.action == "add":
                await adding.add([_parsed(s) for s in args.source])
            elif args.action == "remove":
                for source_id in [_parsed(s) for s in args.source]:
                    files = await source_admin.remove(pool, drives, publisher, source_id)
                    print(f"removed {source_id}: {files} file(s) no longer shown by it")
            else:
                await _sync(settings, adding)
    return 0


@dataclass(frozen=True)
class Adding:
    """Add sources: the row, a queued backfill, and a watch channel when DRIVE_WEBHOOK_URL is set."""

    pool: asyncpg.Pool
    publisher: kafka.Publisher
    drives: DriveClients
    address: str | None

    async def add(self, source_ids: list[str]) -> None:
        for source_id in source_ids:
            if not await source_admin.add(self.pool, source_id):
                print(f"{source_id} is already indexed")
                continue
            await queue_backfill(self.publisher, source_id)
            print(f"added {source_id}; its backfill is queued")
            if self.address:
                await self._watch(source_id, self.address)

    async def _watch(self, source_id: str, address: str) -> None:
        """Open the source's channel; a refused identity is recorded and the others go on."""
        try:
            await watch.start(self.pool, self.drives, source_id, address)
        except SOURCE_REFUSED as exc:
            error = f"{type(exc).__name__}: {exc}"[:500]
            await self.pool.execute(
                "UPDATE sources SET last_error = $2, last_error_at = now() WHERE id = $1", source_id, error
            )
            print(f"  no channel for {source_id}: {error}")


async def _sync(settings: discovery.DiscoverySettings, adding: Adding) -> None:
    if settings.drive_scope != "domain":
        raise SettingsError("sources sync discovers the whole domain: set DRIVE_SCOPE=domain")
    from shared.directory import USER_SCOPES, DirectoryClient

    async with DirectoryClient.from_settings(settings, USER_SCOPES) as directory:
        wanted = await discovery.discover(directory, adding.drives.default, settings.google_subject)
    changes = discovery.plan(wanted, set(await source_admin.active(adding.pool)))
    await adding.add(changes.add)
    for source_id in changes.remove:
        files = await source_admin.remove(adding.pool, adding.drives, adding.publisher, source_id)
        print(f"removed {source_id} (gone from the domain): {files} file(s) no longer shown by it")
    print(f"{len(wanted)} source(s) in the domain: {len(changes.add)} added, {len(changes.remove)} removed")


async def queue_backfill(publisher: kafka.Publisher, source_id: str) -> None:
    """Queue a full pass over the source's files, as `drive-index backfill` does."""
    event = DriveChanged(source_id=source_id, resource_state="backfill", received_at=datetime.now(UTC))
    await publisher.publish(topics.DRIVE_CHANGED, source_id, event)


def _parsed(source_id: str) -> str:
    from shared.sources import SourceRef

    try:
        return SourceRef.parse(source_id).id
    except ValueError as exc:
        raise SettingsError(str(exc)) from None


@asynccontextmanager
async def _pipeline() -> AsyncIterator[tuple[asyncpg.Pool, kafka.Publisher]]:
    settings = load(CommonSettings)
    pool = await db.create_pool(settings.database_url, max_size=2)
    producer = kafka.producer_from(settings)
    try:
        await producer.start()
        yield pool, kafka.Publisher(producer, settings.kafka_topic_prefix)
    finally:
        await producer.stop()
        await pool.close()


def _print(rows: list[source_admin.SourceStatus]) -> None:
    from shared.commands import print_rows

    now = datetime.now(UTC)

    def age(when: datetime | None) -> str:
        return "-" if when is None else f"{int((now - when).total_seconds())}s"

    print_rows(
        [
            {
                "source": s.id,
                "kind": s.kind,
                "cursor age": age(s.cursor_updated_at),
                "channel expires": s.channel_expires_at.isoformat(timespec="minutes")
                if s.channel_expires_at
                else "-",
                "files": s.files,
                "last error": f"{s.last_error} ({age(s.last_error_at)} ago)" if s.last_error else "-",
                "state": "removed" if s.removed_at else "active",
            }
            for s in rows
        ]
    )
