"""The one consume loop every service uses: decode, validate, trace, handle, commit.

Each message is decoded, validated, handled inside a process span that continues the producer's
trace, and committed only once its work is done or parked in the dead-letter topic. Outages are
waited out: a failing handler is retried for as long as the failure lasts, and only messages that
are themselves bad are dead-lettered. Rebalances and commit failures send the loop back to the
last committed offsets instead of ending it.
"""

from __future__ import annotations

import asyncio
import functools
import itertools
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeAlias, TypeVar

import structlog
from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.errors import (
    CommitFailedError,
    IllegalGenerationError,
    IllegalStateError,
    KafkaError,
    RebalanceInProgressError,
    UnknownMemberIdError,
)
from opentelemetry import propagate, trace
from opentelemetry.trace import SpanKind, Status, StatusCode
from pydantic import ValidationError

from shared import metrics, topics
from shared.backoff import CONSUME_LOOP, Backoff, Retry, retrying
from shared.errors import PermanentError
from shared.events import Event

if TYPE_CHECKING:
    from shared.kafka import Publisher

log = structlog.get_logger(__name__)
tracer = trace.get_tracer(__name__)

E = TypeVar("E", bound=Event)
Handler = Callable[[E], Awaitable[None]]
Headers = Sequence[tuple[str, bytes]]
Record: TypeAlias = "ConsumerRecord[bytes, bytes]"

# After these the group may have moved partitions, or the read positions are in doubt: go back to
# the last committed offsets and carry on. Kafka errors marked retriable are treated the same way.
REWIND_ON = (
    CommitFailedError,
    IllegalStateError,
    RebalanceInProgressError,
    UnknownMemberIdError,
    IllegalGenerationError,
)
# How often a consumer busy with one message tells the group it is alive (at most).
KEEPALIVE_SECONDS = 1.0
SLOW_HINT = (
    "one message took longer than KAFKA_MAX_POLL_INTERVAL_MS; the consumer kept its partitions by"
    " polling them paused, but such work should be split into several messages"
)


class UnsupportedSchemaVersion(PermanentError):  # noqa: N818 - named like the other message faults
    """The message was written by a newer producer than this consumer understands."""


