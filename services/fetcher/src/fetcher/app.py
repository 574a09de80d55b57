"""The fetcher's composition root: settings and adapters in, an aiohttp app out."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

from aiohttp import web

from drive.clients import DriveClients
from fetcher.adapters.postgres import PostgresStore
from fetcher.failures import Retry
from fetcher.files import Limits
from fetcher.groups_sync import groups_sync
from fetcher.handlers import Options, handle_drive_changed, retry_failed_files
from fetcher.poller import poller
from fetcher.ports import Drive, Drives, SameDrive
from fetcher.sandbox import Sandbox, SandboxLimits
from fetcher.settings import FetcherSettings
from fetcher.sources_sync import sources_sync
from shared.events import DriveChanged
from shared.kafka import Handler
from shared.web import (
    CHECKS,
    POOL,
    PUBLISHER,
    Check,
    CleanupContext,
    consumer,
    database,
    every,
    kafka_publisher,
    service_app,
)

DRIVES = web.AppKey("drives", Drives)
CONSUMER_GROUP = "fetcher"
# Readiness is polled often; one cheap Drive call per half minute is enough to notice an outage.
DRIVE_CHECK_SECONDS = 30.0


@dataclass(frozen=True)
class Deps:
    """One Drive client to read every source with, instead of a client per source identity."""

    drive: Drive | None = None


def create_app(settings: FetcherSettings, deps: Deps | None = None) -> web.Application:
    """Build the fetcher: consume drive.changed, publish doc.fetched, answer health probes."""
    sandbox = Sandbox(sandbox_limits(settings))
    return service_app(
        settings,
        "fetcher",
        [
            database(settings.database_url),
            drive(settings, (deps or Deps()).drive),
            kafka_publisher(settings),
            extraction(sandbox),
            consumer(settings, DriveChanged, CONSUMER_GROUP, handler_factory(settings, sandbox)),
            poller(settings.fetcher_poll_seconds),
            groups_sync(settings),
            sources_sync(settings),
            every(settings.fetcher_retry_seconds, "retry failed files", retry_job(settings, sandbox)),
        ],
    )


def drive(settings: FetcherSettings, given: Drive | None) -> CleanupContext:
    """Own the Drive clients, one per source identity, for the app's lifetime (unless one was given).

    /readyz checks the configured identity's client. Every client spends from the call budgets
    that all replicas share in the database, which is why the pool is opened first.
    """

    async def context(app: web.Application) -> AsyncIterator[None]:
        if given is not None:
            app[DRIVES] = SameDrive(given)
            app[CHECKS]["drive"] = drive_check(given)
            yield
            return
        async with DriveClients(settings, app[POOL]) as clients:  # closes every client it built
            app[DRIVES] = clients
            app[CHECKS]["drive"] = drive_check(clients.default)
            yield

    return context


def extraction(sandbox: Sandbox) -> CleanupContext:
    """Own the parsing worker processes for the app's lifetime (they start with the first file).

    Listed before the consumer, so they stop after it: no parse is cut short by the shutdown.
    """

    async def context(_app: web.Application) -> AsyncIterator[None]:
        yield
        await sandbox.close()

    return context


def sandbox_limits(settings: FetcherSettings) -> SandboxLimits:
    """Collect what one parse may use from the settings."""
    return SandboxLimits(
        memory_mb=settings.fetcher_extract_memory_mb,
        cpu_seconds=settings.fetcher_extract_cpu_seconds,
        timeout_seconds=settings.fetcher_extract_timeout_seconds,
        workers=settings.fetcher_extract_workers,
        max_text_chars=settings.fetcher_max_text_chars,
    )


def options_from(settings: FetcherSettings, sandbox: Sandbox) -> Options:
    """Collect the handler's limits from the settings; files are parsed in `sandbox`."""
    return Options(
        limits=Limits(
            max_file_bytes=settings.fetcher_max_file_bytes,
            inline_text_limit=settings.fetcher_inline_text_limit,
            extractor=sandbox.extract,
        ),
        max_concurrency=settings.fetcher_max_concurrency,
        page_size=settings.fetcher_changes_page_size,
        retry=Retry(settings.fetcher_retry_base_seconds, settings.fetcher_retry_max_seconds),
        max_delete_share=settings.fetcher_reconcile_max_delete_share,
        scope=settings.scope,
    )


def handler_factory(
    settings: FetcherSettings, sandbox: Sandbox
) -> Callable[[web.Application], Handler[DriveChanged]]:
    """Bind the drive.changed handler to the app's Drive client, pool, publisher and sandbox."""
    options = options_from(settings, sandbox)

    def make(app: web.Application) -> Handler[DriveChanged]:
        store = PostgresStore(app[POOL])

        async def handle(event: DriveChanged) -> None:
            await handle_drive_changed(
                event,
                drive=app[DRIVES].for_source(event.source_id),
                store=store,
                publisher=app[PUBLISHER],
                options=options,
            )

        return handle

    return make


def retry_job(settings: FetcherSettings, sandbox: Sandbox) -> Callable[[web.Application], Awaitable[object]]:
    """Try again the files whose reads failed for a passing reason, when they are due."""
    options = options_from(settings, sandbox)

    async def job(app: web.Application) -> None:
        store = PostgresStore(app[POOL])
        await retry_failed_files(drives=app[DRIVES], store=store, publisher=app[PUBLISHER], options=options)

    return job


def drive_check(drive: Drive) -> Check:
    """Check that Drive answers, at most once per DRIVE_CHECK_SECONDS."""
    last_ok = float("-inf")

    async def check() -> None:
        nonlocal last_ok
        if time.monotonic() - last_ok < DRIVE_CHECK_SECONDS:
            return
        await drive.get_start_page_token()
        last_ok = time.monotonic()

    return check
