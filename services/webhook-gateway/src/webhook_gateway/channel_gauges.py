"""Export how many watch channels are active and when the first expires, for the alert rules.

"No webhooks for hours" is only alarming while channels exist; "a channel expires within hours"
means the renew job is not running. Both need these gauges, refreshed in the background.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import asyncpg
import structlog
from aiohttp import web

from shared.web import POOL
from webhook_gateway import metrics
from webhook_gateway.adapters import channels

log = structlog.get_logger(__name__)

REFRESH_SECONDS = 60.0


async def refresh(pool: asyncpg.Pool) -> None:
    """Read the channels once and set the gauges."""
    active, expires_in = await channels.active_summary(pool)
    metrics.WATCH_CHANNELS_ACTIVE.set(active)
    metrics.WATCH_CHANNEL_EXPIRY_SECONDS.set(expires_in if expires_in is not None else float("inf"))


async def channel_gauges(app: web.Application) -> AsyncIterator[None]:
    """Refresh the gauges every minute for the app's lifetime."""

    async def loop() -> None:
        while True:
            try:
                await refresh(app[POOL])
            except Exception as exc:  # a metrics refresh must never take the gateway down
                metrics.DATABASE_ERRORS.labels("channel_gauges").inc()
                log.warning("channel_gauges.failed", error=repr(exc))
            await asyncio.sleep(REFRESH_SECONDS)

    task = asyncio.create_task(loop(), name="channel gauges")
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
