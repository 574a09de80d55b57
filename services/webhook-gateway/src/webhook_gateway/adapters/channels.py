"""Watch channels as the gateway sees them: look one up, note the last message it carried."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import asyncpg


@dataclass(frozen=True)
class KnownChannel:
    """A registered channel: which source it watches and the hash of its secret token."""

    id: str
    source_id: str
    token_sha256: bytes
    stopped_at: datetime | None


async def find(pool: asyncpg.Pool, channel_id: str) -> KnownChannel | None:
    """Look a channel up by id; no cache, so a stopped channel is refused at once."""
    row = await pool.fetchrow(
        "SELECT id, source_id, token_sha256, stopped_at FROM watch_channels WHERE id = $1", channel_id
    )
    return KnownChannel(**dict(row)) if row else None


async def record_message(pool: asyncpg.Pool, channel_id: str, message_number: int) -> None:
    """Remember the newest message number a channel delivered (retries may arrive out of order)."""
    await pool.execute(
        """UPDATE watch_channels
              SET last_message_number = GREATEST(last_message_number, $2), last_message_at = now()
            WHERE id = $1""",
        channel_id,
        message_number,
    )


async def active_summary(pool: asyncpg.Pool) -> tuple[int, float | None]:
    """Count active channels and the seconds until the first of them expires (None: no expiry known)."""
    row = await pool.fetchrow(
        """SELECT count(*) AS active, extract(epoch FROM min(expires_at) - now())::float8 AS expires_in
             FROM watch_channels WHERE stopped_at IS NULL AND (expires_at IS NULL OR expires_at > now())"""
    )
    assert row is not None  # an aggregate always returns one row
    return int(row["active"]), row["expires_in"]
