"""Accept one push notification: verify its channel, queue `drive.changed`, note the message.

No HTTP here: a refusal is raised as an `errors.RefusedError`, and the caller decides how to answer.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from enum import StrEnum

import structlog

from shared.channel_tokens import token_digest
from shared.events import DriveChanged
from shared.kafka import EventPublisher
from webhook_gateway import metrics
from webhook_gateway.catch_up import Missed
from webhook_gateway.errors import (
    BadTokenError,
    CannotQueueError,
    DatabaseUnavailableError,
    UnavailableError,
    UnknownChannelError,
)
from webhook_gateway.notification import Notification
from webhook_gateway.ports import Channels, KnownChannel

log = structlog.get_logger(__name__)


class Outcome(StrEnum):
    """What became of an accepted notification."""

    SYNC = "sync"  # a channel's first message: it works, nothing changed yet
    PUBLISHED = "published"  # the broker acknowledged drive.changed


async def accept(
    note: Notification,
    *,
    channels: Channels,
    publisher: EventPublisher,
    missed: Missed,
    publish_timeout: float,
    request_id: str | None = None,
) -> Outcome:
    """Return once the change is durably queued; raise `RefusedError` when it is not.

    A notification refused for an outage is remembered in `missed`, so it is caught up later.
    """
    try:
        channel = await verified_channel(note, channels)
        if note.resource_state != "sync":  # `sync` only says the channel works: nothing changed yet
            await publish(note, channel, publisher, publish_timeout, request_id)
    except UnavailableError:
        if note.token:  # checked again before the catch-up: a forged token is dropped then
            missed.add(note.channel_id, token_digest(note.token))
        raise
    await record(note, channels)
    return Outcome.SYNC if note.resource_state == "sync" else Outcome.PUBLISHED


async def verified_channel(note: Notification, channels: Channels) -> KnownChannel:
    """Return the active channel the notification names, if its token is the registered one."""
    try:
        channel = await channels.find(note.channel_id)
    except Exception as exc:  # any database failure: Google should try again later
        metrics.DATABASE_ERRORS.labels("find_channel").inc()
        raise DatabaseUnavailableError(
            f"could not look the channel up ({type(exc).__name__}); retry later"
        ) from exc
    if channel is None or channel.stopped_at is not None:
        state = "was stopped" if channel else "is not registered"
        raise UnknownChannelError(
            f"channel {note.channel_id[:80]} {state}; stop it at Google (channels.stop) or register a "
            "new one with `drive-index watch start`"
        )
    if not note.token or not channel.has_token(token_digest(note.token)):
        raise BadTokenError(
            "X-Goog-Channel-Token is missing or differs from the token registered for this channel; "
            "re-register the channel with `drive-index watch start`"
        )
    return channel


async def publish(
    note: Notification,
    channel: KnownChannel,
    publisher: EventPublisher,
    publish_timeout: float,
    request_id: str | None,
) -> None:
    """Publish drive.changed for the channel's source; raise CannotQueueError if not acknowledged in time."""
    event = DriveChanged(
        source_id=channel.source_id,
        resource_state=note.resource_state,
        channel_id=note.channel_id,
        message_number=note.message_number,
        resource_id=note.resource_id,
        received_at=datetime.now(UTC),
        request_id=request_id,
    )
    try:
        # A timed-out send may still reach the broker later; Google's retry then duplicates the
        # event, which is harmless: consumers read the change feed from their stored cursor.
        async with asyncio.timeout(publish_timeout):
            await publisher.publish(event)
    except Exception as exc:  # timeout or any Kafka error: the change is not queued
        raise CannotQueueError(
            f"Kafka did not acknowledge within {publish_timeout:g}s ({type(exc).__name__}); "
            "Google retries with backoff"
        ) from exc


async def record(note: Notification, channels: Channels) -> None:
    """Note the channel's message number; bookkeeping only, so a failure refuses nothing."""
    try:
        await channels.record_message(note.channel_id, note.message_number)
    except Exception as exc:  # the event is already queued
        metrics.DATABASE_ERRORS.labels("record_message").inc()
        log.warning("channel.record_failed", error=repr(exc))
