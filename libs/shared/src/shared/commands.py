"""The implementations behind `drive-index`'s sub-commands."""

from __future__ import annotations

import argparse
import secrets
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg

from drive import watch
from shared import checks, db, kafka, topics
from shared.channel_tokens import token_digest
from shared.events import DriveChanged
from shared.settings import CommonSettings, SettingsError, load


def print_rows(rows: list[dict[str, Any]]) -> None:
    """Print dicts as an aligned table."""
    if not rows:
        print("(none)")
        return
    columns = list(rows[0])
    widths = {c: max(len(c), *(len(str(r[c])) for r in rows)) for c in columns}
    print("  ".join(c.ljust(widths[c]) for c in columns))
    for row in rows:
        print("  ".join(str(row[c]).ljust(widths[c]) for c in columns))


def hours(value: float) -> timedelta:
    return timedelta(hours=value)


class DatabaseSettings(CommonSettings):
    kafka_bootstrap_servers: str = ""


def _settings() -> CommonSettings:
    return load(DatabaseSettings)


@asynccontextmanager
async def _pool() -> AsyncIterator[asyncpg.Pool]:
    pool = await db.create_pool(_settings().database_url, max_size=2)
    try:
        yield pool
    finally:
        await pool.close()


@asynccontextmanager
async def _drive(pool: asyncpg.Pool) -> AsyncIterator[watch.WatchingDrives]:
    """Drive clients per source: each source's channels are opened as its user, on its drive.

    They spend from the call budgets the fetchers spend from, so a renewal of a thousand channels
    does not starve indexing of its quota.
    """
    from drive.client import DriveSettings
    from drive.clients import DriveClients

    async with DriveClients(load(DriveSettings), pool) as drives:
        yield drives


async def migrate_command(args: argparse.Namespace) -> int:
    directory: Path = args.dir
    if not directory.is_dir():  # noqa: ASYNC240 - one stat before any I/O starts
        raise checks.CheckFailedError(
            f"no migrations folder at {directory}; pass --dir or set MIGRATIONS_DIR"
        )
    applied = await db.migrate(_settings().database_url, directory)
    print(
        f"applied {len(applied)} migration(s)"
        + (f": {', '.join(applied)}" if applied else ", already up to date")
    )
    return 0


async def topics_command(args: argparse.Namespace) -> int:
    settings = load(CommonSettings)
    layout = settings.topic_layout()
    if getattr(args, "partitions", None):  # --partitions overrides KAFKA_PARTITIONS
        layout = topics.Layout(args.partitions, layout.replication_factor, layout.min_insync_replicas)
    names = [topics.with_prefix(settings.kafka_topic_prefix, t) for t in topics.ALL]
    states = await kafka.ensure_topics(settings, names, layout)
    print_rows(
        [
            {
                "topic": s.name,
                "partitions": s.partitions,
                "replicas": s.replication_factor,
                "min.insync.replicas": "?" if s.min_insync_replicas is None else s.min_insync_replicas,
                "short of the settings": ", ".join(s.short_of(layout)) or "-",
            }
            for s in states
        ]
    )
    if any(s.short_of(layout) for s in states):
        raise checks.CheckFailedError(
            "some topics existed before with less than the settings ask and were left as they are:"
            " add partitions with kafka-topics.sh --alter, replicas with kafka-reassign-partitions.sh,"
            " min.insync.replicas with kafka-configs.sh --alter"
        )
    return 0


async def watch_command(args: argparse.Namespace) -> int:
    async with _pool() as pool:
        if args.action == "list":
            channels = await watch.list_channels(pool, include_stopped=args.all)
            print_rows([_channel_row(c) for c in channels])
            return 0
        async with _drive(pool) as drive:
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


async def _queue_pass(source_id: str, state: str, *, force: bool = False) -> int:
    settings = load(CommonSettings)
    producer = kafka.producer_from(settings)
    await producer.start()
    try:
        event = DriveChanged(
            source_id=source_id, resource_state=state, received_at=datetime.now(UTC), force=force
        )
        await kafka.Publisher(producer, settings.kafka_topic_prefix).publish(
            topics.DRIVE_CHANGED, source_id, event
        )
    finally:
        await producer.stop()
    print(f"queued a {state} of source {source_id!r}; the fetcher's log shows its progress")
    return 0


async def sources_command(args: argparse.Namespace) -> int:
    from shared import source_commands

    return await source_commands.sources_command(args)


async def backfill_command(args: argparse.Namespace) -> int:
    return await _queue_pass(args.source, "backfill")


async def reconcile_command(args: argparse.Namespace) -> int:
    if args.dry_run:
        return await _reconcile_plan(args)
    return await _queue_pass(args.source, "reconcile", force=args.force)


async def _reconcile_plan(args: argparse.Namespace) -> int:
    """Print what a reconcile of the source would delete, changing nothing."""
    from drive import reconcile
    from drive.client import DriveSettings
    from drive.clients import DriveClients

    async with _pool() as pool, DriveClients(load(DriveSettings), pool) as drives:
        drive = drives.for_source(args.source)
        rows = await pool.fetch(
            "SELECT file_id FROM document_sources WHERE source_id = $1 AND NOT removed", args.source
        )
        indexed = {row["file_id"] for row in rows}
        print(f"listing every file of source {args.source!r} ({len(indexed)} indexed)...", flush=True)
        plan = await reconcile.plan(drive, indexed, max_delete_share=args.max_delete_share, force=args.force)
    print(f"listed {len(plan.listed)} files; {len(plan.gone) + len(plan.kept)} indexed files were not listed")
    print(f"  still in Drive (kept): {len(plan.kept)}")
    print(f"  gone from Drive (would delete): {len(plan.gone)}")
    for file_id in plan.gone[:20]:
        print(f"    {file_id}")
    if len(plan.gone) > 20:
        print(f"    ... and {len(plan.gone) - 20} more")
    print(f"refused: {plan.refusal}" if plan.refusal else "a reconcile would do this")
    return 0


