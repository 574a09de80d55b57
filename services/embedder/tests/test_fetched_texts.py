"""Claim-checked texts are deleted once nobody will read them; recent ones stay."""

from __future__ import annotations

import uuid

import asyncpg

from embedder.adapters.index_store import PostgresIndexStore


async def test_old_claim_checked_texts_are_pruned_and_recent_ones_kept(pool: asyncpg.Pool) -> None:
    old, recent = f"old-{uuid.uuid4().hex}", f"recent-{uuid.uuid4().hex}"
    await pool.execute(
        """INSERT INTO fetched_texts (content_hash, text, created_at)
           VALUES ($1, 'a week and a day ago', now() - interval '8 days'), ($2, 'just now', now())""",
        old,
        recent,
    )
    store = PostgresIndexStore(pool)
    assert await store.prune_texts(older_than_days=7) >= 1
    left = await pool.fetch(
        "SELECT content_hash FROM fetched_texts WHERE content_hash = ANY($1)", [old, recent]
    )
    assert [row["content_hash"] for row in left] == [recent]
    assert await store.read_text(recent) == "just now"
