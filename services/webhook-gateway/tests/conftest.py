"""Fixtures for the gateway tests: fakes for its ports, registered channels and the app on a local port.

Most tests run the gateway on the fakes; those marked by their module as on real servers use the
session's PostgreSQL and broker (devstack's fixtures).
"""

from __future__ import annotations

import secrets
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from aiokafka import AIOKafkaConsumer, ConsumerRecord

from devstack.fakes import RecordingPublisher
from shared.channel_tokens import token_digest
from shared.settings import load
from webhook_gateway.adapters.postgres import PostgresChannels
from webhook_gateway.app import Deps, create_app
from webhook_gateway.ports import KnownChannel
from webhook_gateway.settings import GatewaySettings

Client = TestClient[web.Request, web.Application]
SettingsFactory = Callable[..., GatewaySettings]
DAY = timedelta(days=1)


@dataclass(frozen=True)
class Registered:
    """A channel as `drive-index watch start` registers it, and the notifications Google sends on it."""

    channel_id: str
    token: str
    source_id: str

    @classmethod
    def new(cls) -> Registered:
        """A channel of its own, for a source of its own."""
        return cls(str(uuid.uuid4()), secrets.token_urlsafe(24), f"src-{uuid.uuid4().hex[:8]}")

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


class FakeChannels:
    """The Channels port in memory; set `down` to fail every call as an unreachable database does."""

    def __init__(self) -> None:
        self.rows: dict[str, KnownChannel] = {}
        self.expires_at: dict[str, datetime | None] = {}
        self.down: Exception | None = None
        self.recording_down: Exception | None = None

    async def register(self, *, expires_in: timedelta | None = DAY, stopped: bool = False) -> Registered:
        channel = Registered.new()
        now = datetime.now(UTC)
        self.rows[channel.channel_id] = KnownChannel(
            channel.channel_id, channel.source_id, token_digest(channel.token), now if stopped else None
        )
        self.expires_at[channel.channel_id] = now + expires_in if expires_in is not None else None
        return channel

    async def stop(self, channel_id: str) -> None:
        self.rows[channel_id] = replace(self.rows[channel_id], stopped_at=datetime.now(UTC))

    async def find(self, channel_id: str) -> KnownChannel | None:
        self._fail_if(self.down)
        return self.rows.get(channel_id)

    async def record_message(self, channel_id: str, message_number: int) -> None:
        self._fail_if(self.down or self.recording_down)
        if (row := self.rows.get(channel_id)) is not None:
            number = max(row.last_message_number or 0, message_number)
            self.rows[channel_id] = replace(
                row, last_message_number=number, last_message_at=datetime.now(UTC)
            )

    async def active_summary(self) -> tuple[int, float | None]:
        self._fail_if(self.down)
        now = datetime.now(UTC)
        active = [
            id_ for id_, row in self.rows.items() if row.stopped_at is None and not self._expired(id_, now)
        ]
        left = [
            (expiry - now).total_seconds() for id_ in active if (expiry := self.expires_at[id_]) is not None
        ]
        return len(active), min(left, default=None)

    def _expired(self, channel_id: str, now: datetime) -> bool:
        expiry = self.expires_at[channel_id]
        return expiry is not None and expiry <= now

    @staticmethod
    def _fail_if(error: Exception | None) -> None:
        if error is not None:
            raise error


class PostgresTable(PostgresChannels):
    """The PostgreSQL adapter, plus registering and stopping channels as the operator CLI does."""

    async def register(self, *, expires_in: timedelta | None = DAY, stopped: bool = False) -> Registered:
        channel = Registered.new()
        await self.pool.execute("INSERT INTO sources (id) VALUES ($1)", channel.source_id)
        await self.pool.execute(
            """INSERT INTO watch_channels (id, source_id, token_sha256, address, expires_at, stopped_at)
               VALUES ($1, $2, $3, 'http://127.0.0.1/webhooks/google-drive', now() + $4::interval,
                       CASE WHEN $5 THEN now() END)""",
            channel.channel_id,
            channel.source_id,
            token_digest(channel.token),
            expires_in,
            stopped,
        )
        return channel

    async def stop(self, channel_id: str) -> None:
        await self.pool.execute("UPDATE watch_channels SET stopped_at = now() WHERE id = $1", channel_id)


@dataclass
class Gateway:
    """The gateway app on its fakes, served on a local port."""

    client: Client
    channels: FakeChannels
    publisher: RecordingPublisher

    async def post(self, headers: dict[str, str], **kwargs: Any) -> Any:
        return await self.client.post("/webhooks/google-drive", headers=headers, **kwargs)


@pytest.fixture
async def gateway() -> AsyncIterator[Gateway]:
    """The gateway on fake channels and a recording publisher: no database, no broker."""
    settings = GatewaySettings(
        database_url="postgresql://unused.invalid/db",
        kafka_bootstrap_servers="unused.invalid:9092",
        log_format="json",
        gateway_publish_timeout_seconds=0.2,
    )
    channels, publisher = FakeChannels(), RecordingPublisher()
    app = create_app(settings, Deps(channels=channels, publisher=publisher))
    async with TestClient(TestServer(app)) as client:
        yield Gateway(client, channels, publisher)


@pytest.fixture
async def registered(gateway: Gateway) -> Registered:
    """A channel registered with the gateway's fake channels."""
    return await gateway.channels.register()


@pytest.fixture
async def channel(pool: asyncpg.Pool) -> Registered:
    """A watch channel registered in the session's database for a source of its own."""
    return await PostgresTable(pool).register()


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
