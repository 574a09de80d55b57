"""The index in PostgreSQL: `documents`, `chunks` and `tombstones` (written only here), `fetched_texts`.

Every write of a file takes the file's lock, then is guarded by Drive's version and by the file's
tombstone (the rule is in tombstones.py), so a replayed, late or zombie event never overwrites a
newer row or brings a deleted file back; a file's chunks are replaced in the same transaction as
its row, and a deletion leaves its tombstone in the transaction that deletes the row.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import datetime

import asyncpg

from embedder.ports import (
    Deletion,
    DocumentRow,
    EmbeddedChunk,
    FileState,
    SourceShowing,
    StoredDocument,
    Tombstone,
)
from embedder.tombstones import admits, judge_deletion, tombstone_after
from shared.errors import PermanentError

# Two-key advisory locks live apart from the one-key ones (the migration lock): this first key
# names "one file's rows", the second is the file id's hash. A collision only makes two files
# take turns.
_FILE_LOCKS = 0x0D1F_0001
_LOCK_FILE = "SELECT pg_advisory_xact_lock($1, hashtext($2))"

_STORED = """
SELECT d.version, d.content_hash, d.embedding_model, d.fetched_at,
       (SELECT count(*) FROM chunks c WHERE c.file_id = d.file_id) AS chunk_count
FROM documents d WHERE d.file_id = $1
"""
_TOMBSTONE = "SELECT version, fetched_at FROM tombstones WHERE file_id = $1"
_SAVE_TOMBSTONE = """
INSERT INTO tombstones (file_id, version, fetched_at) VALUES ($1, $2, $3)
ON CONFLICT (file_id) DO UPDATE
   SET version = EXCLUDED.version, fetched_at = EXCLUDED.fetched_at, deleted_at = now()
"""

_SHOWINGS = "SELECT source_id, fetched_at, removed FROM document_sources WHERE file_id = $1"
# A source's newest event decides whether it shows the file; an older one (a replay) changes nothing.
_SAVE_SHOWING = """
INSERT INTO document_sources (file_id, source_id, fetched_at, removed) VALUES ($1, $2, $3, $4)
ON CONFLICT (file_id, source_id) DO UPDATE SET fetched_at = EXCLUDED.fetched_at, removed = EXCLUDED.removed
WHERE document_sources.fetched_at IS NULL OR document_sources.fetched_at < EXCLUDED.fetched_at
"""

_METADATA_COLUMNS = (
    "file_id, source_id, version, fetched_at, name, mime_type, web_view_link, parents, drive_id, "
    "modified_time, size_bytes"
)
_METADATA_VALUES = "$1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11"
_METADATA_UPDATES = """
    source_id = EXCLUDED.source_id, version = EXCLUDED.version,
    fetched_at = GREATEST(documents.fetched_at, EXCLUDED.fetched_at), name = EXCLUDED.name,
    mime_type = EXCLUDED.mime_type, web_view_link = EXCLUDED.web_view_link, parents = EXCLUDED.parents,
    drive_id = EXCLUDED.drive_id, modified_time = EXCLUDED.modified_time,
    size_bytes = EXCLUDED.size_bytes"""

# Content and chunks are left alone: a folder, a rename, a move or a change of sharing.
_UPSERT_METADATA = f"""
INSERT INTO documents ({_METADATA_COLUMNS}) VALUES ({_METADATA_VALUES})
ON CONFLICT (file_id) DO UPDATE SET {_METADATA_UPDATES}
WHERE documents.version <= EXCLUDED.version
RETURNING file_id
"""

_UPSERT_CONTENT = f"""
INSERT INTO documents ({_METADATA_COLUMNS}, content_hash, skip_reason, embedding_model, index_note,
                       indexed_at)
VALUES ({_METADATA_VALUES}, $12, $13, $14, $15, now())
ON CONFLICT (file_id) DO UPDATE SET {_METADATA_UPDATES},
    content_hash = EXCLUDED.content_hash, skip_reason = EXCLUDED.skip_reason,
    embedding_model = EXCLUDED.embedding_model, index_note = EXCLUDED.index_note, indexed_at = now()
