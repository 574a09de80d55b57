"""Plans of the served search statement: EXPLAIN ANALYZE through the adapter, summarized and drawn."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import asyncpg

from search.adapters.index import PostgresIndex
from search.query import SearchQuery

HNSW_INDEX = "chunks_minilm_hnsw_idx"
READERS_INDEX = "file_access_readers_idx"


class ExplainingPool:
    """Stands in for the adapter's pool: its statement, after its own SETs, runs under EXPLAIN ANALYZE."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool, self.plans = pool, list[dict[str, Any]]()

    @asynccontextmanager
    async def acquire(self) -> AsyncIterator[ExplainingPool]:
        async with self.pool.acquire() as connection:
            self.connection = connection
            yield self

    def transaction(self, **options: Any) -> Any:
        return self.connection.transaction(**options)

    async def execute(self, sql: str) -> str:
        return str(await self.connection.execute(sql))

    async def fetch(self, sql: str, *args: Any) -> list[Any]:
        plan = await self.connection.fetchval("EXPLAIN (ANALYZE, FORMAT JSON) " + sql, *args)
        self.plans.append(json.loads(plan)[0] if isinstance(plan, str) else plan[0])
        return []


def nodes(node: dict[str, Any]) -> list[dict[str, Any]]:
    return [node, *(n for child in node.get("Plans", []) for n in nodes(child))]


def cte(plan: dict[str, Any], name: str) -> dict[str, Any]:
    return next(n for n in nodes(plan["Plan"]) if n.get("Subplan Name") == f"CTE {name}")


def rows(node: dict[str, Any]) -> int:
    return int(node["Actual Rows"] * node["Actual Loops"])


@dataclass(frozen=True)
class PlanSummary:
    """The vector ranking's path and reads, each ranking's candidates and time, the whole time."""

    path: str
    hnsw_tuples: int
    vector_rows: int
    text_rows: int
    vector_ms: float
    text_ms: float
    ms: float


def summarize(plan: dict[str, Any]) -> PlanSummary:
    """How the vector ranking read its candidates, and how many it and the full-text ranking found."""
    vector = nodes(cte(plan, "vector_hits"))
    hnsw = [n for n in vector if n.get("Index Name") == HNSW_INDEX]
    if hnsw:
        path = "HNSW index scan, iterative"
    elif any(n.get("Index Name") == READERS_INDEX for n in vector):
        path = "GIN on readers, then exact sort"
    else:
        path = "exact: scan and sort"
    text = cte(plan, "text_hits")
    return PlanSummary(
        path,
        sum(rows(n) for n in hnsw),
        rows(vector[0]),
        rows(text),
        float(vector[0]["Actual Total Time"]),
        float(text["Actual Total Time"]),
        float(plan["Execution Time"]),
    )


def render(node: dict[str, Any], depth: int = 0) -> list[str]:
    """A compact EXPLAIN ANALYZE tree: node, relation or index, actual rows and what filters removed."""
    what = node["Node Type"]
    if "Index Name" in node:
        what += f" using {node['Index Name']}"
    if "Relation Name" in node:
        what += f" on {node['Relation Name']}"
    if "Subplan Name" in node:
        what = f"{node['Subplan Name']}: {what}"
    removed = sum(int(v) for k, v in node.items() if k.startswith("Rows Removed by"))
    extra = f", removed {removed}" if removed else ""
    line = f"{'  ' * depth}{what} (rows {node['Actual Rows']:g} x {node['Actual Loops']}{extra})"
    return [line, *(text for child in node.get("Plans", []) for text in render(child, depth + 1))]


async def explain(
    index: PostgresIndex, queries: Sequence[tuple[str, Any]], principals: list[str], k: int
) -> list[dict[str, Any]]:
    """Run the adapter's search for each query under EXPLAIN ANALYZE; return the JSON plans."""
    pool = index.pool
    explaining = ExplainingPool(pool)
    index.pool = explaining  # type: ignore[assignment]  # duck-typed: acquire, transaction, execute, fetch
    try:
        for text, vector in queries:
            await index.search(vector, SearchQuery(q=text, k=k), principals)
    finally:
        index.pool = pool
    return explaining.plans
