"""The aiohttp skeleton every service shares: health, readiness, metrics and owned resources.

Each resource opens and closes in one cleanup context; background consumers belong to the app,
so `web.run_app` stopping on SIGTERM/SIGINT also stops them cleanly.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any

import asyncpg
import structlog
from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from shared import db, kafka, logs, telemetry
from shared.events import Event
from shared.settings import CommonSettings

log = structlog.get_logger(__name__)

Check = Callable[[], Awaitable[object]]
CleanupContext = Callable[[web.Application], AsyncIterator[None]]

SETTINGS = web.AppKey("settings", CommonSettings)
POOL = web.AppKey("pool", asyncpg.Pool)
PUBLISHER = web.AppKey("publisher", kafka.Publisher)
CHECKS = web.AppKey("checks", dict[str, Check])
# The background consume loops by topic: one that has ended fails /healthz, so the pod restarts.
CONSUMERS = web.AppKey("consumers", dict[str, asyncio.Task[None]])

READY_TIMEOUT_SECONDS = 3.0


def service_app(
    settings: CommonSettings, name: str, resources: Sequence[CleanupContext] = ()
) -> web.Application:
    """Make a service's app with logging, tracing and the /healthz, /readyz, /metrics routes.

    `resources` open in order at start-up and close in reverse at shutdown, each in its own
    generator: the pool, the producer, the consume loop, background jobs.
    """
    logs.setup(name, settings.log_level, settings.log_format)
    telemetry.setup(settings.otel_service_name or name, settings.otel_exporter_otlp_endpoint)
    app = web.Application(client_max_size=64 * 1024)
    app[SETTINGS] = settings
    app[CHECKS] = {}
    app[CONSUMERS] = {}
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics)
    app.cleanup_ctx.extend(resources)
    return app


async def healthz(request: web.Request) -> web.Response:
    stopped = sorted(topic for topic, task in request.app[CONSUMERS].items() if task.done())
    if stopped:  # nothing restarts a consume loop but a new process
        return web.json_response({"status": "consumer stopped", "stopped": stopped}, status=503)
    return web.json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    results: dict[str, str] = {}
    for check_name, check in request.app[CHECKS].items():
        try:
            await asyncio.wait_for(check(), READY_TIMEOUT_SECONDS)
            results[check_name] = "ok"
        except Exception as exc:  # any failure means not ready; say which and why
            results[check_name] = f"error: {type(exc).__name__}: {exc}"[:300]
    ready = all(value == "ok" for value in results.values())
    return web.json_response({"ready": ready, "checks": results}, status=200 if ready else 503)


async def metrics(_: web.Request) -> web.Response:
    response = web.Response(body=generate_latest())
    response.content_type = CONTENT_TYPE_LATEST.split(";")[0]
    return response


def json_error(status: int, error: str, detail: str, headers: dict[str, str] | None = None) -> web.Response:
    """Answer with the project's error shape: what went wrong and what the caller should do."""
    return web.json_response({"error": error, "detail": detail}, status=status, headers=headers)


