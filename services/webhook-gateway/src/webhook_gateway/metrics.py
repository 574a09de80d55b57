"""The gateway's metrics: only this service exports them, so alerts over them mean the gateway."""

from prometheus_client import Counter, Gauge

WEBHOOKS = Counter("drive_index_webhooks_total", "Drive push notifications received, by outcome", ["outcome"])
DATABASE_ERRORS = Counter(
    "drive_index_database_errors_total", "Database operations of the gateway that failed", ["operation"]
)
WATCH_CHANNELS_ACTIVE = Gauge(
    "drive_index_watch_channels_active", "Drive push channels registered and not expired"
)
WATCH_CHANNEL_EXPIRY_SECONDS = Gauge(
    "drive_index_watch_channel_expiry_seconds", "Seconds until the first active push channel expires"
)
