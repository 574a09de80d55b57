"""One trace follows a message across Kafka: the consumer's process span continues the producer's."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from opentelemetry import trace
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from shared import kafka, telemetry, topics
from shared.events import DriveChanged


async def test_process_span_continues_the_producers_trace(kafka_bootstrap: str, topics_created: str) -> None:
    provider = telemetry.setup("trace-test", None)
    exporter = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = trace.get_tracer("test")
    topic = topics.with_prefix(topics_created, topics.DRIVE_CHANGED)

    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, enable_idempotence=False)
    await producer.start()
    event = DriveChanged(source_id="traced", resource_state="change", received_at=datetime.now(UTC))
    with tracer.start_as_current_span("webhook received") as root:
        await kafka.Publisher(producer, topics_created).publish(event)
    await producer.stop()

    handled = asyncio.Event()
    seen_trace_ids: list[int] = []

    async def handler(_: DriveChanged) -> None:
        seen_trace_ids.append(trace.get_current_span().get_span_context().trace_id)
        with tracer.start_as_current_span("fetch files"):
            handled.set()

    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=kafka_bootstrap,
        group_id=f"{topics_created}trace",
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    await consumer.start()
    loop = kafka.ConsumeLoop(consumer, DriveChanged, handler, kafka.Publisher(producer))
    task = asyncio.create_task(loop.run())
    try:
        await asyncio.wait_for(handled.wait(), 20)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await consumer.stop()

    trace_id = root.get_span_context().trace_id
    assert seen_trace_ids == [trace_id]
    spans = {span.name: span for span in exporter.get_finished_spans() if span.context.trace_id == trace_id}
    process = spans[f"{topic} process"]
    assert spans["fetch files"].parent.span_id == process.context.span_id
    # The process span's parent is the producer's send span, itself under the webhook span.
    send = next(s for s in spans.values() if s.context.span_id == process.parent.span_id)
    assert send.parent.span_id == root.get_span_context().span_id
