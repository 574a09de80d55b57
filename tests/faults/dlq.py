"""Read a pipeline's dead-letter topics: what its consumers gave up on."""

from __future__ import annotations

from aiokafka import AIOKafkaConsumer, TopicPartition

from shared import topics
from shared.kafka import header_value

READ_TIMEOUT_MS = 2000


async def dead_letters(bootstrap_servers: str, prefix: str) -> list[str]:
    """Describe each message of the `<prefix><topic>.dlq` topics: topic, key and the error."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap_servers, enable_auto_commit=False)
    await consumer.start()
    try:
        known = await consumer.topics()
        names = [topics.with_prefix(prefix, topics.dead_letter(topic)) for topic in topics.ALL]
        partitions = [
            TopicPartition(name, partition)
            for name in names
            if name in known
            for partition in consumer.partitions_for_topic(name) or ()
        ]
        if not partitions:
            return []
        ends = {tp: end for tp, end in (await consumer.end_offsets(partitions)).items() if end > 0}
        if not ends:
            return []
        consumer.assign(list(ends))
        await consumer.seek_to_beginning(*ends)
        return await _read_to(consumer, ends)
    finally:
        await consumer.stop()


async def _read_to(consumer: AIOKafkaConsumer, ends: dict[TopicPartition, int]) -> list[str]:
    """Read every assigned partition up to its end offset."""
    found: list[str] = []
    while True:
        batches = await consumer.getmany(timeout_ms=READ_TIMEOUT_MS)
        for records in batches.values():
            found.extend(
                f"{r.topic} key={(r.key or b'').decode()} error={header_value(r.headers, 'dlq.error')}"
                for r in records
            )
        if len(found) >= sum(ends.values()):
            return found
        if not batches:  # never report an empty dead-letter topic because a read came back empty
            return [*found, f"{sum(ends.values()) - len(found)} more dead letters not read"]
