"""doc.fetched in, the index brought to that version, chunks.embedded out.

Every action is idempotent and ordered by Drive's version: an event older than what is stored, or
than the file's deletion (tombstones.py), is ignored, and the same event twice leaves the same rows.
A text is cut into at most `max_chunks` chunks (the rest is dropped, and the row says so), which
are embedded and written `batch_size` at a time: a huge file never holds every vector at once.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from itertools import islice

import structlog
from opentelemetry import trace

from embedder.chunking import Chunk, TokenCounter, iter_chunks
from embedder.ports import (
    ChunkWriter,
    Deletion,
    DocumentRow,
    EmbeddedChunk,
    FileState,
    IndexStore,
    StoredDocument,
)
from embedder.tombstones import applies
from embeddings import Embedder, batch_indices
from shared.errors import PermanentError
from shared.events import ChunksEmbedded, DocFetched, FetchAction
from shared.kafka import EventPublisher

log = structlog.get_logger(__name__)
tracer = trace.get_tracer(__name__)


@dataclass(frozen=True)
class Chunking:
    """How texts are cut and fed to the model.

    The token budget per chunk, the tokens repeated between chunks, the chunks kept of one file,
    and the chunks embedded (and written) per batch, capped by the model's own batch limit.
    """

    max_tokens: int = 200
    overlap_tokens: int = 30
    max_chunks: int = 2000
    batch_size: int = 64


@dataclass(frozen=True)
class Outcome:
    """What one event did to the index."""

    chunk_count: int
    model: str | None = None
    embed_seconds: float = 0.0
    reembedded: bool = False
    announced: bool = True


@dataclass(frozen=True)
class Index:
    """The ports one event works with: where the index lives, and the model that fills it."""

    store: IndexStore
    embedder: Embedder
    chunking: Chunking


async def handle_doc_fetched(
    event: DocFetched, *, store: IndexStore, embedder: Embedder, publisher: EventPublisher, chunking: Chunking
) -> None:
    """Bring the file's row and chunks to the event's version, then announce it."""
    started = time.perf_counter()
    state = await store.state(event.file_id)
    outcome = None
    if applies(event, state):
        outcome = await _apply(event, state.document, Index(store, embedder, chunking))
    if outcome is None:
        _log_stale(event, state)
        return
    seconds = time.perf_counter() - started
    if outcome.announced:
        await publisher.publish(_announcement(event, outcome, seconds))
    log.info(
        "document.indexed" if outcome.announced else "document.kept",
        file_id=event.file_id,
        source_id=event.source_id,
        version=event.version,
        action=str(event.action),
        chunks=outcome.chunk_count,
        reembedded=outcome.reembedded,
        seconds=round(seconds, 3),
    )


def _log_stale(event: DocFetched, state: FileState) -> None:
    log.info(
        "document.stale",
        file_id=event.file_id,
        version=event.version,
        action=str(event.action),
        stored_version=state.document.version if state.document else None,
        tombstone_version=state.tombstone.version if state.tombstone else None,
    )


def _announcement(event: DocFetched, outcome: Outcome, seconds: float) -> ChunksEmbedded:
    return ChunksEmbedded(
        source_id=event.source_id,
        file_id=event.file_id,
        version=event.version,
        action=event.action,
        chunk_count=outcome.chunk_count,
        model=outcome.model,
        embed_seconds=round(outcome.embed_seconds, 4),
        total_seconds=round(seconds, 4),
        reembedded=outcome.reembedded,
    )


async def _apply(event: DocFetched, stored: StoredDocument | None, index: Index) -> Outcome | None:
    """Carry out the event's action; None when a newer version won meanwhile."""
    if event.action == FetchAction.DELETE:
        return await _delete(event, index.store)
    row = document_row(event)
    if event.action == FetchAction.METADATA:
        if not await index.store.update_metadata(row):
            return None
        return Outcome(stored.chunk_count, stored.embedding_model) if stored else Outcome(0)
    if event.action == FetchAction.SKIPPED:
        skipped = replace(row, content_hash=event.content_hash, skip_reason=event.reason or "skipped")
        async with index.store.replacing(skipped) as writer:
            return Outcome(0) if writer is not None else None
    return await _upsert(event, row, stored, index)


