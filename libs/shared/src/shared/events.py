"""Event contracts carried on Kafka, one typed model per topic.

Each event names its topic and its key, so publishing and consuming cannot pair an event with
the wrong topic. Additive changes keep `schema_version`; a breaking change bumps it and adds an
upgrade step here. tests/golden/ holds an example of each, which every consumer's tests read.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from shared import topics


class Event(BaseModel):
    """Base of every event: immutable, tolerant of fields added by newer producers."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    # The topic every event of this kind travels on.
    topic: ClassVar[str]

    schema_version: int = 1

    @property
    def key(self) -> str:
        """The message key: events of one entity keep their order within one partition."""
        raise NotImplementedError

    def to_bytes(self) -> bytes:
        return self.model_dump_json().encode()


class DriveChanged(Event):
    """A Drive source has changes to read (a push notification, a backfill, a reconcile, a poll)."""

    topic: ClassVar[str] = topics.DRIVE_CHANGED

    source_id: str
    # Google's X-Goog-Resource-State, or what queued the read: a backfill, a reconcile, a timed poll.
    resource_state: Literal[
        "sync", "change", "add", "update", "remove", "trash", "untrash", "backfill", "reconcile", "poll"
    ]
    channel_id: str | None = None
    message_number: int | None = None
    resource_id: str | None = None
    received_at: datetime
    request_id: str | None = None
    # A backfill goes one files.list page per message: the next page's token rides on the next
    # message, so notifications queued meanwhile are read between pages, not after the whole pass.
    files_page_token: str | None = None
    # A reconcile may delete more than its usual share of the index (`drive-index reconcile --force`).
    force: bool = False

    @property
    def key(self) -> str:
        return self.source_id


class FileMetadata(BaseModel):
    """The Drive metadata of one file at one version.

    Who may read the file is not here: the fetcher writes it to `file_access` before publishing,
    so a change of sharing reaches search without waiting behind the embedder.
    """

    model_config = ConfigDict(frozen=True, extra="ignore")

    name: str
    mime_type: str
    web_view_link: str | None = None
    parents: list[str] = Field(default_factory=list)
    modified_time: datetime | None = None
    drive_id: str | None = None
    size: int | None = None


class FetchAction(StrEnum):
    UPSERT = "upsert"  # new text to index
    METADATA = "metadata"  # same content, new metadata (moved, renamed, shared): no re-embedding
    SKIPPED = "skipped"  # recorded with a reason (too large, unparsable, unsupported type)
    DELETE = "delete"  # trashed or removed: drop from the index


class DocFetched(Event):
    """A file's current text and metadata at one version, or its deletion."""

    topic: ClassVar[str] = topics.DOC_FETCHED

    source_id: str
    file_id: str
    action: FetchAction
    # Drive's file version: increases on every change, so older events can be ignored.
    version: int
    metadata: FileMetadata | None = None
    text: str | None = None
    # Claim check: texts too large for one Kafka message are stored in PostgreSQL under this key.
    text_ref: str | None = None
    content_hash: str | None = None
    reason: str | None = None
    fetched_at: datetime

    @property
    def key(self) -> str:
        return self.file_id


class ChunksEmbedded(Event):
    """A file's chunks for one version are in pgvector."""

    topic: ClassVar[str] = topics.CHUNKS_EMBEDDED

    source_id: str
    file_id: str
    version: int
    action: FetchAction
    chunk_count: int
    model: str | None = None
    embed_seconds: float = 0.0
    total_seconds: float = 0.0
    reembedded: bool = False

    @property
    def key(self) -> str:
        return self.file_id
