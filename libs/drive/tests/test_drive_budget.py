"""Drive call budgets shared through PostgreSQL: calls past a minute's budget wait for the next
minute, whoever makes them; a server's Retry-After is honoured."""

from __future__ import annotations

import asyncio
import math
import time
import uuid

import asyncpg
import pytest

from drive.budget import PostgresBudget
from drive.client import DriveClient, DriveSettings
from drive_emulator import EmulatorControl, EmulatorServer

# Tests start this many seconds before a minute ends, so a spent budget is waited out quickly.
BEFORE_MINUTE_ENDS = 0.6


def near_minute_end() -> float:
    """A clock offset that puts "now" just before a minute boundary, then runs in real time."""
    now = time.time()
    return math.ceil(now / 60) * 60 + 60 - BEFORE_MINUTE_ENDS - now


def budget(pool: asyncpg.Pool, per_minute: int, per_user: int, offset: float) -> PostgresBudget:
    return PostgresBudget(
        pool,
        per_minute=per_minute,
        per_user_per_minute=per_user,
        clock=lambda: time.time() + offset,
        spread_seconds=0.0,
    )


async def calls(pool: asyncpg.Pool, key: str) -> list[int]:
    rows = await pool.fetch("SELECT calls FROM drive_call_budget WHERE key = $1 ORDER BY window_start", key)
    return [row["calls"] for row in rows]


@pytest.fixture
async def fresh(pool: asyncpg.Pool) -> asyncpg.Pool:
    await pool.execute("DELETE FROM drive_call_budget")
    return pool


async def test_replicas_share_the_project_budget_and_the_rest_wait_for_the_next_minute(
    fresh: asyncpg.Pool,
) -> None:
    offset = near_minute_end()
    replicas = [budget(fresh, 5, 0, offset), budget(fresh, 5, 0, offset)]
    started = time.monotonic()
    done: list[float] = []

    async def spend(replica: PostgresBudget, user: str) -> None:
        await replica.spend(user)
        done.append(time.monotonic() - started)

    await asyncio.gather(*(spend(replicas[i % 2], f"u{i}@corp.example") for i in range(8)))
    assert await calls(fresh, "project") == [5, 3]  # five this minute, three the next
    assert sorted(done)[4] < BEFORE_MINUTE_ENDS  # the first five did not wait
    assert sorted(done)[5] >= BEFORE_MINUTE_ENDS - 0.1  # the others waited for the minute to turn


async def test_one_busy_user_waits_while_others_go_on(fresh: asyncpg.Pool) -> None:
    offset = near_minute_end()
    limits = budget(fresh, 100, 2, offset)
    busy, other = f"a{uuid.uuid4().hex[:6]}@corp.example", f"b{uuid.uuid4().hex[:6]}@corp.example"
    await limits.spend(busy)
    await limits.spend(busy)
    third = asyncio.create_task(limits.spend(busy))
    started = time.monotonic()
    await asyncio.gather(*(limits.spend(other) for _ in range(2)))
    assert time.monotonic() - started < BEFORE_MINUTE_ENDS / 2  # not held up by the busy user
    assert not third.done()
    await third
    assert await calls(fresh, f"user:{busy}") == [2, 1]
    # A refused attempt took nothing from the project: 2 + 2 this minute, then the waited one.
    assert await calls(fresh, "project") == [4, 1]


async def test_a_zero_limit_is_no_budget(fresh: asyncpg.Pool) -> None:
    limits = budget(fresh, 0, 0, 0.0)
    await asyncio.wait_for(asyncio.gather(*(limits.spend("x@corp.example") for _ in range(50))), 2)
    assert await fresh.fetchval("SELECT count(*) FROM drive_call_budget") == 0


async def test_the_drive_client_spends_as_the_user_it_acts_as(
    fresh: asyncpg.Pool, drive_server: EmulatorServer
) -> None:
    settings = DriveSettings(
        drive_api_endpoint=f"{drive_server.url}/drive/v3/", google_subject="carol@corp.example"
    )
    limits = budget(fresh, 1000, 1000, 0.0)
    async with DriveClient.from_settings(settings, budget=limits) as drive:
        for _ in range(3):
            await drive.get_start_page_token()
    assert sum(await calls(fresh, "user:carol@corp.example")) == 3
    assert sum(await calls(fresh, "project")) == 3


async def test_retry_after_is_honoured(drive_server: EmulatorServer) -> None:
    EmulatorControl(drive_server.url).fault(429, retry_after="2")
    settings = DriveSettings(
        drive_api_endpoint=f"{drive_server.url}/drive/v3/",
        drive_backoff_seconds=0.01,
        drive_max_backoff_seconds=0.01,
    )
    async with DriveClient.from_settings(settings) as drive:
        started = time.monotonic()
        await drive.get_start_page_token()
    assert time.monotonic() - started >= 2.0  # the backoff alone would have waited 10 ms