async def status_command(args: argparse.Namespace) -> int:
    from shared import status

    async with _pool() as pool, pool.acquire() as connection:
        print(status.render(args.file_id, await status.file_status(connection, args.file_id)))
    return 0


async def search_command(args: argparse.Namespace) -> int:
    results = await checks.search(args.url.rstrip("/"), args.query, args.k)
    for rank, result in enumerate(results, 1):
        print(f"{rank}. {result['title']}  ({result['score']:.3f})\n   {result['link'] or result['file_id']}")
        print("   " + " ".join(str(result.get("snippet", "")).split())[:200])
    if not results:
        print("no results")
    return 0


async def groups_command(args: argparse.Namespace) -> int:
    from drive.directory import DirectoryClient, DirectoryForbidden, DirectorySettings
    from drive.groups import sync_groups

    async with _pool() as pool, DirectoryClient.from_settings(load(DirectorySettings)) as directory:
        try:
            synced = await sync_groups(directory, pool)
        except DirectoryForbidden as exc:
            raise checks.CheckFailedError(
                f"the Directory API refused: {exc}. Grant the service account domain-wide delegation for "
                "https://www.googleapis.com/auth/admin.directory.group.readonly and set GOOGLE_SUBJECT "
                "to an admin allowed to read groups"
            ) from None
    print(f"groups synced: {synced.groups} groups, {synced.edges} memberships in {synced.seconds}s")
    return 0


async def apikey_command(args: argparse.Namespace) -> int:
    from shared import apikeys

    async with _pool() as pool:
        if args.action == "create":
            try:
                key, token = await apikeys.create(
                    pool,
                    args.email,
                    args.groups.split(","),
                    expires_at=args.expires,
                    description=args.description,
                )
            except ValueError as exc:
                raise checks.CheckFailedError(str(exc)) from None
            until = f", expires {key.expires_at.isoformat(timespec='minutes')}" if key.expires_at else ""
            print(f"API key {key.id} for {key.email}{until}; shown once, keep it in a secret store:\n{token}")
            print("Callers send it as `Authorization: Bearer <key>`; the CLI reads DRIVE_INDEX_API_KEY.")
        elif args.action == "list":
            keys = await apikeys.list_keys(pool, include_inactive=args.all)
            print_rows([_apikey_row(key) for key in keys])
        elif not await apikeys.revoke(pool, args.id):
            raise checks.CheckFailedError(
                f"no active API key {args.id!r}; see `drive-index apikey list --all`"
            )
        else:
            print(f"API key {args.id} revoked; requests with it are refused from now on")
    return 0


def _apikey_row(key: Any) -> dict[str, object]:
    def when(value: datetime | None) -> str:
        return value.isoformat(timespec="minutes") if value else "-"

    return {
        "id": key.id,
        "email": key.email,
        "groups": ",".join(key.groups) or "-",
        "state": key.state(datetime.now(UTC)),
        "created": when(key.created_at),
        "expires": when(key.expires_at),
        "last used": when(key.last_used_at),
        "description": key.description or "-",
    }


async def smoke_command(args: argparse.Namespace) -> int:
    print("services:")
    names = ("webhook-gateway", "fetcher", "embedder", "search")
    urls = (args.gateway, args.fetcher, args.embedder, args.search)
    ready = [await checks.service_ready(name, url.rstrip("/")) for name, url in zip(names, urls, strict=True)]
    if not all(ready):
        raise checks.CheckFailedError("some services are not ready; see their /readyz above")
    print("webhook:")
    await _replay_webhook(args.gateway.rstrip("/"), args.source)
    if args.query:
        print("search:")
        hit = await checks.wait_for_hit(args.search.rstrip("/"), args.query, args.expect or "", args.timeout)
        checks.ok(f"{args.query!r} finds {hit['title']!r}", f"score {hit['score']:.3f}")
    print("smoke test passed")
    return 0


async def _replay_webhook(gateway: str, source_id: str) -> None:
    """Send a signed `change` notification through a throw-away channel, as Google would."""
    channel_id, token = f"smoke-{uuid.uuid4()}", secrets.token_urlsafe(24)
    async with _pool() as pool:
        await pool.execute("INSERT INTO sources (id) VALUES ($1) ON CONFLICT DO NOTHING", source_id)
        await pool.execute(
            "INSERT INTO watch_channels (id, source_id, token_sha256, address, expires_at, stopped_at)"
            " VALUES ($1, $2, $3, $4, now() + interval '10 minutes', NULL)",
            channel_id,
            source_id,
            token_digest(token),
            gateway,
        )
        try:
            headers = {
                "X-Goog-Channel-ID": channel_id,
                "X-Goog-Channel-Token": token,
                "X-Goog-Message-Number": "1",
                "X-Goog-Resource-ID": "smoke",
                "X-Goog-Resource-State": "change",
                "X-Goog-Resource-URI": "https://www.googleapis.com/drive/v3/changes",
            }
            status, body = checks.http_json(
                f"{gateway}/webhooks/google-drive", method="POST", body=b"", headers=headers
            )
        finally:
            await pool.execute("DELETE FROM watch_channels WHERE id = $1", channel_id)
    if status != 200:
        raise checks.CheckFailedError(f"the gateway answered {status} to a replayed webhook: {body}")
    checks.ok("replayed webhook queued", f"source {source_id}")


async def doctor_command(args: argparse.Namespace) -> int:
    from shared import doctor

    return await doctor.run(args)
