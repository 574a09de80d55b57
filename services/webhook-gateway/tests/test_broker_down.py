"""When Kafka goes away the gateway answers 503 so Google retries, and recovers when it is back."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from devstack import servers
from shared import kafka, topics
from shared.events import DriveChanged
from webhook_gateway.app import create_app

URL = "/webhooks/google-drive"


class PrivateBroker:
    """A broker of this test's own, stopped and started again on the same port (memory storage)."""

    def __init__(self, topic: str) -> None:
        self.port, self.topic = servers.free_port(), topic
        self.bootstrap = ""
        self.running: contextlib.ExitStack | None = None

    async def start(self) -> None:
        """Start the broker (empty) and create the drive.changed topic."""
        self.running = contextlib.ExitStack()
        self.bootstrap = self.running.enter_context(servers.tansu(self.port))
        await kafka.ensure_topics(self.bootstrap, [self.topic])

    async def stop(self) -> None:
        if self.running is not None:
            await asyncio.to_thread(self.running.close)
            self.running = None


@pytest.fixture
async def broker(topic_prefix: str) -> AsyncIterator[PrivateBroker]:
    running = PrivateBroker(topics.with_prefix(topic_prefix, topics.DRIVE_CHANGED))
    await running.start()
    yield running
    await running.stop()


@pytest.fixture
async def client(broker: PrivateBroker, make_settings: Any, topic_prefix: str) -> AsyncIterator[Any]:
    """The gateway on the private broker, waiting at most 1 s for an acknowledgement."""
    settings = make_settings(
        KAFKA_BOOTSTRAP_SERVERS=broker.bootstrap,
        KAFKA_TOPIC_PREFIX=topic_prefix,
        GATEWAY_PUBLISH_TIMEOUT_SECONDS="1",
    )
    async with TestClient(TestServer(create_app(settings))) as test_client:
        yield test_client


async def test_broker_down_answers_503_with_retry_after_then_recovers(
    client, channel, broker: PrivateBroker
) -> None:
    assert (await client.post(URL, headers=channel.headers(2))).status == 200

    await broker.stop()
    started = time.monotonic()
    down = await client.post(URL, headers=channel.headers(3))
    assert down.status == 503
    assert down.headers["Retry-After"].isdigit()
    assert (await down.json())["error"] == "cannot queue the change"
    assert time.monotonic() - started < 3, "the publish timeout bounds the answer"
    assert (await client.get("/readyz")).status == 503

    # The broker comes back empty (memory storage): Google's retry goes through again.
    await broker.start()
    deadline = time.monotonic() + 30
    status = 0
    while status != 200 and time.monotonic() < deadline:
        status = (await client.post(URL, headers=channel.headers(3))).status
    assert status == 200


async def test_a_notification_refused_in_an_outage_is_caught_up_without_googles_retry(
    client, channel, broker: PrivateBroker, read_events
) -> None:
    """Google may give up before the outage ends: the gateway then queues a poll of the source itself."""
    await broker.stop()
    assert (await client.post(URL, headers=channel.headers(7))).status == 503
    forged = channel.headers(8, **{"X-Goog-Channel-Token": "not-the-token"})
    assert (await client.post(URL, headers=forged)).status == 403  # never remembered

    await broker.start()  # back, and Google never retries
    records = await read_events(broker.topic, want=1, linger=8, bootstrap=broker.bootstrap)
    events = [DriveChanged.model_validate_json(record.value or b"") for record in records]
    # The timed-out send may still arrive once the broker is back; the poll arrives regardless.
    assert "poll" in {e.resource_state for e in events}
    assert {(e.source_id, e.channel_id) for e in events} == {(channel.source_id, channel.channel_id)}
