"""`drive-index doctor`: check every dependency and say what to do about each failure."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime, timedelta

import asyncpg
from aiokafka.admin import AIOKafkaAdminClient

from drive import watch
from drive_index_cli import checks
from shared import db, topics
from shared.settings import CommonSettings, SettingsError, load

# Google sends nothing while nothing changes; a long silence on an active channel still deserves a look.
QUIET_WEBHOOKS = timedelta(hours=6)


async def doctor_command(args: argparse.Namespace) -> int:
    failures = 0
    print("settings:")
    try:
        settings = load(CommonSettings)
        checks.ok("DATABASE_URL and KAFKA_BOOTSTRAP_SERVERS set")
    except SettingsError as exc:
        checks.fail("settings", str(exc))
        return 1
    print("database:")
    failures += await _database(settings)
    print("broker:")
    failures += await _broker(settings)
    print("drive:")
    failures += await _drive()
    print("services:")
    for name, url in (
        ("webhook-gateway", args.gateway),
        ("fetcher", args.fetcher),
        ("embedder", args.embedder),
        ("search", args.search),
    ):
        failures += 0 if await checks.service_ready(name, url.rstrip("/")) else 1
    print("all checks passed" if not failures else f"{failures} check(s) failed")
    return 1 if failures else 0


async def _database(settings: CommonSettings) -> int:
    try:
        connection = await asyncpg.connect(settings.database_url, timeout=5)
    except (OSError, asyncpg.PostgresError) as exc:
        checks.fail("connect", f"{exc}; check DATABASE_URL and that PostgreSQL runs")
        return 1
    try:
        version = await connection.fetchval("SELECT extversion FROM pg_extension WHERE extname = 'vector'")
        applied = await connection.fetchval("SELECT count(*) FROM schema_migrations") if version else 0
        pending = len(db.migration_files(db.default_migrations_dir())) - int(applied or 0)
        if not version:
            checks.fail("pgvector", "extension missing: run `drive-index migrate`")
            return 1
        checks.ok("pgvector", version)
        if pending > 0:
            checks.fail("migrations", f"{pending} pending: run `drive-index migrate`")
            return 1
        checks.ok("migrations", f"{applied} applied")
        await _failing_files(connection)
        return await _channels(connection)
    finally:
        await connection.close()


async def _failing_files(connection: asyncpg.Connection) -> None:
    """Warn about files the fetcher could not read, and indexed files nobody can find."""
    rows = await connection.fetch(
        "SELECT kind, count(*) AS files, min(first_failed_at) AS since FROM fetch_failures GROUP BY kind"
    )
    for row in rows:
        advice = "retried on a schedule" if row["kind"] == "transient" else "retried when the file changes"
        checks.warn(
            f"{row['files']} file(s) failing ({row['kind']})",
            f"since {row['since']:%Y-%m-%d %H:%M}, {advice}; `drive-index status FILE` tells why",
        )
    unreadable = await connection.fetchval("SELECT count(*) FROM file_access WHERE reason IS NOT NULL")
    if unreadable:
        checks.warn(
            f"{unreadable} file(s) visible to nobody",
            "their permissions could not be read; give the service account access to their sharing",
        )
    if not rows and not unreadable:
        checks.ok("files", "none failing")


async def _channels(connection: asyncpg.Connection) -> int:
    rows = await watch.list_channels(connection)
    if not rows:
        checks.warn("watch channels", "none active: run `drive-index watch start`")
        return 0
    now, problems = datetime.now(UTC), 0
    for row in rows:
        if row.expires_at and row.expires_at < now:
            checks.fail(f"channel {row.id}", "expired: run `drive-index watch renew`")
            problems += 1
        elif row.expires_at and row.expires_at < now + timedelta(days=1):
            checks.warn(f"channel {row.id}", "expires within a day: run `drive-index watch renew`")
        last = row.last_message_at or row.created_at
        if now - last > QUIET_WEBHOOKS:
            checks.warn(
                f"channel {row.id}", f"no webhook since {last:%Y-%m-%d %H:%M}; is the address reachable?"
            )
    if not problems:
        checks.ok("watch channels", f"{len(rows)} active")
    return problems


async def _broker(settings: CommonSettings) -> int:
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap_servers, request_timeout_ms=5000)
    try:
        await admin.start()
        existing = set(await admin.list_topics())
    except Exception as exc:  # any client error means the broker is not usable from here
        checks.fail("connect", f"{exc!r}; check KAFKA_BOOTSTRAP_SERVERS")
        return 1
    finally:
        await admin.close()
    wanted = [topics.with_prefix(settings.kafka_topic_prefix, t) for t in topics.ALL]
    missing = [t for name in wanted for t in (name, topics.dead_letter(name)) if t not in existing]
    if missing:
        checks.fail("topics", f"missing {missing}: run `drive-index topics`")
        return 1
    checks.ok("topics", ", ".join(wanted))
    return 0


async def _drive() -> int:
    try:
        from drive.client import DriveClient, DriveSettings

        async with DriveClient.from_settings(load(DriveSettings)) as drive:
            token = await drive.get_start_page_token()
    except Exception as exc:  # report whatever stops us from reading Drive
        checks.fail("changes API", f"{exc!r}; check DRIVE_API_ENDPOINT / GOOGLE_APPLICATION_CREDENTIALS")
        return 1
    checks.ok("changes API", f"start page token {token}")
    return 0
