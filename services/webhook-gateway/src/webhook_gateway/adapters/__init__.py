"""The gateway's outside world: the watch_channels table (Kafka is shared.kafka's Publisher)."""
