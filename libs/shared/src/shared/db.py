"""PostgreSQL access: the asyncpg pool and the forward-only migration runner."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

import asyncpg
import structlog
from pgvector.asyncpg import register_vector

log = structlog.get_logger(__name__)

# Any constant works; it only has to be the same for every process that migrates this database.
_MIGRATION_LOCK = 7_311_402_118
# How much longer than the server's statement_timeout the client waits for an answer.
COMMAND_TIMEOUT_MARGIN_SECONDS = 5.0


class MigrationError(RuntimeError):
    """A migration already applied was edited afterwards, or one failed."""


async def _init_connection(connection: asyncpg.Connection) -> None:
    try:
        await register_vector(connection)
    except ValueError as exc:  # raised when the vector type is unknown
        raise MigrationError("the vector extension is missing: run `drive-index migrate` first") from exc


async def create_pool(
    dsn: str, *, min_size: int = 1, max_size: int = 10, statement_timeout_ms: int = 0
) -> asyncpg.Pool:
    """Open a pool whose connections read and write pgvector values as numpy arrays.

    With `statement_timeout_ms`, the server cancels any longer statement, and the client gives up
    on an answer a little later still (a hung connection, a partitioned network). TLS comes from
    the DSN (`sslmode`, `sslrootcert`) or PGSSLMODE / PGSSLROOTCERT.
    """
    pool = await asyncpg.create_pool(
        dsn, min_size=min_size, max_size=max_size, init=_init_connection, **timeouts(statement_timeout_ms)
    )
    assert pool is not None
    return pool


def timeouts(statement_timeout_ms: int) -> dict[str, Any]:
    """Say how asyncpg bounds every statement of a connection (0: no bound)."""
    if statement_timeout_ms <= 0:
        return {}
    return {
        "server_settings": {"statement_timeout": str(statement_timeout_ms)},
        # The server's error names the statement that was too slow; the client's is the backstop.
        "command_timeout": statement_timeout_ms / 1000 + COMMAND_TIMEOUT_MARGIN_SECONDS,
    }


def default_migrations_dir() -> Path:
    """Where `drive-index migrate` looks: MIGRATIONS_DIR, else db/migrations under the current folder."""
    return Path(os.environ.get("MIGRATIONS_DIR", "db/migrations"))


def migration_files(directory: Path) -> list[Path]:
    """List the migrations in the order they apply: by file name, `001_…sql` first."""
    return sorted(directory.glob("*.sql"))


async def migrate(dsn: str, directory: Path) -> list[str]:
    """Apply the migrations not applied yet, each in its own transaction; return their names.

    An advisory lock makes concurrent runs (several pods starting at once) take turns; a checksum
    per file refuses a database whose applied migrations were edited since.
    """
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute("SELECT pg_advisory_lock($1)", _MIGRATION_LOCK)
        await connection.execute(
            """CREATE TABLE IF NOT EXISTS schema_migrations (
                   name text PRIMARY KEY,
                   checksum text NOT NULL,
                   applied_at timestamptz NOT NULL DEFAULT now())"""
        )
        applied = dict(await connection.fetch("SELECT name, checksum FROM schema_migrations"))
        done = []
        for path in migration_files(directory):
            sql = path.read_text()
            checksum = hashlib.sha256(sql.encode()).hexdigest()
            if path.name in applied:
                if applied[path.name] != checksum:
                    raise MigrationError(
                        f"{path.name} changed after it was applied; add a new migration instead"
                    )
                continue
            async with connection.transaction():
                await connection.execute(sql)
                await connection.execute(
                    "INSERT INTO schema_migrations (name, checksum) VALUES ($1, $2)", path.name, checksum
                )
            log.info("migration.applied", name=path.name)
            done.append(path.name)
        return done
    finally:
        await connection.execute("SELECT pg_advisory_unlock($1)", _MIGRATION_LOCK)
        await connection.close()
