"""Notifications the gateway had to refuse during an outage, caught up as soon as it can queue.

Google retries a refused notification for a while and then drops it; a database or broker outage
longer than that would leave the change unread until the fetcher's next poll (minutes). So the
gateway remembers which channels it refused, and once the database and the broker answer again
it queues one `poll` per channel: reading the change feed from the stored cursor finds every
change the dropped notifications announced. A replica that restarts forgets; the poll remains.
"""

from __future__ import annotations

from datetime import UTC, datetime

import structlog

from shared.events import DriveChanged
from shared.kafka import EventPublisher
from webhook_gateway.ports import Channels

log = structlog.get_logger(__name__)

# A flood of made-up channel ids during an outage must not grow without bound.
MAX_MISSED = 10_000
CATCH_UP_SECONDS = 5.0


class Missed:
    """Channels whose notification was refused for an outage: channel id -> token digest sent."""

    def __init__(self) -> None:
        self.channels: dict[str, bytes] = {}

    def add(self, channel_id: str, token_sha256: bytes) -> None:
        if len(self.channels) < MAX_MISSED or channel_id in self.channels:
            self.channels[channel_id] = token_sha256


async def catch_up(missed: Missed, *, channels: Channels, publisher: EventPublisher) -> None:
    """Queue a poll for every refused channel that is real; keep those that still fail."""
    for channel_id, digest in list(missed.channels.items()):
        channel = await channels.find(channel_id)
        if channel is None or channel.stopped_at or not channel.has_token(digest):
            del missed.channels[channel_id]  # not a channel of ours: nothing to catch up
            continue
        event = DriveChanged(
            source_id=channel.source_id,
            resource_state="poll",
            channel_id=channel_id,
            received_at=datetime.now(UTC),
        )
        await publisher.publish(event)
        del missed.channels[channel_id]
        log.info("webhook.caught_up", channel_id=channel_id, source_id=channel.source_id)
