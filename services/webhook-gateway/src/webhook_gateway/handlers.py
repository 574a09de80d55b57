"""The push-notification endpoint: verify, publish `drive.changed`, answer only once it is queued."""

from __future__ import annotations

import asyncio
import hmac
import time
from datetime import UTC, datetime

import structlog
from aiohttp import web

from shared import topics
from shared.events import DriveChanged
from shared.watch import token_digest
from shared.web import POOL, PUBLISHER, json_error
from webhook_gateway import catch_up, metrics, notification
from webhook_gateway.adapters import channels
from webhook_gateway.notification import PROTOCOL, Notification
from webhook_gateway.settings import GatewaySettings

log = structlog.get_logger(__name__)

GATEWAY_SETTINGS = web.AppKey("gateway_settings", GatewaySettings)
# Seconds Google should wait before retrying a notification we could not queue.
RETRY_AFTER = "10"


class RefusedError(Exception):
    """A notification the gateway does not accept; carries the answer to give."""

    def __init__(self, status: int, outcome: str, error: str, detail: str) -> None:
        super().__init__(detail)
        self.status, self.outcome, self.error, self.detail = status, outcome, error, detail


async def google_drive(request: web.Request) -> web.Response:
    """Handle one push notification and log one summary line for it."""
    started = time.perf_counter()
    with structlog.contextvars.bound_contextvars(**notification.log_context(request.headers)):
        try:
            outcome = await _accept(request)
        except RefusedError as refusal:
            response, outcome = _refusal_response(refusal), refusal.outcome
            if refusal.status == 503:
                _remember(request)
            report = log.error if refusal.status >= 500 else log.warning
            report(
                "webhook.refused",
                outcome=outcome,
                status=refusal.status,
                detail=refusal.detail,
                took_ms=_ms_since(started),
            )
        else:
            response = web.json_response({"outcome": outcome})
            log.info("webhook.accepted", outcome=outcome, status=200, took_ms=_ms_since(started))
    metrics.WEBHOOKS.labels(outcome).inc()
    return response


async def _accept(request: web.Request) -> str:
    settings = request.app[GATEWAY_SETTINGS]
    await _check_body(request, settings.gateway_max_body_bytes)
    try:
        note = notification.parse(request.headers)
    except notification.MalformedError as exc:
        raise RefusedError(400, "malformed", "malformed notification", f"{exc}; see {PROTOCOL}") from None
    channel = await _verified_channel(request, note)
    if note.resource_state != "sync":  # `sync` only says the channel works: nothing changed yet
        await _publish(request, channel, note)
    await _record(request, note)
    return "sync" if note.resource_state == "sync" else "published"


async def _check_body(request: web.Request, max_bytes: int) -> None:
    # Read at most one byte past the limit, so a huge or endless body costs nothing.
    body = await request.content.read(max_bytes + 1)
    if len(body) > max_bytes or (request.content_length or 0) > max_bytes:
        raise RefusedError(
            413,
            "too_large",
            "body too large",
            f"Drive notifications have an empty body; this endpoint takes at most {max_bytes} bytes",
        )


async def _verified_channel(request: web.Request, note: Notification) -> channels.KnownChannel:
    try:
        channel = await channels.find(request.app[POOL], note.channel_id)
    except Exception as exc:  # any database failure: Google should try again later
        metrics.DATABASE_ERRORS.labels("find_channel").inc()
        raise RefusedError(
            503,
            "unavailable",
            "database unavailable",
            f"could not look the channel up ({type(exc).__name__}); retry later",
        ) from exc
    if channel is None or channel.stopped_at is not None:
        state = "was stopped" if channel else "is not registered"
        raise RefusedError(
            404,
            "unknown_channel",
            "unknown channel",
            f"channel {note.channel_id[:80]} {state}; stop it at Google (channels.stop) or register a "
            "new one with `drive-index watch start`",
        )
    if not note.token or not hmac.compare_digest(token_digest(note.token), channel.token_sha256):
        raise RefusedError(
            403,
            "forbidden",
            "bad channel token",
            "X-Goog-Channel-Token is missing or differs from the token registered for this channel; "
            "re-register the channel with `drive-index watch start`",
        )
    return channel


async def _publish(request: web.Request, channel: channels.KnownChannel, note: Notification) -> None:
    timeout = request.app[GATEWAY_SETTINGS].gateway_publish_timeout_seconds
    event = DriveChanged(
        source_id=channel.source_id,
        resource_state=note.resource_state,
        channel_id=note.channel_id,
        message_number=note.message_number,
        resource_id=note.resource_id,
        received_at=datetime.now(UTC),
        request_id=structlog.contextvars.get_contextvars().get("request_id"),
    )
    try:
        # A timed-out send may still reach the broker later; Google's retry then duplicates the
        # event, which is harmless: consumers read the change feed from their stored cursor.
        await asyncio.wait_for(
            request.app[PUBLISHER].publish(topics.DRIVE_CHANGED, channel.source_id, event), timeout
        )
    except Exception as exc:  # timeout or any Kafka error: the change is not queued
        raise RefusedError(
            503,
            "unavailable",
            "cannot queue the change",
            f"Kafka did not acknowledge within {timeout:g}s ({type(exc).__name__}); "
            "Google retries with backoff",
        ) from exc


async def _record(request: web.Request, note: Notification) -> None:
    try:
        await channels.record_message(request.app[POOL], note.channel_id, note.message_number)
    except Exception as exc:  # bookkeeping only: the event is already queued
        metrics.DATABASE_ERRORS.labels("record_message").inc()
        log.warning("channel.record_failed", error=repr(exc))


def _remember(request: web.Request) -> None:
    """Note a channel whose notification an outage made us refuse, to catch it up afterwards."""
    channel_id, token = request.headers.get("X-Goog-Channel-ID"), request.headers.get("X-Goog-Channel-Token")
    if channel_id and token:
        request.app[catch_up.MISSED].add(channel_id, token_digest(token))


def _refusal_response(refusal: RefusedError) -> web.Response:
    headers = {"Retry-After": RETRY_AFTER} if refusal.status == 503 else None
    return json_error(refusal.status, refusal.error, refusal.detail, headers)


def _ms_since(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 1)
