"""The vector ranking, permission filter included, can use the model's partial HNSW index."""

from __future__ import annotations

import numpy as np
import pytest

from search.adapters.index import search_sql
from shared import mime


@pytest.mark.parametrize("mime_type", [None, mime.PDF])
async def test_the_minilm_query_can_use_its_partial_hnsw_index(pool, mime_type: str | None) -> None:
    vector = np.ones(384, dtype=np.float32) / np.sqrt(384)
    params = (vector, "quarterly report", "all-MiniLM-L6-v2", 100, 10, 60, mime_type)
    # No other filters; the caller holds three principals, as a signed-in user does at least.
    no_filters = (None, None, None, ["anyone", "domain:example.com", "user:a@example.com"], 0.15)
    async with pool.acquire() as connection, connection.transaction():
        # On near-empty tables any plan is cheap (and an exact scan is right): penalise scanning
        # and sorting, as a large table would, to see whether the index is usable at all.
        await connection.execute(
            "SET LOCAL enable_seqscan = off; SET LOCAL enable_sort = off;"
            " SET LOCAL plan_cache_mode = force_custom_plan"
        )
        plan = await connection.fetch("EXPLAIN " + search_sql(384), *params, *no_filters)
    text = "\n".join(row[0] for row in plan)
    assert "chunks_minilm_hnsw_idx" in text, text
