"""Prometheus metrics, declared once so every service exports the same names."""

from prometheus_client import Counter, Gauge, Histogram

MESSAGES = Counter(
    "drive_index_messages_total", "Kafka messages handled, by topic and outcome", ["topic", "outcome"]
)
HANDLER_SECONDS = Histogram(
    "drive_index_handler_seconds", "Time to handle one Kafka message, retries included", ["topic"]
)
WEBHOOKS = Counter("drive_index_webhooks_total", "Drive push notifications received, by outcome", ["outcome"])
INGESTION_SECONDS = Histogram(
    "drive_index_ingestion_seconds",
    "Time from fetching a Drive file to publishing its text, by outcome",
    ["outcome"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120),
)
EMBEDDING_SECONDS = Histogram(
    "drive_index_embedding_seconds", "Time to embed one batch of texts", ["provider", "purpose"]
)
QUERY_SECONDS = Histogram("drive_index_query_seconds", "Time to answer one search request", ["outcome"])
DATABASE_ERRORS = Counter(
    "drive_index_database_errors_total", "Database operations that failed", ["operation"]
)
DRIVE_REQUESTS = Counter(
    "drive_index_drive_requests_total",
    "Google Drive API attempts, by method and outcome (ok, retried, or the error raised)",
    ["method", "outcome"],
)
WATCH_CHANNELS_ACTIVE = Gauge(
    "drive_index_watch_channels_active", "Drive push channels registered and not expired"
)
WATCH_CHANNEL_EXPIRY_SECONDS = Gauge(
    "drive_index_watch_channel_expiry_seconds", "Seconds until the first active push channel expires"
)
# The consume loop's own: which loops run, and whether one is stuck retrying a message.
CONSUMER_RUNNING = Gauge(
    "drive_index_consumer_running",
    "1 while the consume loop of a topic runs, 0 once it stopped (the pod then fails /healthz)",
    ["topic"],
)
CONSUMER_RETRYING_SECONDS = Gauge(
    "drive_index_consumer_retrying_seconds",
    "How long the consume loop has been retrying its current message (0: not retrying)",
    ["topic"],
)
CONSUMER_REWINDS = Counter(
    "drive_index_consumer_rewinds_total",
    "Times a consume loop went back to its last committed offsets, by the error that made it",
    ["topic", "reason"],
)
