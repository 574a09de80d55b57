"""Every pool connection is bounded: a statement timeout on the server, a command timeout in the client."""

from __future__ import annotations

from typing import Any

import asyncpg
import pytest
from aiohttp.test_utils import TestClient, TestServer

from shared import db, web
from shared.settings import CommonSettings, load


async def test_a_statement_longer_than_the_timeout_is_cancelled_by_the_server(postgres_dsn: str) -> None:
    pool = await db.create_pool(postgres_dsn, max_size=1, statement_timeout_ms=200)
    try:
        assert await pool.fetchval("SHOW statement_timeout") == "200ms"
        with pytest.raises(asyncpg.QueryCanceledError, match="statement timeout"):
            await pool.fetchval("SELECT pg_sleep(2)")
        assert await pool.fetchval("SELECT 1") == 1, "the connection is usable afterwards"
    finally:
        await pool.close()


def test_the_client_waits_a_little_longer_than_the_server() -> None:
    assert db.timeouts(30_000) == {
        "server_settings": {"statement_timeout": "30000"},
        "command_timeout": 35.0,
    }
    assert db.timeouts(0) == {}, "0 leaves both unbounded (migrations build indexes for minutes)"


async def test_a_service_pool_takes_the_timeout_from_its_settings(postgres_dsn: str) -> None:
    settings = load(
        CommonSettings,
        database_url=postgres_dsn,
        kafka_bootstrap_servers="unused:9092",
        database_statement_timeout_ms=1_500,
        log_format="json",
    )
    app = web.service_app(settings, "db-timeout-test")
    app.cleanup_ctx.append(web.database(settings.database_url))
    client: TestClient[Any, Any]
    async with TestClient(TestServer(app)) as client:
        assert await client.app[web.POOL].fetchval("SHOW statement_timeout") == "1500ms"


@pytest.mark.parametrize("where", ["dsn", "environment"])
async def test_tls_settings_in_the_dsn_or_the_environment_reach_the_driver(
    postgres_dsn: str, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    # The test server has no TLS; a CA file that is not there proves the driver went looking for it.
    missing = "/nowhere/root.crt"
    separator = "&" if "?" in postgres_dsn else "?"
    if where == "dsn":
        dsn = f"{postgres_dsn}{separator}sslmode=verify-full&sslrootcert={missing}"
    else:
        monkeypatch.setenv("PGSSLMODE", "verify-full")
        monkeypatch.setenv("PGSSLROOTCERT", missing)
        dsn = postgres_dsn
    with pytest.raises(FileNotFoundError):
        await db.create_pool(dsn, statement_timeout_ms=1_000)
