"""Migrations on a real PostgreSQL: in order, once, concurrently safe, and refusing edited history."""

from __future__ import annotations

import asyncio
import shutil
import uuid
from pathlib import Path

import asyncpg
import pytest

from devstack import servers
from shared import db

MIGRATIONS = Path(__file__).resolve().parents[3] / "db" / "migrations"


@pytest.fixture
async def fresh_dsn(postgres_dsn: str) -> str:
    return await servers.create_database(
        postgres_dsn.replace("/drive_index_test?", "/postgres?"), f"m{uuid.uuid4().hex[:12]}"
    )


async def test_concurrent_runs_apply_each_migration_once(fresh_dsn: str) -> None:
    results = await asyncio.gather(*(db.migrate(fresh_dsn, MIGRATIONS) for _ in range(4)))
    applied = sorted(name for result in results for name in result)
    assert applied == [p.name for p in db.migration_files(MIGRATIONS)]
    assert await db.migrate(fresh_dsn, MIGRATIONS) == []
    connection = await asyncpg.connect(fresh_dsn)
    try:
        version = await connection.fetchval("SELECT extversion FROM pg_extension WHERE extname = 'vector'")
        indexes = {r["indexname"] for r in await connection.fetch("SELECT indexname FROM pg_indexes")}
    finally:
        await connection.close()
    assert tuple(int(part) for part in version.split(".")[:2]) >= (0, 8)
    assert {"chunks_minilm_hnsw_idx", "chunks_tsv_idx"} <= indexes


async def test_an_edited_applied_migration_is_refused(fresh_dsn: str, tmp_path: Path) -> None:
    for path in db.migration_files(MIGRATIONS):
        shutil.copy(path, tmp_path / path.name)
    await db.migrate(fresh_dsn, tmp_path)
    first = db.migration_files(tmp_path)[0]
    first.write_text(first.read_text() + "\n-- edited afterwards\n")
    with pytest.raises(db.MigrationError, match="changed after it was applied"):
        await db.migrate(fresh_dsn, tmp_path)
