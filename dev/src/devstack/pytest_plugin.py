"""Fixtures that start real servers for the tests: PostgreSQL + pgvector and a Kafka broker.

Servers start once per test session; each test gets its own topic prefix and database rows keyed
by unique ids, so tests never truncate each other's data.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from devstack import servers
from drive_emulator import EmulatorControl, EmulatorServer
from shared import db, kafka, topics
from shared.drive import DriveClient, DriveSettings

ROOT = Path(__file__).resolve().parents[3]
MIGRATIONS = ROOT / "db" / "migrations"


@pytest.fixture(scope="session")
def postgres_dsn() -> Iterator[str]:
    """A migrated database on a real PostgreSQL 18 + pgvector server."""
    # Not under pytest's private tmp folder: as root, the server runs as its own unprivileged user.
    datadir = Path(tempfile.mkdtemp(prefix="drive-index-pg-"))
    datadir.chmod(0o755)
    server = servers.start_postgres_server(datadir)
    dsn = asyncio.run(servers.create_database(str(server.get_uri()), "drive_index_test"))
    asyncio.run(db.migrate(dsn, MIGRATIONS))
    yield dsn
    server.cleanup()
    shutil.rmtree(datadir, ignore_errors=True)


@pytest.fixture(scope="session")
def kafka_bootstrap(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The address of a real Kafka-protocol broker (Tansu, memory storage)."""
    external = os.environ.get("TEST_KAFKA_BOOTSTRAP_SERVERS")
    if external:
        yield external
        return
    with servers.tansu(log_path=tmp_path_factory.mktemp("tansu") / "tansu.log") as bootstrap:
        yield bootstrap


@pytest.fixture
def topic_prefix() -> str:
    """A prefix that gives this test topics (and consumer groups) of its own."""
    return f"t{uuid.uuid4().hex[:10]}."


@pytest.fixture
async def topics_created(kafka_bootstrap: str, topic_prefix: str) -> str:
    """Create this test's pipeline topics and their dead-letter topics; return the prefix."""
    await kafka.ensure_topics(kafka_bootstrap, [topics.with_prefix(topic_prefix, t) for t in topics.ALL])
    return topic_prefix


@pytest.fixture
def service_env(postgres_dsn: str, kafka_bootstrap: str, topic_prefix: str) -> dict[str, str]:
    """The environment a service needs to run against the test servers."""
    return {
        "DATABASE_URL": postgres_dsn,
        "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
        "KAFKA_ENABLE_IDEMPOTENCE": "false",
        "KAFKA_TOPIC_PREFIX": topic_prefix,
        "CONSUMER_BACKOFF_SECONDS": "0.05",
        "LOG_FORMAT": "json",
    }


@pytest.fixture
async def pool(postgres_dsn: str) -> AsyncIterator[object]:
    """An asyncpg pool on the test database."""
    connection_pool = await db.create_pool(postgres_dsn, max_size=4)
    yield connection_pool
    await connection_pool.close()


@pytest.fixture
def drive_server() -> Iterator[EmulatorServer]:
    """A Drive emulator of this test's own, on a free port (`.api_endpoint` is DRIVE_API_ENDPOINT)."""
    with EmulatorServer() as server:
        yield server


@pytest.fixture
def drive_control(drive_server: EmulatorServer) -> EmulatorControl:
    """Change the emulated Drive's files and inject faults."""
    return EmulatorControl(drive_server.url)


@pytest.fixture
async def drive_client(drive_server: EmulatorServer) -> AsyncIterator[DriveClient]:
    """The real Drive client on the emulator, with quick retries."""
    settings = DriveSettings(drive_api_endpoint=drive_server.api_endpoint, drive_backoff_seconds=0.01)
    async with DriveClient.from_settings(settings) as client:
        yield client
