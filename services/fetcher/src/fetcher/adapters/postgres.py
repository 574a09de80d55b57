"""The fetcher's SQL: sources and their cursors, who may read each file, claim-checked texts."""

from __future__ import annotations

import asyncpg

from drive import source_admin
from fetcher.failures import Failure, Retry
from fetcher.ports import Indexed

# A version's readers replace those of an older or equal one: equal, so a shared drive's change
# of members can rewrite the readers of files whose own version did not move.
_SAVE_ACCESS = """
INSERT INTO file_access (file_id, version, readers, reason) VALUES ($1, $2, $3, $4)
ON CONFLICT (file_id) DO UPDATE
   SET version = EXCLUDED.version, readers = EXCLUDED.readers, reason = EXCLUDED.reason, updated_at = now()
 WHERE file_access.version <= EXCLUDED.version
"""


# A failure of the same version counts one more attempt; a newer version starts again at one.
# Transient failures wait base * 2^(attempts - 1) seconds, capped; permanent ones wait for a change.
_RECORD_FAILURE = """
INSERT INTO fetch_failures AS f (file_id, source_id, version, kind, reason, next_retry_at)
VALUES ($1, $2, $3, $4, $5, CASE WHEN $4 = 'transient' THEN now() + make_interval(secs => $6) END)
ON CONFLICT (file_id) DO UPDATE SET
    source_id = EXCLUDED.source_id, version = EXCLUDED.version, kind = EXCLUDED.kind,
    reason = EXCLUDED.reason, last_failed_at = now(),
    attempts = CASE WHEN f.version = EXCLUDED.version THEN f.attempts + 1 ELSE 1 END,
    first_failed_at = CASE WHEN f.version = EXCLUDED.version THEN f.first_failed_at ELSE now() END,
    next_retry_at = CASE WHEN EXCLUDED.kind = 'transient' THEN now() + make_interval(
        secs => least($7, $6 * 2 ^ (CASE WHEN f.version = EXCLUDED.version THEN f.attempts ELSE 0 END)))
    END
WHERE f.version <= EXCLUDED.version
RETURNING attempts
"""

_CLAIM_DUE = """
UPDATE fetch_failures SET next_retry_at = now() + make_interval(secs => $2)
 WHERE file_id IN (SELECT file_id FROM fetch_failures
                    WHERE next_retry_at <= now() ORDER BY next_retry_at LIMIT $1 FOR UPDATE SKIP LOCKED)
RETURNING file_id, source_id
"""


# A newer version, or the same source again (a retry), takes the claim; another source's claim of
# this version stands.
_CLAIM = """
INSERT INTO fetch_claims AS c (file_id, version, source_id) VALUES ($1, $2, $3)
ON CONFLICT (file_id) DO UPDATE SET version = EXCLUDED.version, source_id = EXCLUDED.source_id,
                                    claimed_at = now()
 WHERE c.version < EXCLUDED.version OR c.source_id = EXCLUDED.source_id
RETURNING file_id
"""


