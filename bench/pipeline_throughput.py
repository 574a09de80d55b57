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

from devstack import servers
from devstack.stack import SERVICES, Stack
from drive_emulator.client import EmulatorControl
from shared import db, kafka, topics, watch

ROOT = Path(__file__).resolve().parents[1]


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


async def register_channel(dsn: str, drive_endpoint: str, address: str) -> None:
    from shared.drive import DriveClient, DriveSettings

    pool = await db.create_pool(dsn, max_size=2)
    try:
        async with DriveClient.from_settings(DriveSettings(drive_api_endpoint=drive_endpoint)) as drive:
            await watch.start(pool, drive, "bench", address)
    finally:
        await pool.close()


def bare_model_rate(texts: list[str]) -> float:
    from shared.embeddings.local import LocalEmbedder

    embedder = LocalEmbedder.load()

    async def embed_all() -> float:
        await embedder.embed_documents(texts[:8])  # warm up
        started = time.perf_counter()
        for start in range(0, len(texts), embedder.max_batch_size):
            await embedder.embed_documents(texts[start : start + embedder.max_batch_size])
        return len(texts) / (time.perf_counter() - started)

    return asyncio.run(embed_all())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--docs", type=int, default=40)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="drive-index-bench-"))
    work.chmod(0o755)
    with ExitStack() as stack:
        stack.callback(shutil.rmtree, work, True)
        server = servers.start_postgres_server(work / "pg")
        stack.callback(server.cleanup)
        dsn = asyncio.run(servers.create_database(str(server.get_uri()), "bench"))
        asyncio.run(db.migrate(dsn, ROOT / "db" / "migrations"))
        bootstrap = stack.enter_context(servers.tansu(log_path=work / "tansu.log"))
        asyncio.run(kafka.ensure_topics(bootstrap, list(topics.ALL)))
        emulator_port = servers.free_port()
        emulator = servers.start_python(
            "drive_emulator", {}, work / "emulator.log", ("--port", str(emulator_port))
        )
        stack.callback(servers.stop, emulator)
        servers.wait_for_port(emulator_port)
        endpoint = f"http://127.0.0.1:{emulator_port}/drive/v3/"
        env = {
            "DATABASE_URL": dsn,
            "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
            "KAFKA_ENABLE_IDEMPOTENCE": "false",
            "DRIVE_API_ENDPOINT": endpoint,
            "LOG_LEVEL": "WARNING",
            "HF_HUB_OFFLINE": "1",
        }
        services = Stack(env, work / "logs", {s.name: servers.free_port() for s in SERVICES})
        stack.callback(services.stop)
        print("starting PostgreSQL, Tansu, the Drive emulator and the four services...", flush=True)
        services.start(progress=lambda line: print(f"  {line}", flush=True))
        asyncio.run(
            register_channel(dsn, endpoint, f"{services.url('webhook-gateway')}/webhooks/google-drive")
        )

        drive = EmulatorControl(f"http://127.0.0.1:{emulator_port}")
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
