"""Fixtures that start real servers for the tests: PostgreSQL + pgvector and a Kafka broker.

Servers start once per test session; each test gets its own topic prefix and database rows keyed
by unique ids, so tests never truncate each other's data.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator

import pytest

from devstack import stack
from drive.client import DriveClient, DriveSettings
from drive_emulator import EmulatorControl, EmulatorServer
from shared import db, kafka, topics


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """The address of a real PostgreSQL 18 + pgvector server, for tests that want a database of their own."""
    with stack.postgres() as server:
        yield str(server.get_uri())


@pytest.fixture(scope="session")
def postgres_dsn(postgres_server: str) -> str:
    """A migrated database on a real PostgreSQL 18 + pgvector server."""
    dsn, _ = stack.database(postgres_server, "drive_index_test")
    return dsn


@pytest.fixture(scope="session")
def kafka_bootstrap(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The address of a real Kafka-protocol broker (Tansu, memory storage)."""
    external = os.environ.get("TEST_KAFKA_BOOTSTRAP_SERVERS")
    if external:
        yield external
        return
    with stack.broker(log_path=tmp_path_factory.mktemp("tansu") / "tansu.log") as bootstrap:
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
    return stack.service_env(
        postgres_dsn,
        kafka_bootstrap,
        topic_prefix=topic_prefix,
        CONSUMER_BACKOFF_SECONDS="0.05",
        LOG_FORMAT="json",  # also when pytest -s hands the services a terminal
    )


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
