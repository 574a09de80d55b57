"""The fetcher's composition root: settings and adapters in, an aiohttp app out."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

from aiohttp import web

from fetcher.adapters.postgres import PostgresStore
from fetcher.failures import Retry
from fetcher.files import Limits
from fetcher.groups_sync import groups_sync
from fetcher.handlers import Options, handle_drive_changed, retry_failed_files
from fetcher.poller import poller
from fetcher.ports import Drive
from fetcher.settings import FetcherSettings
from shared import topics
from shared.drive import DriveClient
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

DRIVE = web.AppKey("drive", Drive)
CONSUMER_GROUP = "fetcher"
# Readiness is polled often; one cheap Drive call per half minute is enough to notice an outage.
DRIVE_CHECK_SECONDS = 30.0


@dataclass(frozen=True)
class Deps:
    """Adapters to use instead of the ones the settings describe."""

    drive: Drive | None = None


def create_app(settings: FetcherSettings, deps: Deps | None = None) -> web.Application:
    """Build the fetcher: consume drive.changed, publish doc.fetched, answer health probes."""
    deps = deps or Deps()
    app = service_app(settings, "fetcher")
    app.cleanup_ctx.extend(
        [
            drive(settings, deps.drive),
            database(settings.database_url),
            kafka_publisher(settings),
            consumer(settings, topics.DRIVE_CHANGED, CONSUMER_GROUP, DriveChanged, handler_factory(settings)),
            poller(settings.fetcher_poll_seconds),
            groups_sync(settings),
            every(settings.fetcher_retry_seconds, "retry failed files", retry_job(settings)),
        ]
    )
    return app


def drive(settings: FetcherSettings, given: Drive | None) -> CleanupContext:
    """Own a Drive client for the app's lifetime (unless one was given), checked by /readyz."""

    async def context(app: web.Application) -> AsyncIterator[None]:
        client = given if given is not None else DriveClient.from_settings(settings)
        app[DRIVE] = client
        app[CHECKS]["drive"] = drive_check(client)
        yield
        if given is None and isinstance(client, DriveClient):  # close only what this app opened
            await client.close()

    return context


def options_from(settings: FetcherSettings) -> Options:
    """Collect the handler's limits from the settings."""
    return Options(
        limits=Limits(
            max_file_bytes=settings.fetcher_max_file_bytes,
            inline_text_limit=settings.fetcher_inline_text_limit,
        ),
        max_concurrency=settings.fetcher_max_concurrency,
        page_size=settings.fetcher_changes_page_size,
        retry=Retry(settings.fetcher_retry_base_seconds, settings.fetcher_retry_max_seconds),
        max_delete_share=settings.fetcher_reconcile_max_delete_share,
    )


def handler_factory(settings: FetcherSettings) -> Callable[[web.Application], Handler[DriveChanged]]:
    """Bind the drive.changed handler to the app's Drive client, pool and publisher."""
    options = options_from(settings)

    def make(app: web.Application) -> Handler[DriveChanged]:
        store = PostgresStore(app[POOL])

        async def handle(event: DriveChanged) -> None:
            await handle_drive_changed(
                event, drive=app[DRIVE], store=store, publisher=app[PUBLISHER], options=options
            )

        return handle

    return make


def retry_job(settings: FetcherSettings) -> Callable[[web.Application], Awaitable[object]]:
    """Try again the files whose reads failed for a passing reason, when they are due."""
    options = options_from(settings)

    async def job(app: web.Application) -> None:
        store = PostgresStore(app[POOL])
        await retry_failed_files(drive=app[DRIVE], store=store, publisher=app[PUBLISHER], options=options)

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