WHERE documents.version <= EXCLUDED.version
RETURNING file_id
"""

_CHUNK_COLUMNS = ["file_id", "position", "heading", "text", "token_count", "model", "embedding"]


def _metadata_args(row: DocumentRow) -> tuple[object, ...]:
    meta = row.metadata
    return (
        row.file_id,
        row.source_id,
        row.version,
        row.fetched_at,
        meta.name,
        meta.mime_type,
        meta.web_view_link,
        list(meta.parents),
        meta.drive_id,
        meta.modified_time,
        meta.size,
    )


class PostgresIndexStore:
    """IndexStore on an asyncpg pool whose connections know the pgvector type."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def state(self, file_id: str) -> FileState:
        async with self.pool.acquire() as connection:
            record = await connection.fetchrow(_STORED, file_id)
            tombstone = await _tombstone(connection, file_id)
        return FileState(StoredDocument(**dict(record)) if record else None, tombstone)

    async def read_text(self, text_ref: str) -> str:
        text = await self.pool.fetchval("SELECT text FROM fetched_texts WHERE content_hash = $1", text_ref)
        if text is None:
            raise PermanentError(f"claim-checked text {text_ref} is not in fetched_texts")
        return str(text)

    async def prune_texts(self, older_than_days: float) -> int:
        """Delete claim-checked texts stored longer ago than that; return how many."""
        status = await self.pool.execute(
            "DELETE FROM fetched_texts WHERE created_at < now() - make_interval(secs => $1)",
            older_than_days * 86400,
        )
        return int(status.split()[-1])

    @asynccontextmanager
    async def replacing(self, row: DocumentRow) -> AsyncIterator[PostgresChunkWriter | None]:
        # Batches stream into this one transaction rather than into a staging table swapped in at
        # the end: a rollback (crash, outage, timeout) leaves nothing to clean up and the old chunks
        # intact, nothing is written twice, and the guard runs before any embedding is paid for.
        # The price is one connection and the file's lock held while the batches are embedded,
        # which only makes a second writer of the same file (a zombie consumer) wait its turn, or
        # fail its lock statement after DATABASE_STATEMENT_TIMEOUT_MS and be retried.
        content = (row.content_hash, row.skip_reason, row.embedding_model, row.index_note)
        async with self.pool.acquire() as connection, connection.transaction():
            if not await _write_row(connection, _UPSERT_CONTENT, row, *content):
                yield None  # a newer version or the file's deletion is stored: nothing written
                return
            await connection.execute("DELETE FROM chunks WHERE file_id = $1", row.file_id)
            yield PostgresChunkWriter(connection, row.file_id, row.embedding_model or "")

    async def update_metadata(self, row: DocumentRow) -> bool:
        async with self.pool.acquire() as connection, connection.transaction():
            return await _write_row(connection, _UPSERT_METADATA, row)

    async def delete(self, file_id: str, source_id: str, version: int, fetched_at: datetime) -> Deletion:
        async with self.pool.acquire() as connection, connection.transaction():
            await connection.execute(_LOCK_FILE, _FILE_LOCKS, file_id)
            stored = await connection.fetchrow(
                "SELECT version, fetched_at FROM documents WHERE file_id = $1", file_id
            )
            showings = [SourceShowing(**dict(r)) for r in await connection.fetch(_SHOWINGS, file_id)]
            known = (stored["version"], stored["fetched_at"]) if stored else None
            verdict = judge_deletion(source_id, version, fetched_at, known, showings)
            if verdict == Deletion.KEPT:
                await connection.execute(_SAVE_SHOWING, file_id, source_id, fetched_at, True)
            elif verdict == Deletion.DELETED:
                tombstone = tombstone_after(await _tombstone(connection, file_id), version, fetched_at)
                # The file's chunks and document_sources rows go with it (ON DELETE CASCADE).
                await connection.execute("DELETE FROM documents WHERE file_id = $1", file_id)
                await connection.execute(_SAVE_TOMBSTONE, file_id, tombstone.version, tombstone.fetched_at)
        return verdict


class PostgresChunkWriter:
    """ChunkWriter that copies each batch into `chunks` inside the replacing transaction."""

    def __init__(self, connection: asyncpg.Connection, file_id: str, model: str) -> None:
        self._connection = connection
        self._file_id = file_id
        self._model = model

    async def write(self, chunks: Sequence[EmbeddedChunk]) -> None:
        if chunks:
            records = [self._record(c) for c in chunks]
            await self._connection.copy_records_to_table("chunks", records=records, columns=_CHUNK_COLUMNS)

    def _record(self, embedded: EmbeddedChunk) -> tuple[object, ...]:
        chunk = embedded.chunk
        return (
            self._file_id,
            chunk.position,
            chunk.heading,
            chunk.text,
            chunk.token_count,
            self._model,
            embedded.embedding,
        )


async def _tombstone(connection: asyncpg.Connection, file_id: str) -> Tombstone | None:
    record = await connection.fetchrow(_TOMBSTONE, file_id)
    return Tombstone(record["version"], record["fetched_at"]) if record else None


async def _write_row(
    connection: asyncpg.Connection, statement: str, row: DocumentRow, *extra: object
) -> bool:
    """Write the row under the file's lock unless its tombstone or a newer version forbids it."""
    await connection.execute(_LOCK_FILE, _FILE_LOCKS, row.file_id)
    tombstone = await _tombstone(connection, row.file_id)
    if not admits(tombstone, row.version, row.fetched_at):
        return False
    if await connection.fetchval(statement, *_metadata_args(row), *extra) is None:
        return False  # a newer version is stored
    await connection.execute(_SAVE_SHOWING, row.file_id, row.source_id, row.fetched_at, False)
    if tombstone is not None:  # a newer event brings the file back: its deletion is over
        await connection.execute("DELETE FROM tombstones WHERE file_id = $1", row.file_id)
    return True
