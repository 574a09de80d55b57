"""The embedder as a service: doc.fetched from the real broker, real PostgreSQL, chunks.embedded out."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import asyncpg
import pytest
from aiohttp.test_utils import TestClient, TestServer
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from embedder.app import Deps, create_app
from embedder.settings import EmbedderSettings
from embeddings import HashingEmbedder
from shared import kafka, topics
from shared.events import ChunksEmbedded, DocFetched, FetchAction, FileMetadata
from shared.settings import SettingsError, load

DEADLINE_SECONDS = 30.0


@pytest.fixture
def settings(monkeypatch: pytest.MonkeyPatch, service_env: dict[str, str]) -> EmbedderSettings:
    """Read the embedder's settings from the environment, as `python -m embedder` does."""
    for name, value in {**service_env, "CONSUMER_MAX_ATTEMPTS": "2"}.items():
        monkeypatch.setenv(name, value)
    return load(EmbedderSettings)


@pytest.fixture
async def service(settings: EmbedderSettings, topics_created: str) -> AsyncIterator[Any]:
    """The embedder on a local port with a hashing model, consuming this test's doc.fetched."""
    embedder = HashingEmbedder("test-hash-384", 384)
    async with TestClient(TestServer(create_app(settings, Deps(embedder=embedder)))) as client:
        yield client


@pytest.fixture
async def publisher(kafka_bootstrap: str, topics_created: str) -> AsyncIterator[kafka.Publisher]:
    """Publish to this test's topics, as the fetcher does."""
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, enable_idempotence=False, acks="all")
    await producer.start()
    yield kafka.Publisher(producer, topics_created)
    await producer.stop()


async def _read(kafka_bootstrap: str, topic: str, count: int) -> list[Any]:
    """Read `count` messages from the start of `topic` (no consumer group: nothing to join)."""
    consumer = AIOKafkaConsumer(bootstrap_servers=kafka_bootstrap, auto_offset_reset="earliest")
    await consumer.start()
    records: list[Any] = []
    deadline = time.monotonic() + DEADLINE_SECONDS
    try:
        await consumer.topics()  # loads the cluster metadata, so the partitions are known
        consumer.assign([TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()])
        while len(records) < count:
            assert time.monotonic() < deadline, f"only {len(records)} of {count} messages on {topic}"
            batches = await consumer.getmany(timeout_ms=200)
            records += [record for batch in batches.values() for record in batch]
    finally:
        await consumer.stop()
    return records


def _event(file_id: str, text: str | None, **fields: Any) -> DocFetched:
    defaults: dict[str, Any] = {
        "metadata": FileMetadata(name="Notes", mime_type="text/markdown"),
        "text": text,
        "action": FetchAction.UPSERT,
        "version": 1,
        "fetched_at": datetime.now(UTC),
    }
    return DocFetched(source_id="source-embedder-service", file_id=file_id, **{**defaults, **fields})


async def test_doc_fetched_becomes_chunks_in_pgvector_and_chunks_embedded(
    service: Any, publisher: kafka.Publisher, pool: asyncpg.Pool, kafka_bootstrap: str, topics_created: str
) -> None:
    file_id = f"file-{uuid.uuid4().hex[:12]}"
    await publisher.publish(_event(file_id, "# Notes\n\nThe index follows Drive."))

    [record] = await _read(kafka_bootstrap, topics.with_prefix(topics_created, topics.CHUNKS_EMBEDDED), 1)
    announced = ChunksEmbedded.model_validate_json(record.value)
    assert record.key == file_id.encode()
    assert (announced.file_id, announced.chunk_count, announced.model) == (file_id, 1, "test-hash-384")
    rows = await pool.fetch("SELECT heading, text FROM chunks WHERE file_id = $1", file_id)
    assert [tuple(r) for r in rows] == [("Notes", "The index follows Drive.")]

    ready = await service.get("/readyz")
    assert ready.status == 200, await ready.text()
    assert (await ready.json())["checks"]["model"] == "ok"


async def test_an_event_that_cannot_be_indexed_goes_to_the_dead_letter_topic(
    service: Any, publisher: kafka.Publisher, kafka_bootstrap: str, topics_created: str
) -> None:
    file_id = f"file-{uuid.uuid4().hex[:12]}"
    await publisher.publish(_event(file_id, "x", text_ref="missing", metadata=None))

    dlq = topics.dead_letter(topics.with_prefix(topics_created, topics.DOC_FETCHED))
    [parked] = await _read(kafka_bootstrap, dlq, 1)
    assert parked.key == file_id.encode()
    assert (
        kafka.header_value(parked.headers, "dlq.error")
        == "PermanentError: the upsert event carries no metadata"
    )
    assert kafka.header_value(parked.headers, "dlq.attempts") == "1"


async def test_a_replayed_upsert_after_a_delete_does_not_resurrect_the_file(
    service: Any, publisher: kafka.Publisher, pool: asyncpg.Pool, kafka_bootstrap: str, topics_created: str
) -> None:
    file_id = f"file-{uuid.uuid4().hex[:12]}"
    upsert = _event(file_id, "# Notes\n\nThis file is trashed later.")
    trash = _event(file_id, None, action=FetchAction.DELETE, version=2)
    doc_fetched = topics.with_prefix(topics_created, topics.DOC_FETCHED)
    await publisher.publish(upsert)
    await publisher.publish(trash)
    # The upsert's exact bytes again, as a dead-letter replay or a zombie producer sends them;
    # then the trash once more, whose announcement shows the replay was handled before it.
    await publisher.send(doc_fetched, file_id.encode(), upsert.to_bytes())
    await publisher.publish(trash)

    records = await _read(kafka_bootstrap, topics.with_prefix(topics_created, topics.CHUNKS_EMBEDDED), 3)
    announced = [ChunksEmbedded.model_validate_json(r.value) for r in records]
    assert [(a.action, a.version) for a in announced] == [("upsert", 1), ("delete", 2), ("delete", 2)]
    assert await pool.fetchval("SELECT count(*) FROM documents WHERE file_id = $1", file_id) == 0
    assert await pool.fetchval("SELECT count(*) FROM chunks WHERE file_id = $1", file_id) == 0
    assert await pool.fetchval("SELECT version FROM tombstones WHERE file_id = $1", file_id) == 2


def test_settings_refuse_an_overlap_over_half_the_chunk(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://localhost/db")
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "localhost:9092")
    monkeypatch.setenv("EMBEDDER_CHUNK_TOKENS", "100")
    monkeypatch.setenv("EMBEDDER_CHUNK_OVERLAP_TOKENS", "60")
    with pytest.raises(SettingsError, match=r"^EMBEDDER_CHUNK_OVERLAP_TOKENS must be at most half"):
        load(EmbedderSettings)
    monkeypatch.setenv("EMBEDDER_CHUNK_OVERLAP_TOKENS", "30")
    assert load(EmbedderSettings).http_port == 8082
