"""The index in PostgreSQL: `documents` and `chunks` (written only here) and `fetched_texts`.

Every write is guarded by Drive's version, so a replayed or late event never overwrites a newer
one, and a file's chunks are replaced in the same transaction as its row.
"""

from __future__ import annotations

from collections.abc import Sequence

import asyncpg

from embedder.ports import DocumentRow, EmbeddedChunk, StoredDocument
from shared.errors import PermanentError

_STORED = """
SELECT d.version, d.content_hash, d.embedding_model,
       (SELECT count(*) FROM chunks c WHERE c.file_id = d.file_id) AS chunk_count
FROM documents d WHERE d.file_id = $1
"""

_ENSURE_SOURCE = "INSERT INTO sources (id) VALUES ($1) ON CONFLICT DO NOTHING"

_METADATA_COLUMNS = (
    "file_id, source_id, version, name, mime_type, web_view_link, parents, drive_id, modified_time, "
    "size_bytes"
)
_METADATA_VALUES = "$1, $2, $3, $4, $5, $6, $7, $8, $9, $10"
_METADATA_UPDATES = """
    source_id = EXCLUDED.source_id, version = EXCLUDED.version, name = EXCLUDED.name,
    mime_type = EXCLUDED.mime_type, web_view_link = EXCLUDED.web_view_link, parents = EXCLUDED.parents,
    drive_id = EXCLUDED.drive_id, modified_time = EXCLUDED.modified_time,
    size_bytes = EXCLUDED.size_bytes, trashed = false"""

# Content and chunks are left alone: a folder, a rename, a move or a change of sharing.
_UPSERT_METADATA = f"""
INSERT INTO documents ({_METADATA_COLUMNS}) VALUES ({_METADATA_VALUES})
ON CONFLICT (file_id) DO UPDATE SET {_METADATA_UPDATES}
WHERE documents.version <= EXCLUDED.version
RETURNING file_id
"""

_UPSERT_CONTENT = f"""
INSERT INTO documents ({_METADATA_COLUMNS}, content_hash, skip_reason, embedding_model, indexed_at)
VALUES ({_METADATA_VALUES}, $11, $12, $13, now())
ON CONFLICT (file_id) DO UPDATE SET {_METADATA_UPDATES},
    content_hash = EXCLUDED.content_hash, skip_reason = EXCLUDED.skip_reason,
    embedding_model = EXCLUDED.embedding_model, indexed_at = now()
WHERE documents.version <= EXCLUDED.version
RETURNING file_id
"""

_CHUNK_COLUMNS = ["file_id", "position", "heading", "text", "token_count", "model", "embedding"]


def _metadata_args(row: DocumentRow) -> tuple[object, ...]:
    return (
        row.file_id,
        row.source_id,
        row.version,
        row.name,
        row.mime_type,
        row.web_view_link,
        row.parents,
        row.drive_id,
        row.modified_time,
        row.size_bytes,
    )


class PostgresIndexStore:
    """IndexStore on an asyncpg pool whose connections know the pgvector type."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def stored(self, file_id: str) -> StoredDocument | None:
        record = await self.pool.fetchrow(_STORED, file_id)
        return StoredDocument(**dict(record)) if record else None

    async def read_text(self, text_ref: str) -> str:
        text = await self.pool.fetchval("SELECT text FROM fetched_texts WHERE content_hash = $1", text_ref)
        if text is None:
            raise PermanentError(f"claim-checked text {text_ref} is not in fetched_texts")
        return str(text)

    async def replace(self, row: DocumentRow, chunks: Sequence[EmbeddedChunk]) -> bool:
        content = (row.content_hash, row.skip_reason, row.embedding_model)
        async with self.pool.acquire() as connection, connection.transaction():
            await connection.execute(_ENSURE_SOURCE, row.source_id)
            if await connection.fetchval(_UPSERT_CONTENT, *_metadata_args(row), *content) is None:
                return False  # a newer version is stored; the transaction writes nothing
            await connection.execute("DELETE FROM chunks WHERE file_id = $1", row.file_id)
            if chunks:
                await connection.copy_records_to_table(
                    "chunks", records=_chunk_records(row, chunks), columns=_CHUNK_COLUMNS
                )
        return True

    async def update_metadata(self, row: DocumentRow) -> bool:
        async with self.pool.acquire() as connection, connection.transaction():
            await connection.execute(_ENSURE_SOURCE, row.source_id)
            return await connection.fetchval(_UPSERT_METADATA, *_metadata_args(row)) is not None

    async def delete(self, file_id: str, version: int) -> bool:
        status = await self.pool.execute(
            "DELETE FROM documents WHERE file_id = $1 AND version <= $2", file_id, version
        )
        return bool(status != "DELETE 0")


def _chunk_records(row: DocumentRow, chunks: Sequence[EmbeddedChunk]) -> list[tuple[object, ...]]:
    model = row.embedding_model or ""
    return [
        (
            row.file_id,
            c.chunk.position,
            c.chunk.heading,
            c.chunk.text,
            c.chunk.token_count,
            model,
            c.embedding,
        )
        for c in chunks
    ]
