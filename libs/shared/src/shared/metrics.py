"""The consume loop's metrics, the only ones every consuming service shares.

Everything else lives with the code that updates it, so a service exports only its own metrics
and an alert over a gateway gauge cannot fire on the fetcher's idle zero.
"""

from prometheus_client import Counter, Gauge, Histogram

MESSAGES = Counter(
    "drive_index_messages_total", "Kafka messages handled, by topic and outcome", ["topic", "outcome"]
)
HANDLER_SECONDS = Histogram(
    "drive_index_handler_seconds", "Time to handle one Kafka message, retries included", ["topic"]
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
