"""End-to-end pipeline throughput vs the bare local model, in the same run.

Starts embedded PostgreSQL, Tansu, the Drive emulator and the four services; creates DOCS Google
Docs in the emulator (each a push notification), and times until every one is indexed. Then embeds
exactly the chunks the pipeline stored with the bare model, and prints both rates and their ratio.

    .venv/bin/python bench/pipeline_throughput.py [--docs 40]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

import asyncpg

sys.path.insert(0, str(Path(__file__).parent))
from corpus import document

from devstack import stack
from drive_emulator.client import EmulatorControl


async def indexed(dsn: str, file_ids: list[str]) -> tuple[int, int]:
    connection = await asyncpg.connect(dsn)
    try:
        row = await connection.fetchrow(
            "SELECT count(DISTINCT file_id) AS docs, count(*) AS chunks FROM chunks WHERE file_id = ANY($1)",
            file_ids,
        )
        return int(row["docs"]), int(row["chunks"])
    finally:
        await connection.close()


async def chunk_texts(dsn: str, file_ids: list[str]) -> list[str]:
    connection = await asyncpg.connect(dsn)
    try:
        rows = await connection.fetch("SELECT text FROM chunks WHERE file_id = ANY($1)", file_ids)
        return [r["text"] for r in rows]
    finally:
        await connection.close()


def bare_model_rate(texts: list[str]) -> float:
    from embeddings.local import LocalEmbedder

    embedder = LocalEmbedder.load()

    async def embed_all() -> float:
        await embedder.embed_documents(texts[:8])  # warm up
        started = time.perf_counter()
        for start in range(0, len(texts), embedder.max_batch_size):
            await embedder.embed_documents(texts[start : start + embedder.max_batch_size])
        return len(texts) / (time.perf_counter() - started)

    return asyncio.run(embed_all())


def say(line: str) -> None:
    print(f"  {line}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--docs", type=int, default=40)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="drive-index-bench-"))
    with ExitStack() as exits:
        exits.callback(shutil.rmtree, work, True)
        server = exits.enter_context(stack.postgres())
        dsn, _ = stack.database(str(server.get_uri()), "bench")
        bootstrap = exits.enter_context(stack.broker(log_path=work / "tansu.log"))
        emulator = exits.enter_context(stack.emulator(work / "emulator.log"))
        env = stack.service_env(dsn, bootstrap, emulator=emulator, LOG_LEVEL="WARNING")
        print("starting PostgreSQL, Tansu, the Drive emulator and the four services...", flush=True)
        exits.enter_context(
            stack.running(
                env, work / "logs", channel="bench", progress=lambda line: print(f"  {line}", flush=True)
            )
        )

        drive = EmulatorControl(emulator)
        print(f"creating {args.docs} Google Docs in the emulator...", flush=True)
        started = time.perf_counter()
        file_ids = [drive.create_doc(*document(seed))["id"] for seed in range(args.docs)]
        docs = chunks = 0
        while docs < args.docs:
            time.sleep(0.2)
            docs, chunks = asyncio.run(indexed(dsn, file_ids))
            if time.perf_counter() - started > 900:
                raise SystemExit(
                    f"only {docs}/{args.docs} documents indexed after 15 minutes; see {work}/logs"
                )
        elapsed = time.perf_counter() - started
        texts = asyncio.run(chunk_texts(dsn, file_ids))
    pipeline_rate = chunks / elapsed
    print("embedding the same chunks with the bare model...", flush=True)
    bare_rate = bare_model_rate(texts)
    tokens = sum(len(t.split()) for t in texts) / len(texts)
    print(f"\nmachine: {os.cpu_count()} CPUs; {args.docs} docs, {chunks} chunks (~{tokens:.0f} words each)")
    print(f"{'bare model (all-MiniLM-L6-v2, batches of 32)':48s} {bare_rate:8.1f} chunks/s")
    print(
        f"{'pipeline: Drive edit -> searchable (end to end)':48s} {pipeline_rate:8.1f} chunks/s"
        f"   ({elapsed:.1f} s for {args.docs} docs)"
    )
    print(f"{'ratio pipeline / bare model':48s} {pipeline_rate / bare_rate:8.2f}")


if __name__ == "__main__":
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    main()
