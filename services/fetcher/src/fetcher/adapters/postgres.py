"""The fetcher's SQL: sources and their change cursors, indexed versions, claim-checked texts."""

from __future__ import annotations

import asyncpg


class PostgresStore:
    """The Store port on PostgreSQL; the embedder owns `documents`, so it is only read here."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def ensure_source(self, source_id: str) -> None:
        """Create the source's row unless it exists."""
        await self._pool.execute(
            "INSERT INTO sources (id) VALUES ($1) ON CONFLICT (id) DO NOTHING", source_id
        )

    async def page_token(self, source_id: str) -> str | None:
        """Return the stored changes.list cursor, or None if there is none yet."""
        query = "SELECT page_token FROM sources WHERE id = $1"
        token: str | None = await self._pool.fetchval(query, source_id)
        return token

    async def save_page_token(self, source_id: str, token: str) -> None:
        """Store the cursor to read changes from next time."""
        await self._pool.execute(
            "UPDATE sources SET page_token = $2, updated_at = now() WHERE id = $1", source_id, token
        )

    async def versions(self, file_ids: list[str]) -> dict[str, int]:
        """Return the indexed Drive version of each of these files that is known."""
        if not file_ids:
            return {}
        rows = await self._pool.fetch(
            "SELECT file_id, version FROM documents WHERE file_id = ANY($1::text[])", file_ids
        )
        return {row["file_id"]: row["version"] for row in rows}

    async def indexed_files(self, source_id: str) -> set[str]:
        """Return the ids of the source's files that are in the index and not trashed."""
        rows = await self._pool.fetch(
            "SELECT file_id FROM documents WHERE source_id = $1 AND NOT trashed", source_id
        )
        return {row["file_id"] for row in rows}

    async def save_text(self, content_hash: str, text: str) -> None:
        """Store a text too large for a Kafka message under its content hash."""
        # Refreshing created_at keeps a text that is about to be read safe from age-based cleanup.
        await self._pool.execute(
            """INSERT INTO fetched_texts (content_hash, text) VALUES ($1, $2)
               ON CONFLICT (content_hash) DO UPDATE SET created_at = now()""",
            content_hash,
            text,
        )
