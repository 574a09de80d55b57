"""`drive-index sources add|list|remove|sync`: which users' My Drives and shared drives are indexed."""

from __future__ import annotations

import argparse
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime

import asyncpg

from drive import discovery, source_admin, source_sync
from drive.clients import DriveClients
from shared import db, kafka
from shared.settings import CommonSettings, SettingsError, load


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `sources` and its actions to the CLI."""
    sources = sub.add_parser("sources", help="the users' My Drives and shared drives that are indexed")
    actions = sources.add_subparsers(dest="action", required=True)
    add = actions.add_parser(
        "add", help="index a source now: queues its backfill, opens its channel if DRIVE_WEBHOOK_URL is set"
    )
    add.add_argument(
        "source", nargs="+", help="user:<email> | drive:<id>[?as=<member email>] | folder:<id>[?as=<email>]"
    )
    listing = actions.add_parser("list", help="sources with cursor age, channel expiry, files, last error")
    listing.add_argument("--all", action="store_true", help="include removed sources")
    remove = actions.add_parser("remove", help="stop following a source; its files nobody else sees leave")
    remove.add_argument("source", nargs="+")
    actions.add_parser(
        "sync", help="follow every active user and shared drive (DRIVE_SCOPE=domain) and DRIVE_SOURCES"
    )


async def sources_command(args: argparse.Namespace) -> int:
    async with _pipeline() as (pool, publisher):
        if args.action == "list":
            _print(await source_admin.statuses(pool, include_removed=args.all))
            return 0
        settings = load(discovery.DiscoverySettings)
        async with DriveClients(settings, pool) as drives:
            adding = source_sync.Adding(pool, publisher, drives, settings.drive_webhook_url)
            if args.action == "add":
                await adding.add({_parsed(s): source_admin.Origin.CLI for s in args.source})
            elif args.action == "remove":
                for source_id in [_parsed(s) for s in args.source]:
                    await adding.remove(source_id)
            else:
                await source_sync.sync(settings, adding)
    return 0


def _parsed(source_id: str) -> str:
    from drive.sources import SourceRef

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
