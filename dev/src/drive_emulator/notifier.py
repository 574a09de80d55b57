"""Push notifications, delivered like Google's: empty POSTs with X-Goog-* headers, retried on failure."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime
from email.utils import format_datetime

import aiohttp
import structlog

from drive_emulator.feeds import Feeds, Touched, in_scope
from drive_emulator.store import Channel, Store

log = structlog.get_logger(__name__)

USER_AGENT = "APIs-Google; (+https://developers.google.com/webmasters/APIs-Google.html)"
# Google retries only on these; any other failure is dropped.
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


def expiration_header(expiration_ms: int) -> str:
    """Google's RFC 1123 form, e.g. `Tue, 19 Nov 2013 01:13:52 GMT`."""
    return format_datetime(datetime.fromtimestamp(expiration_ms / 1000, UTC), usegmt=True)


def headers(channel: Channel, state: str, changed: str | None) -> dict[str, str]:
    """The headers of one notification; the message number advances per channel."""
    values = {
        "X-Goog-Channel-ID": channel.id,
        "X-Goog-Channel-Expiration": expiration_header(channel.expiration_ms),
        "X-Goog-Message-Number": str(channel.next_message_number()),
        "X-Goog-Resource-ID": channel.resource_id,
        "X-Goog-Resource-URI": channel.resource_uri,
        "X-Goog-Resource-State": state,
        "User-Agent": USER_AGENT,
    }
    if channel.token:
        values["X-Goog-Channel-Token"] = channel.token
    if changed:
        values["X-Goog-Changed"] = changed
    return values


def reaches(channel: Channel, touched: Touched) -> bool:
    """Whether an event put an entry into the feed the channel watches (its user's, its drive's)."""
    entries = touched.get(channel.subject, [])
    return any(in_scope(entry, channel.drive_id, channel.all_drives) for entry in entries)


class Notifier:
    """One ordered delivery queue per channel, so message numbers arrive in order."""

    def __init__(
        self,
        store: Store,
        feeds: Feeds,
        session: aiohttp.ClientSession,
        attempts: int = 5,
        backoff_seconds: float = 0.2,
    ) -> None:
        self._store = store
        self._session = session
        self._attempts = attempts
        self._backoff = backoff_seconds
        self._queues: dict[str, asyncio.Queue[dict[str, str]]] = {}
        self._workers: dict[str, asyncio.Task[None]] = {}
        feeds.on_change(self.changed)

    def watch(self, channel: Channel) -> None:
        """Start delivering to a new channel, beginning with Google's `sync` message."""
        queue: asyncio.Queue[dict[str, str]] = asyncio.Queue()
        self._queues[channel.id] = queue
        self._workers[channel.id] = asyncio.get_running_loop().create_task(self._deliver(channel, queue))
        queue.put_nowait(headers(channel, "sync", None))

    def stop(self, channel_id: str) -> None:
        """Stop delivering to a channel; undelivered messages are dropped, as after channels.stop."""
        self._queues.pop(channel_id, None)
        worker = self._workers.pop(channel_id, None)
        if worker:
            worker.cancel()

    def changed(self, what: str, touched: Touched) -> None:
        """Queue a `change` message for every open, unexpired channel whose feed the event reached."""
        for channel in list(self._store.channels.values()):
            queue = self._queues.get(channel.id)
            if queue is not None and not channel.expired() and reaches(channel, touched):
                queue.put_nowait(headers(channel, "change", what))

    async def close(self) -> None:
        """Cancel every delivery worker."""
        workers = list(self._workers.values())
        for worker in workers:
            worker.cancel()
        for worker in workers:
            with contextlib.suppress(asyncio.CancelledError):
                await worker

    async def _deliver(self, channel: Channel, queue: asyncio.Queue[dict[str, str]]) -> None:
        while True:
            message = await queue.get()
            if await self._post(channel, message):
                channel.delivered += 1
            else:
                channel.failed += 1

    async def _post(self, channel: Channel, message: dict[str, str]) -> bool:
        """POST one notification, retrying 5xx/429 and connection failures with backoff."""
        number = message["X-Goog-Message-Number"]
        for attempt in range(self._attempts):
            status: int | str
            try:
                async with self._session.post(channel.address, data=b"", headers=message) as response:
                    status = response.status
            except (aiohttp.ClientError, TimeoutError) as exc:
                status = type(exc).__name__
            if isinstance(status, int) and (200 <= status < 300 or status == 102):
                log.debug("notification.delivered", channel_id=channel.id, message_number=number)
                return True
            if (isinstance(status, int) and status not in RETRY_STATUSES) or attempt + 1 == self._attempts:
                break
            log.info("notification.retry", channel_id=channel.id, message_number=number, status=status)
            await asyncio.sleep(self._backoff * 2**attempt)
        log.warning("notification.dropped", channel_id=channel.id, message_number=number, status=status)
        return False
