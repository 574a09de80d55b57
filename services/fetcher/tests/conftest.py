"""Fixtures for the fetcher's integration tests: the service and both ends of its pipeline.

The Drive emulator fixtures (drive_server, drive_control, drive_client) come from devstack."""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import asyncpg
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from drive.client import DriveClient
from drive_emulator import EmulatorServer
from fetcher.app import create_app
from fetcher.settings import FetcherSettings
from shared import kafka, topics
from shared.events import DocFetched, DriveChanged
from shared.settings import load

Client = TestClient[web.Request, web.Application]
SettingsFactory = Callable[..., FetcherSettings]
ServiceFactory = Callable[..., contextlib.AbstractAsyncContextManager[Client]]
DEADLINE_SECONDS = 30.0


@pytest.fixture
def make_settings(
    monkeypatch: pytest.MonkeyPatch, service_env: dict[str, str], drive_server: EmulatorServer
) -> SettingsFactory:
    """Read the fetcher's settings from the environment, as `python -m fetcher` does."""

    def make(**overrides: str) -> FetcherSettings:
        env = {
            **service_env,
            "DRIVE_API_ENDPOINT": drive_server.api_endpoint,
            "DRIVE_BACKOFF_SECONDS": "0.01",
            "DRIVE_MAX_BACKOFF_SECONDS": "0.05",
            "FETCHER_CHANGES_PAGE_SIZE": "2",
            **overrides,
        }
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        return load(FetcherSettings)

    return make


@pytest.fixture
def start_service(make_settings: SettingsFactory, topics_created: str) -> ServiceFactory:
    """Run the fetcher on a local port with some settings changed, for the length of a `with` block."""

    @contextlib.asynccontextmanager
    async def start(**overrides: str) -> AsyncIterator[Client]:
        async with TestClient(TestServer(create_app(make_settings(**overrides)))) as client:
            yield client

    return start


@pytest.fixture
async def service(start_service: ServiceFactory) -> AsyncIterator[Client]:
    """The fetcher on a local port, consuming this test's drive.changed topic."""
    async with start_service() as client:
        yield client


@dataclass
class Pipeline:
    """Both ends of the fetcher for one source: drive.changed in, doc.fetched out, the cursor in SQL."""

    source_id: str
    prefix: str
    drive: DriveClient
    pool: asyncpg.Pool
    publisher: kafka.Publisher
    consumer: AIOKafkaConsumer
    partitions: list[TopicPartition] = field(default_factory=list)

    async def start_cursor(self) -> str:
        """Store Drive's current start token as the source's cursor, as a first message would."""
        token = await self.drive.get_start_page_token()
        await self.pool.execute(
            """INSERT INTO sources (id, page_token) VALUES ($1, $2)
               ON CONFLICT (id) DO UPDATE SET page_token = $2""",
            self.source_id,
            token,
        )
        return token

    async def notify(self, state: str = "change") -> None:
        """Publish drive.changed for the source, as the gateway does."""
        event = DriveChanged(source_id=self.source_id, resource_state=state, received_at=datetime.now(UTC))  # type: ignore[arg-type]
        await self.publisher.publish(event)

    async def page_token(self) -> str | None:
        token: str | None = await self.pool.fetchval(
            "SELECT page_token FROM sources WHERE id = $1", self.source_id
        )
        return token

    async def caught_up(self) -> None:
        """Wait until the stored cursor is Drive's current one: every change was published."""
        wanted = await self.drive.get_start_page_token()
        deadline = time.monotonic() + DEADLINE_SECONDS
        while (token := await self.page_token()) != wanted:
            assert time.monotonic() < deadline, f"cursor still {token}, Drive is at {wanted}"
            await asyncio.sleep(0.05)

    async def fetched(self) -> list[DocFetched]:
        """Read every doc.fetched published since the last call (up to the end of each partition)."""
        ends = await self.consumer.end_offsets(self.partitions)
        events: list[DocFetched] = []
        deadline = time.monotonic() + DEADLINE_SECONDS
        while [tp for tp in self.partitions if await self.consumer.position(tp) < ends[tp]]:
            assert time.monotonic() < deadline, "doc.fetched could not be read to its end"
            batches = await self.consumer.getmany(*self.partitions, timeout_ms=200)
            events += [
                DocFetched.model_validate_json(r.value or b"") for batch in batches.values() for r in batch
            ]
        return events

    async def fetched_at_least(self, count: int) -> list[DocFetched]:
        """Read doc.fetched until `count` events arrived."""
        events: list[DocFetched] = []
        deadline = time.monotonic() + DEADLINE_SECONDS
        while len(events) < count:
            assert time.monotonic() < deadline, f"only {len(events)} of {count} doc.fetched arrived"
            events += await self.fetched()
            await asyncio.sleep(0.05)
        return events

    async def index(self, file: dict[str, object], **columns: object) -> None:
        """Record a file as indexed at its version, as the embedder would."""
        await self.pool.execute(
            "INSERT INTO sources (id) VALUES ($1) ON CONFLICT (id) DO NOTHING", self.source_id
        )
        await self.pool.execute(
            """INSERT INTO documents (file_id, source_id, name, mime_type, version, content_hash)
               VALUES ($1, $2, $3, $4, $5, $6)
               ON CONFLICT (file_id) DO UPDATE SET version = EXCLUDED.version""",
            file["id"],
            self.source_id,
            file["name"],
            file["mimeType"],
            int(str(columns.get("version", file["version"]))),
            columns.get("content_hash"),
        )
        await self.pool.execute(
            "INSERT INTO document_sources (file_id, source_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            file["id"],
            self.source_id,
        )


@pytest.fixture
async def pipeline(
    kafka_bootstrap: str, topics_created: str, pool: asyncpg.Pool, drive_client: DriveClient
) -> AsyncIterator[Pipeline]:
    """A source of its own, a drive.changed publisher and a doc.fetched reader."""
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, enable_idempotence=False, acks="all")
    await producer.start()
    topic = topics.with_prefix(topics_created, topics.DOC_FETCHED)
    consumer = AIOKafkaConsumer(bootstrap_servers=kafka_bootstrap, auto_offset_reset="earliest")
    await consumer.start()
    await consumer.topics()  # loads the cluster metadata, so the partitions are known
    partitions = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]
    consumer.assign(partitions)
    source_id = f"src-{uuid.uuid4().hex[:8]}"
    yield Pipeline(
        source_id,
        topics_created,
        drive_client,
        pool,
        kafka.Publisher(producer, topics_created),
        consumer,
        partitions,
    )
    await consumer.stop()
    await producer.stop()
