"""Build the gateway's app: its database pool, its Kafka producer and the webhook route."""

from __future__ import annotations

from aiohttp import web

from shared.web import database, json_errors, kafka_publisher, service_app
from webhook_gateway import handlers
from webhook_gateway.catch_up import missed_notifications
from webhook_gateway.channel_gauges import channel_gauges
from webhook_gateway.settings import GatewaySettings


def create_app(settings: GatewaySettings, deps: None = None) -> web.Application:
    """Make the gateway app; it cannot start without Kafka, so a restart loop shows the outage.

    `deps` is part of every service's factory signature; the gateway has no port to replace.
    """
    del deps
    app = service_app(settings, "webhook-gateway")
    app.middlewares.append(json_errors)
    app[handlers.GATEWAY_SETTINGS] = settings
    app.cleanup_ctx.append(database(settings.database_url))
    app.cleanup_ctx.append(kafka_publisher(settings))
    app.cleanup_ctx.append(channel_gauges)
    app.cleanup_ctx.append(missed_notifications())
    app.router.add_post("/webhooks/google-drive", handlers.google_drive)
    return app
