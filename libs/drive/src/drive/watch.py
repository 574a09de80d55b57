"""Drive push-notification channels: register, renew, stop and list them.

A channel's token is a secret shared with Google and checked by the gateway; only its SHA-256 is
stored. Channels expire (at most a week for changes.watch), so `renew` replaces those about to.
"""

from __future__ import annotations

import random
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol, runtime_checkable

import asyncpg
import structlog

from drive import models
from shared.channel_tokens import token_digest

log = structlog.get_logger(__name__)

# Drive refuses changes.watch expirations further than a week ahead.
MAX_TTL = timedelta(days=7)
# Each channel asks for up to this share less than its TTL, at random. Channels opened together
# (a thousand by one `sources sync`) then come due for renewal over a day, not in one hour.
EXPIRY_SPREAD = 0.15


class WatchingDrive(Protocol):
    """What channel management needs from Drive."""

    async def get_start_page_token(self) -> str: ...

    async def watch_changes(
        self, page_token: str, channel_id: str, address: str, token: str, expiration_ms: int | None = None
    ) -> models.Channel: ...

    async def stop_channel(self, channel_id: str, resource_id: str) -> None: ...


@runtime_checkable
class WatchingDrives(Protocol):
    """The Drive client of each source (drive.clients.DriveClients): as its user, on its drive."""

    def for_source(self, source_id: str) -> WatchingDrive: ...


Drives = WatchingDrive | WatchingDrives


def drive_of(drives: Drives, source_id: str) -> WatchingDrive:
    """The client that watches `source_id`: its own identity and scope, or the one client given."""
    return drives.for_source(source_id) if isinstance(drives, WatchingDrives) else drives


@dataclass(frozen=True)
class Channel:
    id: str
    source_id: str
    address: str
    resource_id: str | None
    expires_at: datetime | None
    created_at: datetime
    stopped_at: datetime | None
    last_message_number: int | None
    last_message_at: datetime | None


async def cursor(pool: asyncpg.Pool, drive: Drives, source_id: str) -> str:
    """Return the source's page token (creating the source), taking Drive's current one if none yet.

    A channel opened from the stored cursor announces exactly the changes the fetcher reads next.
    """
    # Imported here: source_admin stops channels through this module when it removes a source.
    from drive import source_admin

    await source_admin.ensure(pool, source_id)
    token = await pool.fetchval("SELECT page_token FROM sources WHERE id = $1", source_id)
    if token is None:
        token = await drive_of(drive, source_id).get_start_page_token()
        await pool.execute(
            "UPDATE sources SET page_token = $2, updated_at = now() WHERE id = $1 AND page_token IS NULL",
            source_id,
            token,
        )
        token = await pool.fetchval("SELECT page_token FROM sources WHERE id = $1", source_id)
    return str(token)


async def start(
    pool: asyncpg.Pool, drive: Drives, source_id: str, address: str, ttl: timedelta = MAX_TTL
) -> Channel:
    """Register a new channel for `address`, then stop the source's channels that point elsewhere."""
    page_token = await cursor(pool, drive, source_id)
    channel_id = str(uuid.uuid4())
    asked = datetime.now(UTC) + min(ttl, MAX_TTL) * (1 - random.uniform(0, EXPIRY_SPREAD))
    expires_at = await _open(
        pool,
        drive_of(drive, source_id),
        source_id=source_id,
        channel_id=channel_id,
        address=address,
        page_token=page_token,
        expires_at=asked,
    )
    log.info(
        "channel.started",
        channel_id=channel_id,
        source_id=source_id,
        address=address,
        expires_at=expires_at.isoformat(),
    )
    for old in await list_channels(pool, source_id):
        if old.id != channel_id and old.address != address:
            await stop(pool, drive, old)
    return await get(pool, channel_id)  # type: ignore[return-value]  # it was just inserted


