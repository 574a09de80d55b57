"""When Kafka goes away the gateway answers 503 so Google retries, and recovers when it is back."""

from __future__ import annotations

import asyncio
import contextlib
import time

from aiohttp.test_utils import TestClient, TestServer

from devstack import servers
from shared import kafka, topics
from shared.events import DriveChanged
from webhook_gateway.app import create_app

URL = "/webhooks/google-drive"


async def test_broker_down_answers_503_with_retry_after_then_recovers(
    channel, make_settings, topic_prefix: str
) -> None:
    port = servers.free_port()
    topic = topics.with_prefix(topic_prefix, topics.DRIVE_CHANGED)
    with contextlib.ExitStack() as broker, contextlib.ExitStack() as restarted:
        bootstrap = broker.enter_context(servers.tansu(port))
        await kafka.ensure_topics(bootstrap, [topic])
        settings = make_settings(
            KAFKA_BOOTSTRAP_SERVERS=bootstrap,
            KAFKA_TOPIC_PREFIX=topic_prefix,
            GATEWAY_PUBLISH_TIMEOUT_SECONDS="1",
        )
        async with TestClient(TestServer(create_app(settings))) as client:
            assert (await client.post(URL, headers=channel.headers(2))).status == 200

            await asyncio.to_thread(broker.close)
            started = time.monotonic()
            down = await client.post(URL, headers=channel.headers(3))
            assert down.status == 503
            assert down.headers["Retry-After"].isdigit()
            assert (await down.json())["error"] == "cannot queue the change"
            assert time.monotonic() - started < 3, "the publish timeout bounds the answer"
            assert (await client.get("/readyz")).status == 503

            # The broker comes back empty (memory storage): Google's retry goes through again.
            restarted.enter_context(servers.tansu(port))
            await kafka.ensure_topics(bootstrap, [topic])
            deadline = time.monotonic() + 30
            status = 0
            while status != 200 and time.monotonic() < deadline:
                status = (await client.post(URL, headers=channel.headers(3))).status
            assert status == 200


async def test_a_notification_refused_in_an_outage_is_caught_up_without_googles_retry(
    channel, make_settings, topic_prefix: str, read_events
) -> None:
    """Google may give up before the outage ends: the gateway then queues a poll of the source itself."""
    port = servers.free_port()
    topic = topics.with_prefix(topic_prefix, topics.DRIVE_CHANGED)
    with contextlib.ExitStack() as broker, contextlib.ExitStack() as restarted:
        bootstrap = broker.enter_context(servers.tansu(port))
        await kafka.ensure_topics(bootstrap, [topic])
        settings = make_settings(
            KAFKA_BOOTSTRAP_SERVERS=bootstrap,
            KAFKA_TOPIC_PREFIX=topic_prefix,
            GATEWAY_PUBLISH_TIMEOUT_SECONDS="1",
        )
        async with TestClient(TestServer(create_app(settings))) as client:
            await asyncio.to_thread(broker.close)
            assert (await client.post(URL, headers=channel.headers(7))).status == 503
            forged = channel.headers(8, **{"X-Goog-Channel-Token": "not-the-token"})
            assert (await client.post(URL, headers=forged)).status == 403  # never remembered

            restarted.enter_context(servers.tansu(port))  # back, and Google never retries
            await kafka.ensure_topics(bootstrap, [topic])
            records = await read_events(topic, want=1, linger=8, bootstrap=bootstrap)
    events = [DriveChanged.model_validate_json(record.value or b"") for record in records]
    # The timed-out send may still arrive once the broker is back; the poll arrives regardless.
    assert "poll" in {e.resource_state for e in events}
    assert {(e.source_id, e.channel_id) for e in events} == {(channel.source_id, channel.channel_id)}
