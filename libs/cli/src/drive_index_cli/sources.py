"""`drive-index sources add|list|remove|sync`: which users' My Drives and shared drives are indexed."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime

from drive import discovery, source_admin, source_sync
from drive.clients import DriveClients
from drive.sources import SourceRef
from drive_index_cli.connections import open_pipeline
from drive_index_cli.output import print_rows
from shared.settings import SettingsError, load


async def sources_command(args: argparse.Namespace) -> int:
    async with open_pipeline() as (pool, publisher):
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
    try:
        return SourceRef.parse(source_id).id
    except ValueError as exc:
        raise SettingsError(str(exc)) from None


def _print(rows: list[source_admin.SourceStatus]) -> None:
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
