"""Hybrid search in PostgreSQL: pgvector cosine distance fused with full-text rank.

Both rankings read the same filtered chunks of one embedding model, and only chunks of files the
caller may read: `file_access.readers` overlaps the caller's principals (a GIN-indexed `&&`), so
permissions cut candidates before ranking and the limit, never after. Each contributes its best
`candidates` chunks; reciprocal rank fusion scores a chunk 1/(rrf_k + rank) per ranking it
appears in, summed, and each file is represented by its best-scoring chunk.
"""

from __future__ import annotations

from collections.abc import Sequence

import asyncpg

from embeddings import Vector
from search.ports import Hit, open_link
from search.query import SearchQuery
from shared.mime import FOLDER

# A query that runs longer is cut off: the caller gets a 503 instead of a hung request.
STATEMENT_TIMEOUT_MS = 10_000
# Plain text around the query terms; the page marks the terms itself, so no markup to escape.
HEADLINE = (
    'MaxWords=40, MinWords=20, ShortWord=2, MaxFragments=2, FragmentDelimiter=" … ", StartSel="", StopSel=""'
)

# $1 query vector, $2 query text, $3 model, $4 candidates, $5 k, $6 rrf_k, $7 mime type,
# $8 folder, $9 modified after, $10 modified before, $11 the caller's principals, $12 minimum
# similarity. Custom plans fold the unused filters away.
_DOCUMENT_FILTER = """
    ($7::text IS NULL OR d.mime_type = $7)
    AND ($8::text IS NULL OR d.parents && (SELECT array_agg(id) FROM folder_tree))
    AND ($9::timestamptz IS NULL OR d.modified_time >= $9)
    AND ($10::timestamptz IS NULL OR d.modified_time < $10)"""

_SEARCH = """
WITH RECURSIVE folder_tree(id) AS (
    SELECT $8::text WHERE $8::text IS NOT NULL
    UNION
    SELECT f.file_id FROM documents f JOIN folder_tree t ON f.parents @> ARRAY[t.id]
     WHERE f.mime_type = '{folder}'
),
vector_hits AS MATERIALIZED (
    SELECT c.file_id, c.position, c.embedding::vector({dims}) <=> $1 AS distance
      FROM chunks c JOIN documents d ON d.file_id = c.file_id
      JOIN file_access a ON a.file_id = d.file_id AND a.readers && $11::text[]
     WHERE c.model = $3 AND {filter}
     ORDER BY c.embedding::vector({dims}) <=> $1
     LIMIT $4
),
text_hits AS MATERIALIZED (
    SELECT c.file_id, c.position, ts_rank_cd(c.tsv, query) AS rank
      FROM chunks c JOIN documents d ON d.file_id = c.file_id
      JOIN file_access a ON a.file_id = d.file_id AND a.readers && $11::text[],
           websearch_to_tsquery('english', $2) query
     WHERE c.tsv @@ query AND c.model = $3 AND {filter}
     ORDER BY rank DESC
     LIMIT $4
),
fused AS (
    SELECT file_id, position,
           coalesce(1.0 / ($6 + v.rank), 0) + coalesce(1.0 / ($6 + t.rank), 0) AS score
      FROM (SELECT file_id, position, row_number() OVER (ORDER BY distance) AS rank
              FROM vector_hits WHERE 1 - distance >= $12) v
      FULL JOIN (SELECT file_id, position, row_number() OVER (ORDER BY rank DESC) AS rank FROM text_hits) t
     USING (file_id, position)
),
best AS (
    SELECT DISTINCT ON (file_id) file_id, position, score FROM fused ORDER BY file_id, score DESC, position
),
top AS (
    SELECT file_id, position, score FROM best ORDER BY score DESC, file_id LIMIT $5
)
SELECT top.file_id, d.name AS title, d.web_view_link AS link, d.mime_type, d.modified_time, c.heading,
       top.score::float8 AS score,
       (1 - (c.embedding::vector({dims}) <=> $1))::float8 AS similarity,
       ts_headline('english', c.text, websearch_to_tsquery('english', $2), '{headline}') AS snippet
  FROM top JOIN documents d ON d.file_id = top.file_id
  JOIN chunks c ON c.file_id = top.file_id AND c.position = top.position
 ORDER BY top.score DESC, top.file_id
"""


def search_sql(dimensions: int) -> str:
    """Build the search statement for vectors of `dimensions` (a cast that must match the index)."""
    return _SEARCH.format(dims=int(dimensions), filter=_DOCUMENT_FILTER, folder=FOLDER, headline=HEADLINE)


class PostgresIndex:
    """The SearchIndex port on PostgreSQL + pgvector, for one embedding model."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        *,
        model: str,
        dimensions: int,
        candidates: int,
        rrf_k: int,
        min_similarity: float = -1.0,
    ) -> None:
        self.pool, self.model, self.sql = pool, model, search_sql(dimensions)
        self.candidates, self.rrf_k, self.min_similarity = candidates, rrf_k, min_similarity

    async def search(self, vector: Vector, query: SearchQuery, principals: Sequence[str]) -> list[Hit]:
        """Find the `query.k` best files that holders of `principals` may read; `vector` embeds the query."""
        async with self.pool.acquire() as connection, connection.transaction(readonly=True):
            # Iterative scans keep reading the HNSW index until enough chunks pass the filters
            # (permissions included); custom plans let the planner see the model and the filters.
            await connection.execute(
                f"SET LOCAL hnsw.ef_search = {int(self.candidates)};"
                " SET LOCAL hnsw.iterative_scan = relaxed_order;"
                " SET LOCAL plan_cache_mode = force_custom_plan;"
                f" SET LOCAL statement_timeout = {STATEMENT_TIMEOUT_MS}"
            )
            rows = await connection.fetch(
                self.sql,
                vector,
                query.q,
                self.model,
                self.candidates,
                query.k,
                self.rrf_k,
                query.mime_type,
                query.folder,
                query.modified_after,
                query.modified_before,
                list(principals),
                self.min_similarity,
            )
        return [_hit(row) for row in rows]


def _hit(row: asyncpg.Record) -> Hit:
    values = dict(row)
    values["link"] = values["link"] or open_link(values["file_id"])
    return Hit(**values)
