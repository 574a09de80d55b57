"""The gateway's composition root: settings and adapters in, an aiohttp app out."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

from aiohttp import web

from shared.kafka import EventPublisher
from shared.web import (
    POOL,
    PUBLISHER,
    CleanupContext,
    database,
    every,
    json_errors,
    kafka_publisher,
    service_app,
)
from webhook_gateway import handlers
from webhook_gateway.adapters.postgres import PostgresChannels
from webhook_gateway.catch_up import CATCH_UP_SECONDS, Missed, catch_up
from webhook_gateway.channel_gauges import REFRESH_SECONDS, refresh_or_count
from webhook_gateway.handlers import MISSED, PORTS
from webhook_gateway.ports import Channels, Ports
from webhook_gateway.settings import GatewaySettings

ROUTE = "/webhooks/google-drive"


@dataclass(frozen=True)
class Deps:
    """Adapters to use instead of the ones the settings describe."""

    channels: Channels | None = None
    publisher: EventPublisher | None = None


def create_app(settings: GatewaySettings, deps: Deps | None = None) -> web.Application:
    """Build the gateway: verify push notifications, publish drive.changed, answer health probes.

    Without adapters given it cannot start until the database and Kafka answer, so a restart loop
    shows the outage.
    """
    deps = deps or Deps()
    app = service_app(settings, "webhook-gateway")
    app.middlewares.append(json_errors)
    app[handlers.GATEWAY_SETTINGS] = settings
    app[MISSED] = Missed()
    if deps.channels is None:
        app.cleanup_ctx.append(database(settings.database_url))
    if deps.publisher is None:
        app.cleanup_ctx.append(kafka_publisher(settings))
    app.cleanup_ctx.extend(
        [
            ports(deps),
            every(REFRESH_SECONDS, "channel gauges", _refresh_gauges, first_after=0),
            every(CATCH_UP_SECONDS, "catch up refused notifications", _catch_up),
        ]
    )
    app.router.add_post(ROUTE, handlers.google_drive)
    return app


def ports(deps: Deps) -> CleanupContext:
    """Pick the adapters: those given, else PostgreSQL's channels and the Kafka publisher."""

    async def context(app: web.Application) -> AsyncIterator[None]:
        channels = PostgresChannels(app[POOL]) if deps.channels is None else deps.channels
        publisher = app[PUBLISHER] if deps.publisher is None else deps.publisher
        app[PORTS] = Ports(channels, publisher)
        yield

    return context


async def _refresh_gauges(app: web.Application) -> None:
    await refresh_or_count(app[PORTS].channels)


async def _catch_up(app: web.Application) -> None:
    await catch_up(app[MISSED], channels=app[PORTS].channels, publisher=app[PORTS].publisher)
