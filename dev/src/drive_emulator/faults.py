"""Injected faults: the next N matching API requests fail (or stall) the way Google's can."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from drive_emulator.resources import API_PREFIXES, google_error

API_PREFIX = "/drive/v3/"
DROP = 0  # a fault with status 0 closes the connection without answering
DEFAULT_REASONS = {
    400: ("badRequest", "Bad Request"),
    401: ("authError", "Invalid Credentials"),
    403: ("userRateLimitExceeded", "User rate limit exceeded."),
    404: ("notFound", "File not found."),
    429: ("rateLimitExceeded", "Rate limit exceeded."),
    500: ("backendError", "Backend Error"),
    502: ("backendError", "Bad Gateway"),
    503: ("backendError", "Service Unavailable"),
}


@dataclass
class Fault:
    """Answer the next `count` requests under `path_prefix` with `status` (after `delay_seconds`)."""

    status: int
    count: int = 1
    path_prefix: str = API_PREFIX
    method: str | None = None
    reason: str | None = None
    message: str | None = None
    delay_seconds: float = 0.0
    # Sent as the Retry-After header, as Google may on 429 and 503.
    retry_after: str | None = None

    @classmethod
    def from_json(cls, body: dict[str, Any]) -> Fault:
        fields = {
            "status",
            "count",
            "path_prefix",
            "method",
            "reason",
            "message",
            "delay_seconds",
            "retry_after",
        }
        unknown = set(body) - fields
        if unknown:
            raise ValueError(f"unknown fault fields: {sorted(unknown)}")
        return cls(**body)

    def matches(self, request: web.Request) -> bool:
        method_ok = self.method is None or self.method.upper() == request.method
        return self.count > 0 and method_ok and request.path.startswith(self.path_prefix)

    def response(self) -> web.Response:
        default_reason, default_message = DEFAULT_REASONS.get(self.status, ("unknown", "Error"))
        response = google_error(self.status, self.reason or default_reason, self.message or default_message)
        if self.retry_after is not None:
            response.headers["Retry-After"] = self.retry_after
        return response

    def as_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


FAULTS = web.AppKey("faults", list[Fault])
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def inject_faults(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Fail an API request if a pending fault matches it; the control API is never faulted."""
    if request.path.startswith(API_PREFIXES):
        for fault in request.app[FAULTS]:
            if fault.matches(request):
                fault.count -= 1
                if fault.delay_seconds:
                    await asyncio.sleep(fault.delay_seconds)
                if fault.status == DROP:
                    if request.transport:
                        request.transport.close()
                    return web.Response()  # never sent: the connection is gone
                # A 2xx "fault" only adds latency: the request then runs normally.
                if fault.status >= 300:
                    return fault.response()
                break
    return await handler(request)
