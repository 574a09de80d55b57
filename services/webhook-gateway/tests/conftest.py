"""Fixtures for the gateway tests: a registered channel and the app served on a local port."""

from __future__ import annotations

import secrets
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import asyncpg
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from aiokafka import AIOKafkaConsumer, ConsumerRecord

from shared.settings import load
from shared.watch import token_digest
from webhook_gateway.app import create_app
from webhook_gateway.settings import GatewaySettings

Client = TestClient[web.Request, web.Application]
SettingsFactory = Callable[..., GatewaySettings]


@dataclass(frozen=True)
class Registered:
    """A channel as `drive-index watch start` registers it, and the notifications Google sends on it."""

    channel_id: str
    token: str
    source_id: str

    def headers(self, number: int, state: str = "change", **overrides: str) -> dict[str, str]:
        """Headers of one notification; an override of "" leaves that header out."""
        values = {
            "X-Goog-Channel-ID": self.channel_id,
            "X-Goog-Channel-Token": self.token,
            "X-Goog-Channel-Expiration": "Tue, 19 Nov 2030 01:13:52 GMT",
            "X-Goog-Message-Number": str(number),
            "X-Goog-Resource-ID": "resource-1",
            "X-Goog-Resource-URI": "https://www.googleapis.com/drive/v3/changes?alt=json&pageToken=42",
            "X-Goog-Resource-State": state,
            **overrides,
        }
        return {name: value for name, value in values.items() if value != ""}


@pytest.fixture
async def channel(pool: asyncpg.Pool) -> Registered:
    """A watch channel registered for a source of its own."""
    source_id, channel_id = f"src-{uuid.uuid4().hex[:8]}", str(uuid.uuid4())
    token = secrets.token_urlsafe(24)
    await pool.execute("INSERT INTO sources (id) VALUES ($1)", source_id)
    await pool.execute(
        "INSERT INTO watch_channels (id, source_id, token_sha256, address, expires_at)"
        " VALUES ($1, $2, $3, 'http://127.0.0.1/webhooks/google-drive', now() + interval '1 day')",
        channel_id,
        source_id,
        token_digest(token),
    )
    return Registered(channel_id, token, source_id)


@pytest.fixture
def make_settings(monkeypatch: pytest.MonkeyPatch, service_env: dict[str, str]) -> SettingsFactory:
    """Read the gateway's settings from the environment, as `python -m webhook_gateway` does."""

    def make(**overrides: str) -> GatewaySettings:
        for name, value in {**service_env, **overrides}.items():
            monkeypatch.setenv(name, value)
        return load(GatewaySettings)

    return make


@pytest.fixture
async def client(make_settings: SettingsFactory, topics_created: str) -> AsyncIterator[Client]:
    """The gateway on a local port, against the session's PostgreSQL and broker."""
    async with TestClient(TestServer(create_app(make_settings()))) as test_client:
        yield test_client


ReadEvents = Callable[..., Awaitable[list[ConsumerRecord]]]


@pytest.fixture
def read_events(kafka_bootstrap: str) -> ReadEvents:
    """Read a topic of the test broker (or of `bootstrap`) as `_read_events` does."""

    async def read(
        topic: str, want: int, linger: float = 0.5, bootstrap: str | None = None
    ) -> list[ConsumerRecord]:
        return await _read_events(bootstrap or kafka_bootstrap, topic, want, linger)

    return read


async def _read_events(bootstrap: str, topic: str, want: int, linger: float = 0.5) -> list[ConsumerRecord]:
    """Read a topic from the start until `want` events came, then `linger` to catch extra ones."""
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest")
    await consumer.start()
    records: list[ConsumerRecord] = []
    deadline = time.monotonic() + 15
    try:
        while len(records) < want and time.monotonic() < deadline:
            batches = await consumer.getmany(timeout_ms=200)
            records += [record for batch in batches.values() for record in batch]
        batches = await consumer.getmany(timeout_ms=int(linger * 1000))
        records += [record for batch in batches.values() for record in batch]
    finally:
        await consumer.stop()
    return records