class ConsumeLoop:
    """Run `handler` for every message of one topic, at least once, in order within a partition."""

    def __init__(
        self,
        consumer: AIOKafkaConsumer,
        model: type[E],
        handler: Handler[E],
        publisher: Publisher,
        *,
        backoff: Backoff = CONSUME_LOOP,
        max_poll_interval_ms: int = 300_000,
    ) -> None:
        self.consumer = consumer
        self.model = model
        self.handler = handler
        self.publisher = publisher
        self.backoff = backoff
        self.max_poll_seconds = max_poll_interval_ms / 1000
        # How often a consumer busy with one message polls its paused partitions.
        self.keepalive_seconds = min(KEEPALIVE_SECONDS, self.max_poll_seconds / 3)
        self.supported_version = int(model.model_fields["schema_version"].default)
        self.topic = ""

    async def run(self) -> None:
        """Consume until cancelled; return only if the consumer was stopped underneath."""
        self.topic = ",".join(sorted(self.consumer.subscription()))
        running = metrics.CONSUMER_RUNNING.labels(self.topic)
        running.set(1)
        try:
            await self._consume_and_recover()
        except asyncio.CancelledError:
            log.info("consumer.stopped", topic=self.topic, reason="cancelled")
            raise
        except BaseException as exc:
            log.error("consumer.stopped", topic=self.topic, reason=repr(exc), exc_info=True)
            raise
        else:
            log.error("consumer.stopped", topic=self.topic, reason="the Kafka consumer was stopped")
        finally:
            running.set(0)

    async def _consume_and_recover(self) -> None:
        records = aiter(self.consumer)  # as `async for` does: refuses a consumer already stopped
        # One retried step per message, so the backoff starts over once a message is committed.
        while await retrying(
            functools.partial(self._consume_one, records),
            on=_rewinds,
            backoff=self.backoff,
            wait=self._pause_and_rewind,
            before_wait=self._note_rewind,
        ):
            pass

    async def _consume_one(self, records: AsyncIterator[Record]) -> bool:
        """Process and commit the next record; return False once the consumer was stopped."""
        record = await anext(records, None)
        if record is None:
            return False
        await self._process_keeping_membership(record)
        position = TopicPartition(record.topic, record.partition)
        await self.consumer.commit({position: record.offset + 1})
        return True

    def _note_rewind(self, retry: Retry) -> None:
        log.warning("consumer.rewind", topic=self.topic, failures=retry.attempt, error=repr(retry.error))
        metrics.CONSUMER_REWINDS.labels(self.topic, type(retry.error).__name__).inc()

    async def _pause_and_rewind(self, seconds: float) -> None:
        await asyncio.sleep(seconds)
        await self._rewind()

    async def _rewind(self) -> None:
        """Read again from the last committed offset of every partition still assigned."""
        try:
            for partition in self.consumer.assignment():
                committed = await self.consumer.committed(partition)
                if committed is None:  # nothing committed yet: where a new group starts
                    await self.consumer.seek_to_beginning(partition)
                else:
                    self.consumer.seek(partition, committed)
        except KafkaError as exc:
            # Mid-rebalance or unreachable: a new assignment starts from the commits by itself.
            log.warning("consumer.rewind_deferred", topic=self.topic, error=repr(exc))

    async def _process_keeping_membership(self, record: Record) -> None:
        """Process one record; while it takes long, poll with every partition paused.

        A consumer that stops polling for max_poll_interval leaves its group, and its commit then
        fails. Polling paused partitions tells the group the consumer is alive without taking
        records, so long handlers and retries during an outage keep their partitions.
        """
        work = asyncio.create_task(self.process(record))
        started = time.monotonic()
        polled = warned = False
        try:
            while not (await asyncio.wait({work}, timeout=self.keepalive_seconds))[0]:
                polled = True
                await self._poll_paused()
                if not warned and time.monotonic() - started > self.max_poll_seconds:
                    warned = True  # once per message: the work should be split into smaller messages
                    log.warning("message.slow", topic=record.topic, offset=record.offset, hint=SLOW_HINT)
            work.result()
        finally:
            if not work.done():
                work.cancel()
                await asyncio.gather(work, return_exceptions=True)
            if polled:
                self.consumer.resume(*self.consumer.assignment())

    async def _poll_paused(self) -> None:
        self.consumer.pause(*self.consumer.assignment())
        try:
            taken = await self.consumer.getmany(timeout_ms=0)
        except KafkaError as exc:  # best effort: the commit after the work will tell what happened
            log.warning("consumer.keepalive_failed", topic=self.topic, error=repr(exc))
            return
        # A partition assigned since the pause may hand over records: leave them to be read next.
        for partition, records in taken.items():
            self.consumer.seek(partition, records[0].offset)

    async def process(self, record: Record) -> None:
        """Handle one record inside a process span that continues the producer's trace."""
        headers = {k: v.decode(errors="replace") for k, v in record.headers or ()}
        parent = propagate.extract(headers)
        key = (record.key or b"").decode(errors="replace")
        with (
            tracer.start_as_current_span(
                f"{record.topic} process",
                context=parent,
                kind=SpanKind.CONSUMER,
                attributes={
                    "messaging.system": "kafka",
                    "messaging.destination.name": record.topic,
                    "messaging.kafka.message.key": key,
                    "messaging.kafka.destination.partition": record.partition,
                    "messaging.kafka.message.offset": record.offset,
                },
            ) as span,
            structlog.contextvars.bound_contextvars(
                topic=record.topic, partition=record.partition, offset=record.offset, key=key
            ),
        ):
            await self._until_done(record, span)

    async def _until_done(self, record: Record, span: trace.Span) -> None:
        """Try until the record is handled or parked; failures wait with backoff, however long."""
        started = time.perf_counter()
        stalled = metrics.CONSUMER_RETRYING_SECONDS.labels(record.topic)
        attempts = itertools.count(1)

        def note_retry(retry: Retry) -> None:
            failing_for = time.perf_counter() - started
            stalled.set(failing_for)
            log.warning(
                "message.retry",
                attempt=retry.attempt,
                failing_seconds=round(failing_for, 1),
                delay=round(retry.delay, 2),
                error=repr(retry.error),
            )
            metrics.MESSAGES.labels(record.topic, "retried").inc()

        try:
            await retrying(
                lambda: self._attempt(record, span, next(attempts)),
                on=lambda _: 0.0,  # transient by default: a dependency or the broker is down
                backoff=self.backoff,
                before_wait=note_retry,
            )
        finally:
            stalled.set(0)
        metrics.HANDLER_SECONDS.labels(record.topic).observe(time.perf_counter() - started)

    async def _attempt(self, record: Record, span: trace.Span, attempt: int) -> None:
        try:
            event = self.decode(record)
        except (ValidationError, UnsupportedSchemaVersion) as exc:
            await self._dead_letter(record, exc, attempts=attempt, span=span)
            return
        try:
            await self.handler(event)
        except PermanentError as exc:
            await self._dead_letter(record, exc, attempts=attempt, span=span)
            return
        metrics.MESSAGES.labels(record.topic, "ok").inc()

    def decode(self, record: Record) -> Any:
        """Parse and validate a record's value; refuse versions newer than the model."""
        event = self.model.model_validate_json(record.value or b"")
        if event.schema_version > self.supported_version:
            raise UnsupportedSchemaVersion(
                f"schema_version {event.schema_version} is newer than {self.supported_version},"
                " the newest this consumer reads: upgrade it, then replay the dead-letter topic"
            )
        return event

    async def _dead_letter(
        self, record: Record, exc: BaseException, *, attempts: int, span: trace.Span
    ) -> None:
        """Park a bad message in `<topic>.dlq`; a broker error here is retried like any other."""
        headers = [
            *(record.headers or ()),
            ("dlq.error", f"{type(exc).__name__}: {exc}"[:4000].encode()),
            ("dlq.attempts", str(attempts).encode()),
            ("dlq.source", f"{record.topic}/{record.partition}/{record.offset}".encode()),
        ]
        await self.publisher.send(topics.dead_letter(record.topic), record.key, record.value, headers)
        span.record_exception(exc)
        span.set_status(Status(StatusCode.ERROR, type(exc).__name__))
        log.error("message.dead_lettered", attempts=attempts, error=repr(exc))
        metrics.MESSAGES.labels(record.topic, "dead_lettered").inc()


def _rewinds(error: Exception) -> float | None:
    """Go back to the last commit after group errors and retriable broker errors; end on others."""
    if isinstance(error, KafkaError) and (error.retriable or isinstance(error, REWIND_ON)):
        return 0.0
    return None


def header_value(headers: Any, name: str) -> str | None:
    """Read one Kafka header as text."""
    for key, value in headers or ():
        if key == name:
            return value.decode(errors="replace") if isinstance(value, bytes) else str(value)
    return None
