"""The channel gauges that let alerts tell "no channels" from "channels but no webhooks"."""

from __future__ import annotations

import uuid

import asyncpg
from prometheus_client import REGISTRY

from shared.watch import token_digest
from webhook_gateway.channel_gauges import refresh


def gauge(name: str) -> float:
    value = REGISTRY.get_sample_value(name)
    assert value is not None
    return value


async def test_active_channels_and_the_first_expiry_are_exported(pool: asyncpg.Pool) -> None:
    source = f"src-{uuid.uuid4().hex[:8]}"
    await pool.execute("INSERT INTO sources (id) VALUES ($1)", source)
    await refresh(pool)
    before = gauge("drive_index_watch_channels_active")

    for hours, stopped in ((3, False), (30, False), (1, True)):
        await pool.execute(
            """INSERT INTO watch_channels (id, source_id, token_sha256, address, expires_at, stopped_at)
               VALUES ($1, $2, $3, 'https://example.test/hook', now() + make_interval(hours => $4),
                       CASE WHEN $5 THEN now() END)""",
            str(uuid.uuid4()),
            source,
            token_digest("t"),
            hours,
            stopped,
        )
    await refresh(pool)
    assert gauge("drive_index_watch_channels_active") == before + 2
    # Other tests' channels may expire sooner, never later than this test's 3-hour one.
    assert 0 < gauge("drive_index_watch_channel_expiry_seconds") <= 3 * 3600