@web.middleware
async def json_errors(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """Give aiohttp's own refusals (no such route, wrong method, body too large) the JSON error shape."""
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400 or exc.content_type == "application/json":
            raise
        if isinstance(exc, web.HTTPMethodNotAllowed):
            detail = f"{request.path} accepts {', '.join(sorted(exc.allowed_methods))}"
        elif isinstance(exc, web.HTTPNotFound):
            detail = f"no endpoint at {request.path}"
        else:
            detail = exc.text or exc.reason
        headers = {
            k: v for k, v in exc.headers.items() if k.lower() not in ("content-type", "content-length")
        }
        return json_error(exc.status, exc.reason.lower(), detail, headers)


def database(dsn: str) -> CleanupContext:
    """Own an asyncpg pool for the app's lifetime, checked by /readyz.

    Its statements time out after the app's DATABASE_STATEMENT_TIMEOUT_MS.
    """

    async def context(app: web.Application) -> AsyncIterator[None]:
        timeout_ms = app[SETTINGS].database_statement_timeout_ms
        pool = await db.create_pool(dsn, statement_timeout_ms=timeout_ms)
        app[POOL] = pool
        app[CHECKS]["database"] = lambda: pool.fetchval("SELECT 1")
        yield
        await pool.close()

    return context


def kafka_publisher(settings: CommonSettings) -> CleanupContext:
    """Own a started producer for the app's lifetime, checked by /readyz."""

    async def context(app: web.Application) -> AsyncIterator[None]:
        producer = kafka.producer_from(settings)
        try:
            await producer.start()
        except BaseException:  # unreachable brokers: close what start() opened, then fail startup
            await producer.stop()
            raise
        app[PUBLISHER] = kafka.Publisher(producer, settings.kafka_topic_prefix)
        app[CHECKS]["kafka"] = producer.client.fetch_all_metadata
        yield
        await producer.stop()

    return context


def consumer(
    settings: CommonSettings,
    model: type[Event],
    group_id: str,
    make_handler: Callable[[web.Application], kafka.Handler[Any]],
) -> CleanupContext:
    """Consume `model`'s topic in the background for the app's lifetime, checked by /healthz and /readyz."""
    topic = model.topic

    async def context(app: web.Application) -> AsyncIterator[None]:
        kafka_consumer = kafka.consumer_from(settings, topic, group_id)
        try:
            await kafka_consumer.start()
        except BaseException:  # unreachable brokers: close what start() opened, then fail startup
            await kafka_consumer.stop()
            raise
        loop = kafka.ConsumeLoop(
            kafka_consumer,
            model,
            make_handler(app),
            app[PUBLISHER],
            backoff=settings.consumer_backoff(),
            max_poll_interval_ms=settings.kafka_max_poll_interval_ms,
        )
        task = asyncio.create_task(loop.run(), name=f"consume {topic}")
        app[CONSUMERS][topic] = task
        app[CHECKS][f"consumer {topic}"] = lambda: _alive(task)
        yield
        task.cancel()
        # The loop logged why it ended; a crash has nothing left to clean up here.
        await asyncio.gather(task, return_exceptions=True)
        await kafka_consumer.stop()

    return context


def every(
    seconds: float,
    name: str,
    job: Callable[[web.Application], Awaitable[object]],
    *,
    first_after: float | None = None,
) -> CleanupContext:
    """Run `job(app)` every `seconds` for the app's lifetime (0 turns it off).

    A failing round is logged and the next one tries again: these jobs are safety nets and
    copies that converge, never the only path for data.
    """

    async def context(app: web.Application) -> AsyncIterator[None]:
        async def loop() -> None:
            await asyncio.sleep(seconds if first_after is None else first_after)
            while True:
                try:
                    await job(app)
                except Exception as exc:
                    log.warning("background.failed", task=name, error=repr(exc))
                await asyncio.sleep(seconds)

        task = asyncio.create_task(loop(), name=name) if seconds > 0 else None
        yield
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    return context


async def _alive(task: asyncio.Task[None]) -> None:
    if task.done():
        raise RuntimeError("the consume loop stopped; see the service log")


def run(app: web.Application, port: int) -> None:
    """Serve until SIGTERM/SIGINT, then close every resource the app owns."""
    started = time.monotonic()
    log.info("service.starting", port=port)
    web.run_app(app, port=port, print=None, access_log=None, shutdown_timeout=10)
    log.info("service.stopped", uptime_seconds=round(time.monotonic() - started, 1))


def serve(settings_class: type[CommonSettings], create_app: Callable[[Any], web.Application]) -> None:
    """Entry point of every service: settings from the environment, then the app until a signal."""
    import sys

    from shared.settings import SettingsError, load

    try:
        settings = load(settings_class)
    except SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    run(create_app(settings), settings.http_port)
