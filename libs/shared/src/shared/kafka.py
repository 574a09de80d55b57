"""Publishing and consuming pipeline events: the one consume loop every service uses.

Each message is decoded, validated, handled inside a process span that continues the producer's
trace, and committed only once its work is done or parked in the dead-letter topic.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

import structlog
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError, TopicAlreadyExistsError
from opentelemetry import propagate, trace
from opentelemetry.trace import SpanKind, Status, StatusCode
from pydantic import ValidationError

from shared import metrics, topics
from shared.errors import is_retriable
from shared.events import Event
from shared.settings import CommonSettings

log = structlog.get_logger(__name__)
tracer = trace.get_tracer(__name__)

E = TypeVar("E", bound=Event)
Handler = Callable[[E], Awaitable[None]]
Headers = Sequence[tuple[str, bytes]]

MAX_BACKOFF_SECONDS = 30.0


def producer_from(settings: CommonSettings) -> AIOKafkaProducer:
    """Make a producer that only reports success once every in-sync replica has the message."""
    return AIOKafkaProducer(
        bootstrap_servers=settings.kafka_bootstrap_servers,
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
        bootstrap_servers=settings.kafka_bootstrap_servers,
        group_id=f"{settings.kafka_topic_prefix}{group_id}",
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        max_poll_interval_ms=600_000,
    )


class Publisher:
    """Send events keyed by their entity; awaiting `publish` means the broker acknowledged it."""

    def __init__(self, producer: AIOKafkaProducer, topic_prefix: str = "") -> None:
        self.producer = producer
        self.topic_prefix = topic_prefix

    async def publish(self, topic: str, key: str, event: Event, headers: Headers = ()) -> None:
        await self.send(topics.with_prefix(self.topic_prefix, topic), key.encode(), event.to_bytes(), headers)

    async def send(self, topic: str, key: bytes | None, value: bytes | None, headers: Headers = ()) -> None:
        # The aiokafka instrumentation wraps send() in a producer span and injects traceparent.
        await self.producer.send_and_wait(topic, value=value, key=key, headers=list(headers))


async def ensure_topics(bootstrap_servers: str, names: Sequence[str], partitions: int = 4) -> None:
    """Create the topics (and their dead-letter topics) that do not exist yet."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        wanted = [n for name in names for n in (name, topics.dead_letter(name))]
        missing = [
            NewTopic(n, num_partitions=partitions, replication_factor=1) for n in wanted if n not in existing
        ]
        if missing:
            # Another process may create them first.
            with contextlib.suppress(TopicAlreadyExistsError):
                await admin.create_topics(missing)
    finally:
        await admin.close()


class ConsumeLoop:
    """Run `handler` for every message of one topic, at least once, in order within a partition."""

    def __init__(
        self,
        consumer: AIOKafkaConsumer,
        model: type[E],
        handler: Handler[E],
        publisher: Publisher,
        *,
        max_attempts: int = 8,
        backoff_seconds: float = 0.5,
    ) -> None:
        self.consumer = consumer
        self.model = model
        self.handler = handler
        self.publisher = publisher
        self.max_attempts = max_attempts
        self.backoff_seconds = backoff_seconds

    async def run(self) -> None:
        """Consume until cancelled; an uncommitted message is redelivered after a restart."""
        async for record in self.consumer:
            await self.process(record)
            position = TopicPartition(record.topic, record.partition)
            await self.consumer.commit({position: record.offset + 1})

    async def process(self, record: ConsumerRecord[bytes, bytes]) -> None:
        headers = {k: v.decode(errors="replace") for k, v in record.headers or ()}
        parent = propagate.extract(headers)
        with (
            tracer.start_as_current_span(
                f"{record.topic} process",
                context=parent,
                kind=SpanKind.CONSUMER,
                attributes={
                    "messaging.system": "kafka",
                    "messaging.destination.name": record.topic,
                    "messaging.kafka.message.key": (record.key or b"").decode(errors="replace"),
                    "messaging.kafka.destination.partition": record.partition,
                    "messaging.kafka.message.offset": record.offset,
                },
            ) as span,
            structlog.contextvars.bound_contextvars(
                topic=record.topic,
                partition=record.partition,
                offset=record.offset,
                key=(record.key or b"").decode(errors="replace"),
            ),
        ):
            await self._handle(record, span)

    async def _handle(self, record: ConsumerRecord[bytes, bytes], span: trace.Span) -> None:
        started = time.perf_counter()
        try:
            event = self.model.model_validate_json(record.value or b"")
        except ValidationError as exc:
            await self._dead_letter(record, exc, attempts=1, span=span)
            return
        for attempt in range(1, self.max_attempts + 1):
            try:
                await self.handler(event)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if not is_retriable(exc) or attempt == self.max_attempts:
                    await self._dead_letter(record, exc, attempts=attempt, span=span)
                    return
                delay = min(self.backoff_seconds * 2 ** (attempt - 1), MAX_BACKOFF_SECONDS)
                delay *= random.uniform(0.5, 1.5)  # jitter: restarted consumers do not retry in lockstep
                log.warning("message.retry", attempt=attempt, delay=round(delay, 2), error=repr(exc))
                metrics.MESSAGES.labels(record.topic, "retried").inc()
                await asyncio.sleep(delay)
            else:
                metrics.MESSAGES.labels(record.topic, "ok").inc()
                metrics.HANDLER_SECONDS.labels(record.topic).observe(time.perf_counter() - started)
                return

    async def _dead_letter(
        self, record: ConsumerRecord[bytes, bytes], exc: BaseException, *, attempts: int, span: trace.Span
    ) -> None:
        span.record_exception(exc)
        span.set_status(Status(StatusCode.ERROR, type(exc).__name__))
        log.error("message.dead_lettered", attempts=attempts, error=repr(exc))
        metrics.MESSAGES.labels(record.topic, "dead_lettered").inc()
        headers = [
            *(record.headers or ()),
            ("dlq.error", f"{type(exc).__name__}: {exc}"[:4000].encode()),
            ("dlq.attempts", str(attempts).encode()),
            ("dlq.source", f"{record.topic}/{record.partition}/{record.offset}".encode()),
        ]
        # The message must not be lost: keep trying to park it until the broker takes it.
        delay = self.backoff_seconds
        while True:
            try:
                await self.publisher.send(topics.dead_letter(record.topic), record.key, record.value, headers)
                return
            except KafkaError as send_error:
                log.warning("dead_letter.retry", error=repr(send_error))
                await asyncio.sleep(delay)
                delay = min(delay * 2, 30)


def header_value(headers: Any, name: str) -> str | None:
    """Read one Kafka header as text."""
    for key, value in headers or ():
        if key == name:
            return value.decode(errors="replace") if isinstance(value, bytes) else str(value)
    return None
