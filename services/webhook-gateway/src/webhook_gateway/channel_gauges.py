"""Export how many watch channels are active and when the first expires, for the alert rules.

"No webhooks for hours" is only alarming while channels exist; "a channel expires within hours"
means the renew job is not running. Both need these gauges, refreshed in the background.
"""

from __future__ import annotations

import structlog

from webhook_gateway import metrics
from webhook_gateway.ports import Channels

log = structlog.get_logger(__name__)

REFRESH_SECONDS = 60.0


async def refresh(channels: Channels) -> None:
    """Read the channels once and set the gauges."""
    active, expires_in = await channels.active_summary()
    metrics.WATCH_CHANNELS_ACTIVE.set(active)
    metrics.WATCH_CHANNEL_EXPIRY_SECONDS.set(expires_in if expires_in is not None else float("inf"))


async def refresh_or_count(channels: Channels) -> None:
    """Refresh the gauges; a failure is counted and logged, and the next round tries again."""
    try:
        await refresh(channels)
    except Exception as exc:  # a metrics refresh must never take the gateway down
        metrics.DATABASE_ERRORS.labels("channel_gauges").inc()
        log.warning("channel_gauges.failed", error=repr(exc))
