"""Search latency at ~10k chunks: HTTP end to end, and the SQL with the HNSW index vs an exact scan.

Embeds CHUNKS synthetic chunks with the local model (the slow part, shown as progress), loads them
into a fresh embedded PostgreSQL, starts the search service, and prints latency percentiles plus
the index's speed-up and recall@10 against an exact scan of the same queries.

    .venv/bin/python bench/search_latency.py [--chunks 10000] [--queries 200]
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
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from corpus import TOPICS, paragraph

from devstack import servers
from shared import checks, db
from shared.embeddings.local import LocalEmbedder

ROOT = Path(__file__).resolve().parents[1]
CHUNKS_PER_DOC = 10


def percentiles(samples: list[float]) -> str:
    ordered = sorted(samples)

    def at(p: float) -> float:
        return ordered[min(len(ordered) - 1, int(p * len(ordered)))]

    mean = statistics.mean(ordered)
    return f"p50 {at(0.50):6.1f} ms   p95 {at(0.95):6.1f} ms   p99 {at(0.99):6.1f} ms   mean {mean:6.1f} ms"


async def load(dsn: str, embedder: LocalEmbedder, count: int) -> None:
    rng = random.Random(7)
    texts = [paragraph(rng, rng.choice(sorted(TOPICS)), sentences=3) for _ in range(count)]
    vectors = []
    started = time.perf_counter()
    for start in range(0, count, 256):
        vectors.extend(await embedder.embed_documents(texts[start : start + 256]))
        done = len(vectors)
        rate = done / (time.perf_counter() - started)
        print(f"\r  embedded {done}/{count} chunks ({rate:.0f}/s)", end="", flush=True)
    print()
    pool = await db.create_pool(dsn, max_size=2)
    async with pool.acquire() as connection:
        await connection.execute("INSERT INTO sources (id) VALUES ('bench')")
        documents = [
            (f"doc{n}", "bench", f"Handbook {n}", "application/vnd.google-apps.document", 1)
            for n in range(count // CHUNKS_PER_DOC + 1)
        ]
        await connection.copy_records_to_table(
            "documents", records=documents, columns=["file_id", "source_id", "name", "mime_type", "version"]
        )
        rows = [
            (
                f"doc{i // CHUNKS_PER_DOC}",
                i % CHUNKS_PER_DOC,
                text,
                len(text.split()),
                embedder.model_name,
                vector,
            )
            for i, (text, vector) in enumerate(zip(texts, vectors, strict=True))
        ]
        started = time.perf_counter()
        await connection.executemany(
            "INSERT INTO chunks (file_id, position, text, token_count, model, embedding)"
            " VALUES ($1, $2, $3, $4, $5, $6)",
            rows,
        )
        print(f"  inserted {count} chunks and built the HNSW index in {time.perf_counter() - started:.1f} s")
        await connection.execute("ANALYZE")
    await pool.close()


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


def http_timings(search_url: str, texts: list[str]) -> tuple[list[float], list[float]]:
    wall, reported = [], []
    for text in texts:
        started = time.perf_counter()
        status, body = checks.http_json(
            f"{search_url}/search?" + urllib.parse.urlencode({"q": text, "k": 10})
        )
        wall.append((time.perf_counter() - started) * 1000)
        assert status == 200, body
        reported.append(float(body["took_ms"]))
    return wall, reported


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--chunks", type=int, default=10_000)
    parser.add_argument("--queries", type=int, default=200)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="drive-index-bench-"))
    work.chmod(0o755)
    server = servers.start_postgres_server(work / "pg")
    search = None
    try:
        dsn = asyncio.run(servers.create_database(str(server.get_uri()), "bench"))
        asyncio.run(db.migrate(dsn, ROOT / "db" / "migrations"))
        print("loading the local model...", flush=True)
        embedder = LocalEmbedder.load()
        asyncio.run(load(dsn, embedder, args.chunks))
        texts = queries(args.queries)
        indexed, exact, recall = asyncio.run(sql_timings(dsn, embedder, texts[:100]))
        port = servers.free_port()
        env = {"DATABASE_URL": dsn, "HTTP_PORT": str(port), "LOG_LEVEL": "WARNING", "HF_HUB_OFFLINE": "1"}
        search = servers.start_python("search", env, work / "search.log")
        servers.wait_until_ready(f"http://127.0.0.1:{port}/readyz", search, 180)
        http_timings(f"http://127.0.0.1:{port}", texts[:10])  # warm up
        wall, reported = http_timings(f"http://127.0.0.1:{port}", texts)
    finally:
        if search is not None:
            servers.stop(search)
        server.cleanup()
        shutil.rmtree(work, ignore_errors=True)
    print(
        f"\nmachine: {os.cpu_count()} CPUs; {args.chunks} chunks of {embedder.dimensions} dims; "
        f"{len(texts)} queries, k=10, one at a time"
    )
    print(f"GET /search, end to end (HTTP client)   {percentiles(wall)}")
    print(f"  of which the service reports           {percentiles(reported)}")
    print(f"vector top-10 SQL, HNSW index             {percentiles(indexed)}")
    print(f"vector top-10 SQL, exact scan (baseline)  {percentiles(exact)}")
    ratio = statistics.median(exact) / statistics.median(indexed)
    print(f"HNSW speed-up over exact scan (median)    {ratio:.1f}x   recall@10 {recall:.3f}")


if __name__ == "__main__":
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    main()
