"""`drive-index watch start|renew|stop|list`: Drive push-notification channels."""

from __future__ import annotations

import argparse
from datetime import timedelta

import asyncpg

from drive import watch
from drive_index_cli.connections import open_drives, open_pool
from drive_index_cli.output import print_rows
from shared.settings import SettingsError


def hours(value: float) -> timedelta:
    return timedelta(hours=value)


async def watch_command(args: argparse.Namespace) -> int:
    async with open_pool() as pool:
        if args.action == "list":
            channels = await watch.list_channels(pool, include_stopped=args.all)
            print_rows([_channel_row(c) for c in channels])
            return 0
        async with open_drives(pool) as drive:
            return await _manage_channels(args, pool, drive)


async def _manage_channels(args: argparse.Namespace, pool: asyncpg.Pool, drive: watch.Drives) -> int:
    if args.action == "start":
        if not args.address:
            raise SettingsError(
                "DRIVE_WEBHOOK_URL is not set: pass --address or set it to the gateway's public URL"
            )
        channel = await watch.start(pool, drive, args.source, args.address, hours(args.ttl_hours))
        print_rows([_channel_row(channel)])
    elif args.action == "renew":
        renewed = await watch.renew(pool, drive, within=hours(args.within_hours))
        print(f"renewed {len(renewed)} channel(s)")
    elif args.action == "stop":
        active = await watch.list_channels(pool)
        chosen = [c for c in active if not args.channel or c.id in args.channel]
        for channel in chosen:
            await watch.stop(pool, drive, channel)
        print(f"stopped {len(chosen)} channel(s)")
    return 0


def _channel_row(channel: watch.Channel) -> dict[str, object]:
    return {
        "id": channel.id,
        "source": channel.source_id,
        "address": channel.address,
        "expires": channel.expires_at.isoformat(timespec="minutes") if channel.expires_at else "-",
        "last message": channel.last_message_at.isoformat(timespec="seconds")
        if channel.last_message_at
        else "-",
        "state": "stopped" if channel.stopped_at else "active",
    }
