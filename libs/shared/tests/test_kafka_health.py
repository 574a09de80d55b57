"""A service whose consume loop stopped says so: /healthz fails (Kubernetes restarts it) and a gauge drops."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from aiohttp.web import Application
from prometheus_client import REGISTRY

from shared import topics, web
from shared.events import DriveChanged
from shared.kafka import Handler
from shared.settings import CommonSettings, load


def _ignore(_: Application) -> Handler[DriveChanged]:
    async def handle(event: DriveChanged) -> None:
        pass

    return handle


@pytest.fixture
async def client(kafka_bootstrap: str, topics_created: str) -> AsyncIterator[TestClient[Any, Any]]:
    """A bare service (the shared skeleton) consuming this test's drive.changed."""
    settings = load(
        CommonSettings,
        database_url="postgresql://unused/db",
        kafka_bootstrap_servers=kafka_bootstrap,
        kafka_enable_idempotence=False,
        kafka_topic_prefix=topics_created,
        log_format="json",
    )
    app = web.service_app(settings, "health-test")
    app.cleanup_ctx.extend(
        [
            web.kafka_publisher(settings),
            web.consumer(settings, DriveChanged, "health", _ignore),
        ]
    )
    async with TestClient(TestServer(app)) as test_client:
        yield test_client


def _running(topic: str) -> float | None:
    return REGISTRY.get_sample_value("drive_index_consumer_running", {"topic": topic})


async def _until(condition: Any, seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "condition not met before the deadline"
        await asyncio.sleep(0.02)


async def test_a_stopped_consume_loop_turns_healthz_red(
    client: TestClient[Any, Any], topics_created: str
) -> None:
    topic = topics.with_prefix(topics_created, topics.DRIVE_CHANGED)
    loops = client.app[web.CONSUMERS]
    await _until(lambda: _running(topic) == 1)
    healthy = await client.get("/healthz")
    assert healthy.status == 200, await healthy.text()

    loops[topics.DRIVE_CHANGED].cancel()  # any end will do: a crash, a stopped consumer, a cancel
    await asyncio.gather(loops[topics.DRIVE_CHANGED], return_exceptions=True)

    dead = await client.get("/healthz")
    assert dead.status == 503
    assert await dead.json() == {"status": "consumer stopped", "stopped": [topics.DRIVE_CHANGED]}
    assert _running(topic) == 0
    ready = await client.get("/readyz")
    assert ready.status == 503
    assert "consume loop stopped" in (await ready.json())["checks"][f"consumer {topics.DRIVE_CHANGED}"]
