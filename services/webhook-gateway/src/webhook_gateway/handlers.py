"""The push-notification endpoint: read the request, accept it, answer and log one summary line.

Answers 2xx only once the event is queued (accept.py decides); every refusal gets the project's
JSON error shape, and 503 tells Google to retry.
"""

from __future__ import annotations

import time

import structlog
from aiohttp import web

from shared.web import json_error
from webhook_gateway import metrics, notification
from webhook_gateway.accept import Outcome, accept
from webhook_gateway.catch_up import Missed
from webhook_gateway.errors import (
    BadTokenError,
    BodyTooLargeError,
    MalformedNotificationError,
    RefusedError,
    UnavailableError,
    UnknownChannelError,
)
from webhook_gateway.notification import PROTOCOL, Notification
from webhook_gateway.ports import Ports
from webhook_gateway.settings import GatewaySettings

log = structlog.get_logger(__name__)

GATEWAY_SETTINGS = web.AppKey("gateway_settings", GatewaySettings)
PORTS = web.AppKey("ports", Ports)
MISSED = web.AppKey("missed", Missed)
# Seconds Google should wait before retrying a notification we could not queue.
RETRY_AFTER = "10"
STATUS: tuple[tuple[type[RefusedError], int], ...] = (
    (MalformedNotificationError, 400),
    (BadTokenError, 403),
    (UnknownChannelError, 404),
    (BodyTooLargeError, 413),
    (UnavailableError, 503),  # Google retries only on 500, 502, 503 and 504
)


async def google_drive(request: web.Request) -> web.Response:
    """Handle one push notification and log one summary line for it."""
    started = time.perf_counter()
    context = notification.log_context(request.headers)
    with structlog.contextvars.bound_contextvars(**context):
        try:
            outcome: str = (await _accept(request, context["request_id"])).value
        except RefusedError as refusal:
            outcome, status = refusal.outcome, _status(refusal)
            report = log.error if status >= 500 else log.warning
            report(
                "webhook.refused", outcome=outcome, status=status, detail=refusal.detail, took_ms=_ms(started)
            )
            response = _refusal_response(refusal, status)
        else:
            response = web.json_response({"outcome": outcome})
            log.info("webhook.accepted", outcome=outcome, status=200, took_ms=_ms(started))
    metrics.WEBHOOKS.labels(outcome).inc()
    return response


async def _accept(request: web.Request, request_id: str | None) -> Outcome:
    settings, ports = request.app[GATEWAY_SETTINGS], request.app[PORTS]
    note = await _read(request, settings.gateway_max_body_bytes)
    return await accept(
        note,
        channels=ports.channels,
        publisher=ports.publisher,
        missed=request.app[MISSED],
        publish_timeout=settings.gateway_publish_timeout_seconds,
        request_id=request_id,
    )


async def _read(request: web.Request, max_body_bytes: int) -> Notification:
    """Read the notification from the headers; the body must be empty, or at least small."""
    # Read at most one byte past the limit, so a huge or endless body costs nothing.
    body = await request.content.read(max_body_bytes + 1)
    if len(body) > max_body_bytes or (request.content_length or 0) > max_body_bytes:
        raise BodyTooLargeError(
            f"Drive notifications have an empty body; this endpoint takes at most {max_body_bytes} bytes"
        )
    try:
        return notification.parse(request.headers)
    except notification.MalformedError as exc:
        raise MalformedNotificationError(f"{exc}; see {PROTOCOL}") from None


def _status(refusal: RefusedError) -> int:
    return next(status for kind, status in STATUS if isinstance(refusal, kind))


def _refusal_response(refusal: RefusedError, status: int) -> web.Response:
    headers = {"Retry-After": RETRY_AFTER} if refusal.retriable else None
    return json_error(status, refusal.error, refusal.detail, headers)


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 1)
