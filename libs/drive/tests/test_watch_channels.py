"""Channel management against the Drive emulator and a real database: start, replace, renew, stop."""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import timedelta

import asyncpg
import pytest

from drive import watch
from drive.client import DriveClient
from drive_emulator import EmulatorControl, EmulatorServer
from shared.channel_tokens import token_digest


@pytest.fixture
def source() -> str:
    return f"src-{uuid.uuid4().hex[:8]}"


def open_channels(drive_server: EmulatorServer) -> dict[str, str]:
    return {c["id"]: c["address"] for c in EmulatorControl(drive_server.url).channels()}


async def test_start_registers_a_channel_and_keeps_only_the_token_hash(
    pool: asyncpg.Pool, drive_client: DriveClient, drive_server: EmulatorServer, source: str
) -> None:
    channel = await watch.start(pool, drive_client, source, "http://127.0.0.1:9/hook", timedelta(hours=2))
    assert open_channels(drive_server)[channel.id] == "http://127.0.0.1:9/hook"
    assert channel.resource_id
    assert channel.expires_at
    token = next(c["token"] for c in EmulatorControl(drive_server.url).channels() if c["id"] == channel.id)
    stored = await pool.fetchval("SELECT token_sha256 FROM watch_channels WHERE id = $1", channel.id)
    assert stored == token_digest(token)  # what the gateway compares
    assert token.encode() not in stored
    # The source now has a page token, so nothing that changes from here on is missed.
    assert await pool.fetchval("SELECT page_token FROM sources WHERE id = $1", source)


async def test_a_new_address_replaces_the_old_channel(
    pool: asyncpg.Pool, drive_client: DriveClient, drive_server: EmulatorServer, source: str
) -> None:
    old = await watch.start(pool, drive_client, source, "http://127.0.0.1:9/old")
    new = await watch.start(pool, drive_client, source, "http://127.0.0.1:9/new")
    assert old.id not in open_channels(drive_server)
    assert new.id in open_channels(drive_server)
    assert [c.id for c in await watch.list_channels(pool, source)] == [new.id]


async def test_renew_replaces_channels_about_to_expire(
    pool: asyncpg.Pool, drive_client: DriveClient, drive_server: EmulatorServer, source: str
) -> None:
    lasting = await watch.start(pool, drive_client, source, "http://127.0.0.1:9/hook", timedelta(days=5))
    other = f"{source}-b"
    expiring = await watch.start(pool, drive_client, other, "http://127.0.0.1:9/hook", timedelta(hours=1))
    renewed = await watch.renew(pool, drive_client, within=timedelta(days=1))
    assert [c.source_id for c in renewed if c.source_id in (source, other)] == [other]
    active = {c.id for c in await watch.list_channels(pool)}
    assert lasting.id in active
    assert expiring.id not in active
    assert expiring.id not in open_channels(drive_server)


async def test_stop_ends_the_channel_at_drive_and_here(
    pool: asyncpg.Pool, drive_client: DriveClient, drive_server: EmulatorServer, source: str
) -> None:
    channel = await watch.start(pool, drive_client, source, "http://127.0.0.1:9/hook")
    await watch.stop(pool, drive_client, channel)
    assert channel.id not in open_channels(drive_server)
    stopped = await watch.get(pool, channel.id)
    assert stopped is not None
    assert stopped.stopped_at is not None


async def test_channels_opened_together_come_due_over_a_day(
    pool: asyncpg.Pool, drive_client: DriveClient, source: str
) -> None:
    channels = [
        await watch.start(pool, drive_client, f"{source}-{i}", "http://127.0.0.1:9/hook") for i in range(30)
    ]
    expiries = sorted(c.expires_at for c in channels if c.expires_at)
    assert len(expiries) == 30
    assert expiries[-1] - channels[-1].created_at <= watch.MAX_TTL  # Drive's limit is kept
    # Renewed a day before expiry by an hourly job, 30 channels opened in one go would all be
    # renewed in one run; spread, they come due over many hours.
    assert expiries[-1] - expiries[0] > timedelta(hours=12)
    due_per_hour = Counter(int(e.timestamp() // 3600) for e in expiries)
    assert max(due_per_hour.values()) < 10
