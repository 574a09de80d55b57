"""What the embedder's handler needs from its index and from Kafka; the wiring picks the adapters."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol

import numpy as np
import numpy.typing as npt

from embedder.chunking import Chunk
from shared.events import FileMetadata


@dataclass(frozen=True)
class StoredDocument:
    """What the index holds about a file: enough to tell old events and unchanged content apart."""

    version: int
    content_hash: str | None
    embedding_model: str | None
    chunk_count: int
    fetched_at: datetime | None = None


@dataclass(frozen=True)
class Tombstone:
    """What a deletion left: the version it deleted at and when the fetcher saw it (tombstones.py)."""

    version: int
    fetched_at: datetime


@dataclass(frozen=True)
class SourceShowing:
    """Whether one source still shows a file, as of its newest event for it."""

    source_id: str
    fetched_at: datetime | None  # None: recorded before sources were tracked per file
    removed: bool = False


class Deletion(StrEnum):
    """What a delete event did."""

    DELETED = "deleted"  # the file is gone from the index (or already was), its tombstone laid
    KEPT = "kept"  # removed from one source, but another source still shows the file
    STALE = "stale"  # the stored row, or the source's view of it, is newer: nothing changed


@dataclass(frozen=True)
class FileState:
    """What the index holds of a file: its row, or the tombstone of its deletion, or neither."""

    document: StoredDocument | None = None
    tombstone: Tombstone | None = None


@dataclass(frozen=True)
class DocumentRow:
    """A `documents` row as the handler wants it stored."""

    file_id: str
    source_id: str
    version: int
    fetched_at: datetime
    # Name, type, link, parents, drive, modified time and size, as the event carried them.
    metadata: FileMetadata
    content_hash: str | None = None
    skip_reason: str | None = None
    embedding_model: str | None = None
    # How much of the file is searchable, when not all of it: "truncated to 2,000 chunks".
    index_note: str | None = None


@dataclass(frozen=True)
class EmbeddedChunk:
    """A chunk and its vector, ready to be written."""

    chunk: Chunk
    embedding: npt.NDArray[np.float32]


class ChunkWriter(Protocol):
    """Adds chunks to a file whose old chunks are being replaced, inside the replacing transaction."""

    async def write(self, chunks: Sequence[EmbeddedChunk]) -> None:
        """Store these chunks; they become visible with the rest when the replacement commits."""
        ...


class IndexStore(Protocol):
    """The embedder's reads and writes of `documents`, `chunks`, `tombstones` and claim-checked texts.

    Every write obeys tombstones.py: nothing older than the stored row or than the file's
    deletion is written.
    """

    async def state(self, file_id: str) -> FileState:
        """Return what is indexed for the file, and the tombstone of its deletion if any."""
        ...

    async def read_text(self, text_ref: str) -> str:
        """Return a claim-checked text."""
        ...

    def replacing(self, row: DocumentRow) -> AbstractAsyncContextManager[ChunkWriter | None]:
        """Store the row and drop its chunks, then take new ones; all commit together on exit.

        Yields None, writing nothing, when a newer version or the file's deletion is stored. An
        exception inside the block leaves the old row and chunks as they were.
        """
        ...

    async def update_metadata(self, row: DocumentRow) -> bool:
        """Store the row's metadata, keeping content and chunks; False if a newer version is stored."""
        ...

    async def delete(self, file_id: str, source_id: str, version: int, fetched_at: datetime) -> Deletion:
        """Remove the file and its chunks and leave its tombstone, unless a newer row is stored or
        (for a removal from one source) another source still shows the file."""
        ...
