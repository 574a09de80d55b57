"""The dead-letter check the fault tests rely on does see a parked message."""

from __future__ import annotations

import pytest
from aiokafka import AIOKafkaProducer

from shared import topics
from tests.faults.dlq import dead_letters

pytestmark = [pytest.mark.fault]


async def test_dead_letters_lists_what_was_parked(kafka_bootstrap: str, topics_created: str) -> None:
    assert await dead_letters(kafka_bootstrap, topics_created) == []
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap)
    await producer.start()
    try:
        parked = topics.with_prefix(topics_created, topics.dead_letter(topics.DOC_FETCHED))
        await producer.send_and_wait(
            parked, b"{}", key=b"file-1", headers=[("dlq.error", b"PermanentError: broken")]
        )
    finally:
        await producer.stop()

    assert await dead_letters(kafka_bootstrap, topics_created) == [
        f"{parked} key=file-1 error=PermanentError: broken"
    ]
