"""The shared consume loop on a real broker: commit after work, outages waited out, bad messages parked."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from prometheus_client import REGISTRY

from shared import kafka, topics
from shared.backoff import FOREVER, Backoff
from shared.errors import PermanentError, RetriableError
from shared.events import DriveChanged

QUICK = Backoff(FOREVER, base_seconds=0.01, max_seconds=0.05)


def _event(name: str, **fields: Any) -> DriveChanged:
    """An event of source `src` (one key, so one partition: the tests rely on their order) named `name`."""
    return DriveChanged(
        source_id="src", request_id=name, resource_state="change", received_at=datetime.now(UTC), **fields
    )


def _consumer(bootstrap: str, topic: str, group: str) -> AIOKafkaConsumer:
    return AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=group,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )


def _sample(name: str, topic: str) -> float | None:
    return REGISTRY.get_sample_value(name, {"topic": topic})


@pytest.fixture
async def publisher(kafka_bootstrap: str, topics_created: str) -> AsyncIterator[kafka.Publisher]:
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, enable_idempotence=False, acks="all")
    await producer.start()
    yield kafka.Publisher(producer, topics_created)
    await producer.stop()


async def _run_until(loop: kafka.ConsumeLoop, condition: asyncio.Event, seconds: float = 20) -> None:
    task = asyncio.create_task(loop.run())
    try:
        await asyncio.wait_for(condition.wait(), seconds)
        assert not task.done(), "the consume loop ended"
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def _partitions(reader: AIOKafkaConsumer, topic: str) -> list[TopicPartition]:
    await reader.topics()  # loads the cluster metadata, so the partitions are known
    return [TopicPartition(topic, p) for p in sorted(reader.partitions_for_topic(topic) or ())]


async def _read(bootstrap: str, topic: str) -> list[Any]:
    """Everything on `topic` now, partition by partition (no group: joining one takes seconds)."""
    reader = AIOKafkaConsumer(bootstrap_servers=bootstrap, auto_offset_reset="earliest")
    await reader.start()
    try:
        partitions = await _partitions(reader, topic)
        ends = await reader.end_offsets(partitions)
        reader.assign(partitions)
        records: list[Any] = []
        while len(records) < sum(ends.values()):
            batches = await asyncio.wait_for(reader.getmany(timeout_ms=200), 10)
            records += [r for tp in partitions for r in batches.get(tp, [])]
        return sorted(records, key=lambda r: (r.partition, r.offset))
    finally:
        await reader.stop()


async def _all_committed(bootstrap: str, topic: str, group: str) -> bool:
    """Tell whether `group` committed every message of `topic`, without joining the group."""
    reader = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False)
    await reader.start()
    try:
        partitions = await _partitions(reader, topic)
        ends: dict[TopicPartition, int] = await reader.end_offsets(partitions)
        committed: dict[TopicPartition, int] = {tp: await reader.committed(tp) or 0 for tp in partitions}
        return committed == ends
    finally:
        await reader.stop()


async def test_only_bad_messages_go_to_the_dlq_with_error_and_attempt_headers(
    kafka_bootstrap: str, topics_created: str, publisher: kafka.Publisher
) -> None:
    topic = topics.with_prefix(topics_created, topics.DRIVE_CHANGED)
    newer = json.loads(_event("from-the-future").to_bytes()) | {"schema_version": 2}
    sends = [
        b"{not json",
        json.dumps(newer).encode(),
        json.dumps({"source_id": "no-state-no-time"}).encode(),
    ]
    for value in sends:
        await publisher.send(topic, b"src", value)
    await publisher.publish(_event("permanent"))
    await publisher.publish(_event("good"))

    handled: list[str] = []
    attempts = {"permanent": 0}
    done = asyncio.Event()

    async def handler(event: DriveChanged) -> None:
        if event.request_id == "permanent":
            attempts["permanent"] += 1
            if attempts["permanent"] < 3:
                raise RetriableError("a dependency blinked first")
            raise PermanentError("cannot ever work")
        handled.append(event.request_id or "")
        done.set()

    consumer = _consumer(kafka_bootstrap, topic, f"{topics_created}g")
    await consumer.start()
    await _run_until(kafka.ConsumeLoop(consumer, DriveChanged, handler, publisher, backoff=QUICK), done)
    await consumer.stop()
    assert handled == ["good"]

    parked = await _read(kafka_bootstrap, topics.dead_letter(topic))
    assert len(parked) == 4
    errors = [kafka.header_value(p.headers, "dlq.error") or "" for p in parked]
    assert [p.value for p in parked[:3]] == sends
    assert errors[0].startswith("ValidationError")
    assert "Invalid JSON" in errors[0]
    assert errors[1].startswith("UnsupportedSchemaVersion: schema_version 2 is newer than 1")
    assert errors[2].startswith("ValidationError")
    assert "resource_state" in errors[2]
    assert errors[3] == "PermanentError: cannot ever work"
    assert [kafka.header_value(p.headers, "dlq.attempts") for p in parked] == ["1", "1", "1", "3"]
    assert kafka.header_value(parked[3].headers, "dlq.source") == f"{topic}/{parked[3].partition}/3"
    # Everything was committed: a new consumer in the same group would find nothing left to read.
    assert await _all_committed(kafka_bootstrap, topic, f"{topics_created}g")


async def test_an_outage_longer_than_the_old_attempt_limit_is_waited_out_not_dead_lettered(
    kafka_bootstrap: str, topics_created: str, publisher: kafka.Publisher
) -> None:
    topic = topics.with_prefix(topics_created, topics.DRIVE_CHANGED)
    await publisher.publish(_event("during-outage"))
    await publisher.publish(_event("after"))
    # Retriable, unknown (a driver's own error) and data-looking errors alike: none is the message's fault.
    failures: list[Exception] = [
        *(RetriableError("database down") for _ in range(6)),
        *(ConnectionResetError("peer gone") for _ in range(4)),
        KeyError("a bug, fixed by the next deploy"),
        RuntimeError("still down"),
    ]
    handled: list[str] = []
    retrying_seen: list[float] = []
    done = asyncio.Event()

    async def handler(event: DriveChanged) -> None:
        if event.request_id == "during-outage" and failures:
            retrying_seen.append(_sample("drive_index_consumer_retrying_seconds", topic) or 0.0)
            raise failures.pop(0)
        handled.append(event.request_id or "")
        if event.request_id == "after":
            done.set()

    consumer = _consumer(kafka_bootstrap, topic, f"{topics_created}g")
    await consumer.start()
    loop = kafka.ConsumeLoop(consumer, DriveChanged, handler, publisher, backoff=QUICK)
    await _run_until(loop, done)
    await consumer.stop()

    assert handled == ["during-outage", "after"]
    assert len(retrying_seen) == 12, "more attempts than the old CONSUMER_MAX_ATTEMPTS=8"
    assert retrying_seen[-1] > 0, "the stalled gauge rises while the message is retried"
    assert _sample("drive_index_consumer_retrying_seconds", topic) == 0
    assert REGISTRY.get_sample_value(
        "drive_index_messages_total", {"topic": topic, "outcome": "dead_lettered"}
    ) in (None, 0)
    assert await _read(kafka_bootstrap, topics.dead_letter(topic)) == []
    assert await _all_committed(kafka_bootstrap, topic, f"{topics_created}g")


async def _slow_then_fast(
    kafka_bootstrap: str, topics_created: str, publisher: kafka.Publisher, keepalive_seconds: float | None
) -> tuple[list[str], str]:
    """Run a loop whose first handling outlasts max_poll_interval; return what was handled."""
    topic = topics.with_prefix(topics_created, topics.DRIVE_CHANGED)
    await publisher.publish(_event("slow"))
    await publisher.publish(_event("next"))
    handled: list[str] = []
    done = asyncio.Event()

    async def handler(event: DriveChanged) -> None:
        if event.request_id == "slow" and "slow" not in handled:
            await asyncio.sleep(MAX_POLL_INTERVAL_MS / 1000 * 2.5)
        handled.append(event.request_id or "")
        if event.request_id == "next":
            done.set()

    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=kafka_bootstrap,
        group_id=f"{topics_created}g",
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        max_poll_interval_ms=MAX_POLL_INTERVAL_MS,
        session_timeout_ms=3_000,  # Tansu completes a rejoin once the old member's session ran out
        heartbeat_interval_ms=500,
    )
    await consumer.start()
    loop = kafka.ConsumeLoop(
        consumer, DriveChanged, handler, publisher, backoff=QUICK, max_poll_interval_ms=MAX_POLL_INTERVAL_MS
    )
    if keepalive_seconds is not None:
        loop.keepalive_seconds = keepalive_seconds
    await _run_until(loop, done, seconds=40)
    await consumer.stop()
    assert await _all_committed(kafka_bootstrap, topic, f"{topics_created}g")
    return handled, topic


MAX_POLL_INTERVAL_MS = 2_000


async def test_a_handler_longer_than_max_poll_interval_keeps_its_partitions(
    kafka_bootstrap: str, topics_created: str, publisher: kafka.Publisher
) -> None:
    handled, topic = await _slow_then_fast(kafka_bootstrap, topics_created, publisher, None)
    assert handled == ["slow", "next"], (
        "polling paused partitions kept the group: no rebalance, no redelivery"
    )
    assert REGISTRY.get_sample_value("drive_index_consumer_rewinds_total", {"topic": topic}) is None


async def test_a_consumer_that_left_its_group_rereads_from_the_last_commit(
    kafka_bootstrap: str, topics_created: str, publisher: kafka.Publisher
) -> None:
    # As a loop blocked for longer than max_poll_interval would: aiokafka leaves the group, and the
    # commit after the work fails. The loop must go back to the last commit instead of ending.
    handled, topic = await _slow_then_fast(kafka_bootstrap, topics_created, publisher, 3600)
    assert handled[0] == "slow"
    assert handled[-1] == "next"
    assert handled.count("slow") >= 2, "handled again after the failed commit (at least once)"
    rewinds = [
        s.value
        for metric in REGISTRY.collect()
        if metric.name == "drive_index_consumer_rewinds"
        for s in metric.samples
        if s.labels.get("topic") == topic and s.name.endswith("_total")
    ]
    assert sum(rewinds) >= 1