async def _open(
    pool: asyncpg.Pool,
    drive: WatchingDrive,
    *,
    source_id: str,
    channel_id: str,
    address: str,
    page_token: str,
    expires_at: datetime,
) -> datetime:
    """Record the channel, then ask Drive to open it; return when Drive says it expires."""
    token = secrets.token_urlsafe(32)
    # The row exists before Drive is asked, because Drive sends the `sync` message at once.
    await record(pool, channel_id, source_id=source_id, address=address, token=token, expires_at=expires_at)
    try:
        opened = await drive.watch_changes(
            page_token, channel_id, address, token, int(expires_at.timestamp() * 1000)
        )
    except BaseException:
        await forget(pool, channel_id)
        raise
    expires_at = opened.expiration or expires_at  # Drive may grant less than was asked
    await pool.execute(
        "UPDATE watch_channels SET resource_id = $2, expires_at = $3 WHERE id = $1",
        channel_id,
        opened.resource_id,
        expires_at,
    )
    return expires_at


async def record(
    pool: asyncpg.Pool, channel_id: str, *, source_id: str, address: str, token: str, expires_at: datetime
) -> None:
    """Store a channel the gateway will accept notifications for (the token only as its hash)."""
    await pool.execute(
        "INSERT INTO watch_channels (id, source_id, token_sha256, address, expires_at)"
        " VALUES ($1, $2, $3, $4, $5)",
        channel_id,
        source_id,
        token_digest(token),
        address,
        expires_at,
    )


async def forget(pool: asyncpg.Pool, channel_id: str) -> None:
    """Delete a channel that never opened (or a smoke test's throw-away one)."""
    await pool.execute("DELETE FROM watch_channels WHERE id = $1", channel_id)


async def stop(pool: asyncpg.Pool, drive: Drives, channel: Channel) -> None:
    """Stop a channel at Drive (if Drive still knows it) and mark it stopped."""
    if channel.resource_id:
        try:
            await drive_of(drive, channel.source_id).stop_channel(channel.id, channel.resource_id)
        except Exception as exc:  # an expired or unknown channel is already stopped at Drive
            log.warning("channel.stop_failed", channel_id=channel.id, error=repr(exc))
    await pool.execute("UPDATE watch_channels SET stopped_at = now() WHERE id = $1", channel.id)
    log.info("channel.stopped", channel_id=channel.id, address=channel.address)


async def renew(
    pool: asyncpg.Pool, drive: Drives, within: timedelta = timedelta(days=1), ttl: timedelta = MAX_TTL
) -> list[Channel]:
    """Replace every active channel that expires within `within`; return the new channels."""
    renewed = []
    deadline = datetime.now(UTC) + within
    for channel in await list_channels(pool):
        if channel.expires_at is not None and channel.expires_at <= deadline:
            new = await start(pool, drive, channel.source_id, channel.address, ttl)
            await stop(pool, drive, channel)
            renewed.append(new)
    return renewed


async def list_channels(
    pool: asyncpg.Pool | asyncpg.Connection, source_id: str | None = None, *, include_stopped: bool = False
) -> list[Channel]:
    """List channels, newest first; active ones only unless asked."""
    rows = await pool.fetch(
        """SELECT id, source_id, address, resource_id, expires_at, created_at, stopped_at,
                  last_message_number, last_message_at
             FROM watch_channels
            WHERE ($1::text IS NULL OR source_id = $1) AND ($2 OR stopped_at IS NULL)
            ORDER BY created_at DESC""",
        source_id,
        include_stopped,
    )
    return [Channel(**dict(row)) for row in rows]


async def get(pool: asyncpg.Pool, channel_id: str) -> Channel | None:
    rows = await pool.fetch(
        """SELECT id, source_id, address, resource_id, expires_at, created_at, stopped_at,
                  last_message_number, last_message_at
             FROM watch_channels WHERE id = $1""",
        channel_id,
    )
    return Channel(**dict(rows[0])) if rows else None
