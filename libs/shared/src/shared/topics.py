"""Kafka topic names: the pipeline's fixed vocabulary."""

DRIVE_CHANGED = "drive.changed"
DOC_FETCHED = "doc.fetched"
CHUNKS_EMBEDDED = "chunks.embedded"

ALL = (DRIVE_CHANGED, DOC_FETCHED, CHUNKS_EMBEDDED)


def dead_letter(topic: str) -> str:
    """Name the dead-letter topic that collects what `topic`'s consumers gave up on."""
    return f"{topic}.dlq"


def with_prefix(prefix: str, topic: str) -> str:
    """Prefix a topic name, so several stacks (or tests) can share one broker."""
    return f"{prefix}{topic}"