class PostgresStore:
    """The Store port on PostgreSQL: the fetcher owns `sources` cursors and `file_access`, and only
    reads `documents` (the embedder's)."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def ensure_source(self, source_id: str) -> None:
        """Create the source's row unless it exists."""
        await source_admin.ensure(self._pool, source_id)

    async def is_removed(self, source_id: str) -> bool:
        """Tell whether the source was removed (`drive-index sources remove`, or gone from the domain)."""
        query = "SELECT removed_at IS NOT NULL FROM sources WHERE id = $1"
        return bool(await self._pool.fetchval(query, source_id))

    async def record_source_error(self, source_id: str, error: str | None) -> None:
        """Record why the source could not be read, or clear it (None) once it was."""
        if error is None:
            await self._pool.execute(
                "UPDATE sources SET last_error = NULL WHERE id = $1 AND last_error IS NOT NULL", source_id
            )
            return
        await self._pool.execute(
            "UPDATE sources SET last_error = $2, last_error_at = now() WHERE id = $1", source_id, error
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

    async def indexed(self, file_ids: list[str]) -> dict[str, Indexed]:
        """Return what the index holds of each of these files that it knows."""
        if not file_ids:
            return {}
        rows = await self._pool.fetch(
            """SELECT d.file_id, d.version, d.modified_time,
                      (d.content_hash IS NOT NULL OR d.skip_reason IS NOT NULL) AS has_content,
                      array(SELECT s.source_id FROM document_sources s
                             WHERE s.file_id = d.file_id AND NOT s.removed) AS shown_by
                 FROM documents d WHERE d.file_id = ANY($1::text[])""",
            file_ids,
        )
        return {
            row["file_id"]: Indexed(
                row["version"], row["modified_time"], row["has_content"], frozenset(row["shown_by"])
            )
            for row in rows
        }

    async def claim(self, file_id: str, version: int, source_id: str) -> bool:
        """Claim fetching this version of the file; False when another source claimed it (or newer)."""
        claimed = await self._pool.fetchval(_CLAIM, file_id, version, source_id)
        return claimed is not None

    async def save_access(self, file_id: str, version: int, readers: list[str], reason: str | None) -> None:
        """Store who may find the file as of `version`, unless a newer version's readers are stored."""
        await self._pool.execute(_SAVE_ACCESS, file_id, version, readers, reason)

    async def drive_access_versions(self, drive_id: str) -> dict[str, int]:
        """Return the readers' version of every indexed file of a shared drive."""
        rows = await self._pool.fetch(
            """SELECT a.file_id, a.version FROM file_access a JOIN documents d USING (file_id)
                WHERE d.drive_id = $1""",
            drive_id,
        )
        return {row["file_id"]: row["version"] for row in rows}

    async def indexed_files(self, source_id: str) -> set[str]:
        """Return the ids of the indexed files the source still shows."""
        rows = await self._pool.fetch(
            "SELECT file_id FROM document_sources WHERE source_id = $1 AND NOT removed", source_id
        )
        return {row["file_id"] for row in rows}

    async def indexed_below(self, folder_id: str, source_id: str) -> list[str]:
        """Return the indexed files the source shows anywhere below the folder (folders are documents)."""
        rows = await self._pool.fetch(
            """WITH RECURSIVE below(file_id) AS (
                   SELECT file_id FROM documents WHERE parents @> ARRAY[$1::text]
                   UNION
                   SELECT d.file_id FROM documents d JOIN below b ON d.parents @> ARRAY[b.file_id]
               )
               SELECT b.file_id FROM below b
                 JOIN document_sources s ON s.file_id = b.file_id AND s.source_id = $2 AND NOT s.removed
                ORDER BY b.file_id""",
            folder_id,
            source_id,
        )
        return [row["file_id"] for row in rows]

    async def save_text(self, content_hash: str, text: str) -> None:
        """Store a text too large for a Kafka message under its content hash."""
        # Refreshing created_at keeps a text about to be read again safe from the embedder's pruning.
        await self._pool.execute(
            """INSERT INTO fetched_texts (content_hash, text) VALUES ($1, $2)
               ON CONFLICT (content_hash) DO UPDATE SET created_at = now()""",
            content_hash,
            text,
        )

    async def record_failure(
        self, file_id: str, source_id: str, version: int, failure: Failure, retry: Retry
    ) -> int:
        """Record that reading this version of the file failed; return the attempts so far."""
        attempts = await self._pool.fetchval(
            _RECORD_FAILURE,
            file_id,
            source_id,
            version,
            failure.kind,
            failure.reason,
            retry.base_seconds,
            retry.max_seconds,
        )
        return int(attempts or 0)

    async def clear_failure(self, file_id: str, version: int) -> None:
        """Forget the file's failures at this version or older: it was read."""
        await self._pool.execute(
            "DELETE FROM fetch_failures WHERE file_id = $1 AND version <= $2", file_id, version
        )

    async def due_failures(self, limit: int, lease_seconds: float) -> list[tuple[str, str]]:
        """Claim up to `limit` transient failures due for another try: (file id, source id) pairs."""
        rows = await self._pool.fetch(_CLAIM_DUE, limit, lease_seconds)
        return [(row["file_id"], row["source_id"]) for row in rows]
