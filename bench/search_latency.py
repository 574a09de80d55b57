"""Search latency: HTTP end to end, and the SQL with the HNSW index vs an exact scan.

Embeds CHUNKS synthetic chunks with the local model (the slow part, shown as progress; past
--real-chunks the vectors are synthetic, see acl_corpus.py), loads them with Drive-like sharing
into a fresh embedded PostgreSQL, starts the search service and asks it as a caller who may read
every file (trusted proxy headers from 127.0.0.1). Prints latency percentiles plus the index's
speed-up and recall@10 against an exact scan of the same queries.

With --permissions it compares callers who see 100 %, 10 % and 1 % of the files with the same
statement without the access join (SQL and HTTP), and reports results kept, recall and plans.

    .venv/bin/python bench/search_latency.py [--chunks 10000] [--queries 200] [--permissions]
        [--vectors-cache DIR] [--max-scan-tuples N ...] [--force-hnsw]   (see --help)
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
import urllib.parse
from contextlib import ExitStack
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
import acl_corpus
import filtered_search as fs
import permission_report
from corpus import TOPICS

from devstack import servers, stack
from drive_index_cli import checks
from embeddings.local import LocalEmbedder
from shared import db


def percentiles(samples: list[float]) -> str:
    ordered = sorted(samples)

    def at(p: float) -> float:
        return ordered[min(len(ordered) - 1, int(p * len(ordered)))]

    mean = statistics.mean(ordered)
    return f"p50 {at(0.50):6.1f} ms   p95 {at(0.95):6.1f} ms   p99 {at(0.99):6.1f} ms   mean {mean:6.1f} ms"


def queries(count: int) -> list[str]:
    rng = random.Random(11)
    return [" ".join(rng.sample(TOPICS[rng.choice(sorted(TOPICS))].split(), 4)) for _ in range(count)]


async def sql_timings(
    dsn: str, embedder: LocalEmbedder, texts: list[str]
) -> tuple[list[float], list[float], float]:
    """Time the vector ranking with the HNSW index and with an exact scan; return recall@10 too."""
    sql = (
        "SELECT file_id, position FROM chunks WHERE model = $2"
        " ORDER BY embedding::vector(384) <=> $1 LIMIT 10"
    )
    pool = await db.create_pool(dsn, max_size=1)
    connection = await pool.acquire()
    indexed, exact, overlap = [], [], 0
    try:
        for text in texts:
            vector = await embedder.embed_query(text)
            results = []
            for use_index, bucket in ((True, indexed), (False, exact)):
                async with connection.transaction():
                    await connection.execute("SET LOCAL hnsw.ef_search = 100")
                    if not use_index:
                        await connection.execute("SET LOCAL enable_indexscan = off")
                    started = time.perf_counter()
                    rows = await connection.fetch(sql, vector, embedder.model_name)
                    bucket.append((time.perf_counter() - started) * 1000)
                results.append({(r["file_id"], r["position"]) for r in rows})
            overlap += len(results[0] & results[1])
        plan = await connection.fetch("EXPLAIN " + sql, vector, embedder.model_name)
        assert any("hnsw" in r[0] for r in plan), "the HNSW index was not used: " + str(plan)
    finally:
        await pool.release(connection)
        await pool.close()
    return indexed, exact, overlap / (10 * len(texts))


def http_timings(url: str, texts: list[str]) -> tuple[list[float], list[float]]:
    """GET /search as a caller who may read every file, through the trusted proxy headers."""
    wall, reported = [], []
    for text in texts:
        started = time.perf_counter()
        status, body = checks.http_json(
            f"{url}/search?" + urllib.parse.urlencode({"q": text, "k": 10}),
            headers=acl_corpus.EVERYONE.headers(),
        )
        wall.append((time.perf_counter() - started) * 1000)
        assert status == 200, body
        reported.append(float(body["took_ms"]))
    return wall, reported


def latency(dsn: str, work: Path, embedder: LocalEmbedder, texts: list[str], chunks: int) -> None:
    """HTTP as a caller who may read every file; the vector top-10 SQL alone, HNSW vs exact."""
    indexed, exact, recall = asyncio.run(sql_timings(dsn, embedder, texts[:100]))
    search, url = fs.start_search(dsn, work / "search.log", baseline=False)
    try:
        http_timings(url, texts[:10])  # warm up
        wall, reported = http_timings(url, texts)
    finally:
        servers.stop(search)
    print(
        f"\nmachine: {os.cpu_count()} CPUs; {chunks} chunks of {embedder.dimensions} dims; "
        f"{len(texts)} queries, k=10, one at a time"
    )
    print(f"GET /search, end to end (HTTP client)   {percentiles(wall)}")
    print(f"  of which the service reports           {percentiles(reported)}")
    print(f"vector top-10 SQL, HNSW index             {percentiles(indexed)}")
    print(f"vector top-10 SQL, exact scan (baseline)  {percentiles(exact)}")
    ratio = statistics.median(exact) / statistics.median(indexed)
    print(f"HNSW speed-up over exact scan (median)    {ratio:.1f}x   recall@10 {recall:.3f}")


async def embed_queries(embedder: LocalEmbedder, texts: list[str]) -> list[tuple[str, Any]]:
    return [(text, await embedder.embed_query(text)) for text in texts]


def permissions(
    dsn: str, work: Path, embedder: LocalEmbedder, texts: list[str], args: argparse.Namespace
) -> None:
    """Filtered vs unfiltered search, SQL and HTTP, with results kept, recall and plan summaries."""
    found = fs.Findings(
        chunks=args.chunks,
        vectors=args.vectors,
        max_scan_tuples=asyncio.run(fs.setting(dsn, "hnsw.max_scan_tuples")),
        visibility={c.label: asyncio.run(fs.visible(dsn, c)) for c in acl_corpus.CALLERS},
    )
    chosen = fs.configs(args.max_scan_tuples, args.candidates, args.force_hnsw)
    print(f"  SQL: {len(chosen)} configurations, {len(texts)} queries each, in turn", flush=True)
    asked = asyncio.run(embed_queries(embedder, texts))
    model, dimensions = embedder.model_name, embedder.dimensions
    measuring = fs.measure(dsn, chosen, asked, model=model, dimensions=dimensions, explained=args.explain)
    found.cases = asyncio.run(measuring)
    print("  HTTP: the search service and the baseline service, in turn", flush=True)
    found.http = fs.http_runs(dsn, work, texts)
    permission_report.report(found)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--chunks", type=int, default=10_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument(
        "--real-chunks", type=int, default=10_000, help="embed this many; synthesize the rest"
    )
    parser.add_argument("--vectors-cache", type=Path, help="keep the model's vectors here for the next run")
    parser.add_argument("--permissions", action="store_true", help="callers who see 100/10/1 %% vs no filter")
    parser.add_argument(
        "--explain", type=int, default=20, help="queries run under EXPLAIN ANALYZE per caller"
    )
    parser.add_argument(
        "--max-scan-tuples", type=int, nargs="*", default=[], help="hnsw.max_scan_tuples to sweep"
    )
    parser.add_argument(
        "--force-hnsw",
        action="store_true",
        help="also sweep with enable_sort off: the HNSW index for every caller",
    )
    parser.add_argument("--candidates", type=int, nargs="*", default=[100], help="SEARCH_CANDIDATES to sweep")
    args = parser.parse_args()
    with ExitStack() as exits:
        work = Path(tempfile.mkdtemp(prefix="drive-index-bench-"))
        exits.callback(shutil.rmtree, work, True)
        server = exits.enter_context(stack.postgres())
        dsn, _ = stack.database(str(server.get_uri()), "bench")
        print("loading the local model...", flush=True)
        embedder = LocalEmbedder.load()
        paragraphs, topics = acl_corpus.texts(args.chunks)
        vectors, args.vectors = asyncio.run(
            acl_corpus.vectors_for(embedder, paragraphs, topics, args.real_chunks, args.vectors_cache)
        )
        asyncio.run(acl_corpus.load(dsn, embedder.model_name, paragraphs, vectors))
        texts = queries(args.queries)
        if args.permissions:
            permissions(dsn, work, embedder, texts, args)
        else:
            latency(dsn, work, embedder, texts, args.chunks)


if __name__ == "__main__":
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    main()
