"""`drive-index status FILE` and `reconcile --dry-run`, on real PostgreSQL and the Drive emulator."""

from __future__ import annotations

import argparse
import uuid

import asyncpg
import pytest

from drive_emulator import EmulatorControl, EmulatorServer
from drive_index_cli import passes, status


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, postgres_dsn: str, drive_server: EmulatorServer) -> None:
    monkeypatch.setenv("DATABASE_URL", postgres_dsn)
    monkeypatch.setenv("DRIVE_API_ENDPOINT", drive_server.api_endpoint)


async def index(pool: asyncpg.Pool, source: str, file_id: str, **columns: object) -> None:
    await pool.execute("INSERT INTO sources (id) VALUES ($1) ON CONFLICT DO NOTHING", source)
    await pool.execute(
        """INSERT INTO documents (file_id, source_id, name, mime_type, version, skip_reason)
           VALUES ($1, $2, $3, 'text/plain', 1, $4)""",
        file_id,
        source,
        f"{file_id}.txt",
        columns.get("skip_reason"),
    )
    await pool.execute("INSERT INTO document_sources (file_id, source_id) VALUES ($1, $2)", file_id, source)


async def test_status_says_why_a_file_is_or_is_not_found(pool: asyncpg.Pool) -> None:
    source, file_id = f"src-{uuid.uuid4().hex[:6]}", f"f-{uuid.uuid4().hex[:8]}"
    async with pool.acquire() as connection:
        assert status.verdict(await status.file_status(connection, file_id)) == "not in the index"
        await index(pool, source, file_id)
        await pool.execute(
            "INSERT INTO file_access (file_id, version, readers, reason) VALUES ($1, 1, '{}', $2)",
            file_id,
            "permissions unreadable: 403",
        )
        found = await status.file_status(connection, file_id)
        assert status.verdict(found) == "indexed, but nobody can find it (permissions unreadable: 403)"
        await pool.execute(
            """INSERT INTO fetch_failures (file_id, source_id, version, kind, reason)
               VALUES ($1, $2, 2, 'transient', 'Drive answered 503')""",
            file_id,
            source,
        )
        report = status.render(file_id, await status.file_status(connection, file_id))
    assert report.splitlines()[0] == f"{file_id}: transient failure at version 2: Drive answered 503"
    assert "who may find it:" in report


async def test_reconcile_dry_run_lists_only_files_drive_confirms_gone(
    env: None, pool: asyncpg.Pool, drive_control: EmulatorControl, capsys: pytest.CaptureFixture[str]
) -> None:
    source = f"src-{uuid.uuid4().hex[:6]}"
    kept = drive_control.create_doc("Kept", "# Kept")
    binned = drive_control.create_doc("Binned", "# Binned")
    drive_control.trash(binned["id"])
    for file_id in (kept["id"], binned["id"], "vanished-1"):
        await index(pool, source, file_id)
    args = argparse.Namespace(source=source, dry_run=True, force=False, max_delete_share=0.1)
    assert await passes.reconcile_command(args) == 0
    out = capsys.readouterr().out
    assert "gone from Drive (would delete): 2" in out
    assert "refused: would delete 2 of 3 indexed files" in out
    assert kept["id"] not in out.split("would delete")[1]
    count = await pool.fetchval("SELECT count(*) FROM documents WHERE source_id = $1", source)
    assert count == 3, "a dry run changes nothing"