async def _delete(event: DocFetched, store: IndexStore) -> Outcome | None:
    deletion = await store.delete(event.file_id, event.source_id, event.version, event.fetched_at)
    if deletion == Deletion.STALE:
        return None
    # Kept: another source still shows the file, which did not change. Already gone: a replay,
    # announced again.
    return Outcome(chunk_count=0, announced=deletion == Deletion.DELETED)


async def _upsert(
    event: DocFetched, row: DocumentRow, stored: StoredDocument | None, index: Index
) -> Outcome | None:
    text = await _text(event, index.store)
    content_hash = event.content_hash or hashlib.sha256(text.encode()).hexdigest()
    model = index.embedder.model_name
    if stored and (stored.content_hash, stored.embedding_model) == (content_hash, model):
        # Same text, same model: the stored chunks are still right, only metadata may differ.
        if not await index.store.update_metadata(row):
            return None
        return Outcome(stored.chunk_count, model)
    chunking = index.chunking
    chunks, truncated = await asyncio.to_thread(cut, text, index.embedder.count_tokens, chunking)
    note = index_note(event.reason, chunking.max_chunks if truncated else None)
    row = replace(row, content_hash=content_hash, embedding_model=model, index_note=note)
    async with index.store.replacing(row) as writer:
        if writer is None:
            return None
        embed_seconds = await embed_into(writer, chunks, index.embedder, chunking.batch_size)
    return Outcome(len(chunks), model, embed_seconds, reembedded=True)


def cut(text: str, count_tokens: TokenCounter, chunking: Chunking) -> tuple[list[Chunk], bool]:
    """Cut `text` into at most `max_chunks` chunks; tell whether any text was left out."""
    chunks = list(
        islice(
            iter_chunks(
                text, count_tokens, max_tokens=chunking.max_tokens, overlap_tokens=chunking.overlap_tokens
            ),
            chunking.max_chunks + 1,  # one more than kept tells that the text goes on
        )
    )
    return chunks[: chunking.max_chunks], len(chunks) > chunking.max_chunks


def index_note(fetcher_note: str | None, truncated_to: int | None) -> str | None:
    """Say how much of the file is searchable: the fetcher's note, then the embedder's."""
    notes = [fetcher_note] if fetcher_note else []
    if truncated_to is not None:
        notes.append(f"truncated to {truncated_to:,} chunks")
    return "; ".join(notes) or None


async def embed_into(
    writer: ChunkWriter, chunks: Sequence[Chunk], embedder: Embedder, batch_size: int
) -> float:
    """Embed chunks (heading path included) and write them one batch at a time; return seconds embedding.

    Only one batch of vectors is alive at once, however many chunks the file has.
    """
    size = min(batch_size, embedder.max_batch_size)
    seconds = 0.0
    with tracer.start_as_current_span("embed chunks", attributes={"chunks": len(chunks), "batch": size}):
        for start, end in batch_indices(len(chunks), size):
            batch = chunks[start:end]
            started = time.perf_counter()
            vectors = await embedder.embed_documents([c.embedding_input for c in batch])
            seconds += time.perf_counter() - started
            await writer.write([EmbeddedChunk(c, v) for c, v in zip(batch, vectors, strict=True)])
    return seconds


async def _text(event: DocFetched, store: IndexStore) -> str:
    if event.text is not None:
        return event.text
    if event.text_ref:
        return await store.read_text(event.text_ref)
    raise PermanentError("an upsert event carries neither text nor text_ref")


def document_row(event: DocFetched) -> DocumentRow:
    """Map the event's Drive metadata onto a `documents` row."""
    meta = event.metadata
    if meta is None:
        raise PermanentError(f"the {event.action} event carries no metadata")
    return DocumentRow(event.file_id, event.source_id, event.version, event.fetched_at, meta)
