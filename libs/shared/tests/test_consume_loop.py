"""The shared consume loop on a real broker: commit after work, retries, dead-letter topic, traces."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from shared import kafka, topics
from shared.errors import PermanentError, RetriableError
from shared.events import DriveChanged


def _event(source: str) -> DriveChanged:
    return DriveChanged(source_id=source, resource_state="change", received_at=datetime.now(UTC))


async def _run_until(loop: kafka.ConsumeLoop, condition: asyncio.Event) -> None:
    task = asyncio.create_task(loop.run())
    try:
        await asyncio.wait_for(condition.wait(), 20)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_poison_message_goes_to_dlq_and_next_message_is_processed(
    kafka_bootstrap: str, topics_created: str
) -> None:
    topic = topics.with_prefix(topics_created, topics.DRIVE_CHANGED)
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, enable_idempotence=False, acks="all")
    await producer.start()
    publisher = kafka.Publisher(producer, topics_created)
    await producer.send_and_wait(topic, b"{not json", key=b"src")
    await publisher.publish(topics.DRIVE_CHANGED, "src", _event("permanent"))
    await publisher.publish(topics.DRIVE_CHANGED, "src", _event("flaky"))
    await publisher.publish(topics.DRIVE_CHANGED, "src", _event("good"))

    handled: list[str] = []
    flaky_attempts = 0
    done = asyncio.Event()

    async def handler(event: DriveChanged) -> None:
        nonlocal flaky_attempts
        if event.source_id == "permanent":
            raise PermanentError("cannot ever work")
        if event.source_id == "flaky":
            flaky_attempts += 1
            if flaky_attempts < 3:
                raise RetriableError("try again")
        handled.append(event.source_id)
        if event.source_id == "good":
            done.set()

    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=kafka_bootstrap,
        group_id=f"{topics_created}g",
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    await consumer.start()
    loop = kafka.ConsumeLoop(consumer, DriveChanged, handler, publisher, max_attempts=4, backoff_seconds=0.01)
    await _run_until(loop, done)
    await consumer.stop()
    assert handled == ["flaky", "good"]
    assert flaky_attempts == 3

    dlq = AIOKafkaConsumer(
        topics.dead_letter(topic),
        bootstrap_servers=kafka_bootstrap,
        group_id=f"{topics_created}dlq",
        auto_offset_reset="earliest",
    )
    await dlq.start()
    parked = [await asyncio.wait_for(dlq.getone(), 10) for _ in range(2)]
    await dlq.stop()
    await producer.stop()
    assert parked[0].value == b"{not json"
    assert kafka.header_value(parked[0].headers, "dlq.error").startswith("ValidationError")
    assert kafka.header_value(parked[1].headers, "dlq.error") == "PermanentError: cannot ever work"
    assert kafka.header_value(parked[1].headers, "dlq.attempts") == "1"

    # Everything was committed: a new consumer in the same group finds nothing left to read.
    again = AIOKafkaConsumer(
        topic,
        bootstrap_servers=kafka_bootstrap,
        group_id=f"{topics_created}g",
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    await again.start()
    leftover = await again.getmany(timeout_ms=1500)
    await again.stop()
    assert sum(len(batch) for batch in leftover.values()) == 0
