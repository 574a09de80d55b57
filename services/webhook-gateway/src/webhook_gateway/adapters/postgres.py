"""The Channels port on PostgreSQL: the watch_channels rows the CLI registers."""

from __future__ import annotations

import asyncpg

from webhook_gateway.ports import KnownChannel


class PostgresChannels:
    """Read watch_channels and note the last message each channel delivered."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def find(self, channel_id: str) -> KnownChannel | None:
        row = await self.pool.fetchrow(
            """SELECT id, source_id, token_sha256, stopped_at, last_message_number, last_message_at
                 FROM watch_channels WHERE id = $1""",
            channel_id,
        )
        return KnownChannel(**dict(row)) if row else None

    async def record_message(self, channel_id: str, message_number: int) -> None:
        await self.pool.execute(
            """UPDATE watch_channels
                  SET last_message_number = GREATEST(last_message_number, $2), last_message_at = now()
                WHERE id = $1""",
            channel_id,
            message_number,
        )

    async def active_summary(self) -> tuple[int, float | None]:
        row = await self.pool.fetchrow(
            """SELECT count(*) AS active, extract(epoch FROM min(expires_at) - now())::float8 AS expires_in
                 FROM watch_channels
                WHERE stopped_at IS NULL AND (expires_at IS NULL OR expires_at > now())"""
        )
        assert row is not None  # an aggregate always returns one row
        return int(row["active"]), row["expires_in"]
