"""What the embedder's handler needs from its index and from Kafka; the wiring picks the adapters."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

import numpy as np
import numpy.typing as npt

from embedder.chunking import Chunk
from shared.events import Event


@dataclass(frozen=True)
class StoredDocument:
    """What the index holds about a file: enough to tell old events and unchanged content apart."""

    version: int
    content_hash: str | None
    embedding_model: str | None
    chunk_count: int


@dataclass(frozen=True)
class DocumentRow:
    """A `documents` row as the handler wants it stored."""

    file_id: str
    source_id: str
    version: int
    name: str
    mime_type: str
    web_view_link: str | None = None
    parents: list[str] = field(default_factory=list)
    drive_id: str | None = None
    modified_time: datetime | None = None
    size_bytes: int | None = None
    content_hash: str | None = None
    skip_reason: str | None = None
    embedding_model: str | None = None


@dataclass(frozen=True)
class EmbeddedChunk:
    """A chunk and its vector, ready to be written."""

    chunk: Chunk
    embedding: npt.NDArray[np.float32]


class IndexStore(Protocol):
    """The embedder's reads and writes of `documents`, `chunks` and claim-checked texts."""

    async def stored(self, file_id: str) -> StoredDocument | None:
        """Return what is indexed for the file, or None."""
        ...

    async def read_text(self, text_ref: str) -> str:
        """Return a claim-checked text."""
        ...

    async def replace(self, row: DocumentRow, chunks: Sequence[EmbeddedChunk]) -> bool:
        """Store the row and exactly these chunks in one transaction; False if a newer version is stored."""
        ...

    async def update_metadata(self, row: DocumentRow) -> bool:
        """Store the row's metadata, keeping content and chunks; False if a newer version is stored."""
        ...

    async def delete(self, file_id: str, version: int) -> bool:
        """Remove the file and its chunks unless a newer version is stored; False if nothing was removed."""
        ...


class Publisher(Protocol):
    """Publish an event; returning means the broker acknowledged it."""

    async def publish(self, topic: str, key: str, event: Event) -> None: ...
