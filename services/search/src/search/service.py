"""Answer a search for a caller: a turn at the embedder, then the index, filtered by permission."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from embeddings import Embedder
from search.identity import Caller
from search.ports import Hit, SearchIndex
from search.query import SearchQuery
from search.ratelimit import RateLimiter


@dataclass
class Searcher:
    """The search use case with its ports."""

    index: SearchIndex
    embedder: Embedder
    limiter: RateLimiter
    # Embedding a query is the one CPU-heavy step (or a paid call): bound how many run at once.
    max_concurrent_embeds: int = 4
    _embed_slots: asyncio.Semaphore = field(init=False)

    def __post_init__(self) -> None:
        self._embed_slots = asyncio.Semaphore(self.max_concurrent_embeds)

    def wait_before(self, caller: Caller) -> float:
        """0 when the caller may search now, else the seconds until they may."""
        return self.limiter.take(caller.rate_key)

    async def search(self, query: SearchQuery, caller: Caller) -> list[Hit]:
        """The query's best files among those the caller may read."""
        async with self._embed_slots:
            vector = await self.embedder.embed_query(query.q)
        return await self.index.search(vector, query, caller.principals)
