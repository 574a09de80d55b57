"""Kafka topic names, the pipeline's fixed vocabulary, and how their topics are laid out."""

from __future__ import annotations

from dataclasses import dataclass

DRIVE_CHANGED = "drive.changed"
DOC_FETCHED = "doc.fetched"
CHUNKS_EMBEDDED = "chunks.embedded"

ALL = (DRIVE_CHANGED, DOC_FETCHED, CHUNKS_EMBEDDED)


@dataclass(frozen=True)
class Layout:
    """How a topic is spread and copied; the defaults suit one broker (dev, tests).

    Production uses 3 replicas and `min.insync.replicas` 2: with producers' acks=all, a write is
    acknowledged only once two brokers have it, and one broker may be down at any time.
    """

    partitions: int = 4
    replication_factor: int = 1
    min_insync_replicas: int = 1

    def topic_configs(self) -> dict[str, str]:
        """The topic-level configs a new topic is created with."""
        return {"min.insync.replicas": str(self.min_insync_replicas)}


DEV_LAYOUT = Layout()


def dead_letter(topic: str) -> str:
    """Name the dead-letter topic that collects `topic`'s messages that are themselves bad."""
    return f"{topic}.dlq"


def with_prefix(prefix: str, topic: str) -> str:
    """Prefix a topic name, so several stacks (or tests) can share one broker."""
    return f"{prefix}{topic}"
