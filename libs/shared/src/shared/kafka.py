"""Kafka clients made from the settings, publishing, and the topics every stack needs.

Producers, consumers and the admin client take their address and security from `client_options`
alone, so TLS or SASL is configured in one place. The consume loop lives in `shared.consume`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import structlog
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.errors import TopicAlreadyExistsError, for_code
from aiokafka.helpers import create_ssl_context

from shared import topics
from shared.consume import ConsumeLoop, Handler, Headers, header_value
from shared.events import Event
from shared.settings import CommonSettings

__all__ = [
    "ConsumeLoop",
    "Handler",
    "Headers",
    "Publisher",
    "TopicState",
    "admin_from",
    "client_options",
    "consumer_from",
    "ensure_topics",
    "header_value",
    "producer_from",
]

log = structlog.get_logger(__name__)

MIN_INSYNC_REPLICAS = "min.insync.replicas"


def client_options(settings: CommonSettings) -> dict[str, Any]:
    """Say how every Kafka client reaches and authenticates to the brokers."""
    options: dict[str, Any] = {
        "bootstrap_servers": settings.kafka_bootstrap_servers,
        "security_protocol": settings.kafka_security_protocol,
    }
    if settings.kafka_security_protocol.endswith("SSL"):
        cafile = str(settings.kafka_ssl_cafile) if settings.kafka_ssl_cafile else None
        options["ssl_context"] = create_ssl_context(cafile=cafile)  # verifies the broker's name
    if settings.kafka_security_protocol.startswith("SASL_"):
        options["sasl_mechanism"] = settings.kafka_sasl_mechanism
        options["sasl_plain_username"] = settings.kafka_sasl_username
        options["sasl_plain_password"] = settings.kafka_sasl_password
    return options


def producer_from(settings: CommonSettings) -> AIOKafkaProducer:
    """Make a producer that only reports success once every in-sync replica has the message."""
    return AIOKafkaProducer(
        **client_options(settings),
        acks="all",
        enable_idempotence=settings.kafka_enable_idempotence,
        linger_ms=5,
        # Retries of a send are bounded by time, so an unreachable broker surfaces as an error.
        request_timeout_ms=10_000,
    )


def consumer_from(settings: CommonSettings, topic: str, group_id: str) -> AIOKafkaConsumer:
    """Make a consumer that commits by hand, after the work of each message is durable."""
    return AIOKafkaConsumer(
        topics.with_prefix(settings.kafka_topic_prefix, topic),
        **client_options(settings),
        group_id=f"{settings.kafka_topic_prefix}{group_id}",
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        max_poll_interval_ms=settings.kafka_max_poll_interval_ms,
    )


def admin_from(connection: str | CommonSettings) -> AIOKafkaAdminClient:
    """Make an admin client: from the settings, or a plaintext bootstrap address (dev, tests)."""
    if isinstance(connection, str):
        return AIOKafkaAdminClient(bootstrap_servers=connection)
    return AIOKafkaAdminClient(**client_options(connection))


class EventPublisher(Protocol):
    """What publishing code needs: returning means the broker acknowledged the event.

    `Publisher` is the Kafka one; devstack.fakes.RecordingPublisher the tests' stand-in.
    """

    async def publish(self, event: Event) -> None: ...


class Publisher:
    """Send events to their topic, keyed by their entity; returning means the broker acknowledged."""

    def __init__(self, producer: AIOKafkaProducer, topic_prefix: str = "") -> None:
        self.producer = producer
        self.topic_prefix = topic_prefix

    async def publish(self, event: Event, headers: Headers = ()) -> None:
        topic = topics.with_prefix(self.topic_prefix, event.topic)
        await self.send(topic, event.key.encode(), event.to_bytes(), headers)

    async def send(self, topic: str, key: bytes | None, value: bytes | None, headers: Headers = ()) -> None:
        # The aiokafka instrumentation wraps send() in a producer span and injects traceparent.
        await self.producer.send_and_wait(topic, value=value, key=key, headers=list(headers))


@dataclass(frozen=True)
class TopicState:
    """A topic as the broker describes it."""

    name: str
    partitions: int
    replication_factor: int
    min_insync_replicas: int | None  # None: the broker did not say

    def short_of(self, layout: topics.Layout) -> list[str]:
        """Say where this topic falls short of `layout` (existing topics are never changed)."""
        wanted = (
            ("partitions", self.partitions, layout.partitions),
            ("replication factor", self.replication_factor, layout.replication_factor),
            (MIN_INSYNC_REPLICAS, self.min_insync_replicas, layout.min_insync_replicas),
        )
        return [f"{what} {has} < {want}" for what, has, want in wanted if has is not None and has < want]


async def ensure_topics(
    connection: str | CommonSettings, names: Sequence[str], layout: topics.Layout | None = None
) -> list[TopicState]:
    """Create the topics (and their dead-letter topics) that do not exist yet; describe them all.

    `connection` is settings (their security, and their layout unless one is given) or a plaintext
    bootstrap address with the dev layout.
    """
    if layout is None:
        layout = topics.DEV_LAYOUT if isinstance(connection, str) else connection.topic_layout()
    wanted = [n for name in names for n in (name, topics.dead_letter(name))]
    admin = admin_from(connection)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [
            NewTopic(n, layout.partitions, layout.replication_factor, topic_configs=layout.topic_configs())
            for n in wanted
            if n not in existing
        ]
        if missing:
            _raise_errors(await admin.create_topics(missing))
            log.info("topics.created", topics=[t.name for t in missing], **layout.__dict__)
        return await describe_topics(admin, wanted)
    finally:
        await admin.close()


def _raise_errors(response: Any) -> None:
    """Raise the broker's refusal of a topic; another process creating it first is fine."""
    for name, code, *message in response.topic_errors:
        error = for_code(code)
        if code and error is not TopicAlreadyExistsError:
            raise error(f"creating {name}: {message[0] if message else ''}")


async def describe_topics(admin: AIOKafkaAdminClient, names: Sequence[str]) -> list[TopicState]:
    """Read partitions, replicas and min.insync.replicas of `names` from the broker."""
    described = {t["topic"]: t for t in await admin.describe_topics(list(names))}
    # All configs, unfiltered: Tansu 0.6 cannot decode a DescribeConfigs that names keys.
    resources = [ConfigResource(ConfigResourceType.TOPIC, n) for n in names]
    min_insync: dict[str, int] = {}
    for response in await admin.describe_configs(resources):
        for _, _, _, name, entries in response.resources:
            for config_name, value, *_ in entries:
                if config_name == MIN_INSYNC_REPLICAS and value is not None:
                    min_insync[name] = int(value)
    return [
        TopicState(
            name=name,
            partitions=len(described[name]["partitions"]),
            replication_factor=min(len(p["replicas"]) for p in described[name]["partitions"]),
            min_insync_replicas=min_insync.get(name),
        )
        for name in names
    ]
