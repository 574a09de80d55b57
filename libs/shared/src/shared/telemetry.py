"""OpenTelemetry: one tracer provider per process, the maintained instrumentations switched on.

Spans are always recorded (so logs carry trace ids); they are exported over OTLP/HTTP only when
OTEL_EXPORTER_OTLP_ENDPOINT is set, e.g. to Jaeger's collector.
"""

from __future__ import annotations

from opentelemetry import trace
from opentelemetry.instrumentation.aiohttp_client import AioHttpClientInstrumentor
from opentelemetry.instrumentation.aiohttp_server import AioHttpServerInstrumentor
from opentelemetry.instrumentation.aiokafka import AIOKafkaInstrumentor
from opentelemetry.instrumentation.asyncpg import AsyncPGInstrumentor
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor


def setup(service_name: str, otlp_endpoint: str | None) -> TracerProvider:
    """Install the tracer provider and instrument aiohttp, aiokafka and asyncpg."""
    current = trace.get_tracer_provider()
    if isinstance(current, TracerProvider):  # already set up in this process
        return current
    provider = TracerProvider(resource=Resource.create({SERVICE_NAME: service_name}))
    if otlp_endpoint:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        endpoint = otlp_endpoint.rstrip("/") + "/v1/traces"
        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint)))
    trace.set_tracer_provider(provider)
    AioHttpServerInstrumentor().instrument()
    AioHttpClientInstrumentor().instrument()
    AIOKafkaInstrumentor().instrument()
    AsyncPGInstrumentor().instrument()  # type: ignore[no-untyped-call]  # the package ships no types
    return provider
