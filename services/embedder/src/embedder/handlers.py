"""doc.fetched in, the index brought to that version, chunks.embedded out.

Every action is idempotent and ordered by Drive's version: an event older than what is stored is
ignored, and the same event twice leaves the same rows.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from dataclasses import dataclass, replace

import structlog
from opentelemetry import trace

from embedder.chunking import Chunk, chunk_text
from embedder.ports import DocumentRow, EmbeddedChunk, IndexStore, Publisher, StoredDocument
from shared import topics
from shared.embeddings import Embedder, batch_indices
from shared.errors import PermanentError
from shared.events import ChunksEmbedded, DocFetched, FetchAction

log = structlog.get_logger(__name__)
tracer = trace.get_tracer(__name__)


@dataclass(frozen=True)
class Chunking:
    """How texts are cut: the token budget per chunk and the tokens repeated between chunks."""

    max_tokens: int = 200
    overlap_tokens: int = 30


@dataclass(frozen=True)
class Outcome:
    """What one event did to the index."""

    chunk_count: int
    model: str | None = None
    embed_seconds: float = 0.0
    reembedded: bool = False


@dataclass(frozen=True)
class Index:
    """The ports one event works with: where the index lives, and the model that fills it."""

    store: IndexStore
    embedder: Embedder
    chunking: Chunking


async def handle_doc_fetched(
    event: DocFetched, *, store: IndexStore, embedder: Embedder, publisher: Publisher, chunking: Chunking
) -> None:
    """Bring the file's row and chunks to the event's version, then announce it."""
    started = time.perf_counter()
    stored = await store.stored(event.file_id)
    outcome = None
    if stored is None or stored.version <= event.version:
        outcome = await _apply(event, stored, Index(store, embedder, chunking))
    if outcome is None:
        stored_version = stored.version if stored else None
        log.info(
            "document.stale", file_id=event.file_id, version=event.version, stored_version=stored_version
        )
        return
    seconds = time.perf_counter() - started
    await publisher.publish(topics.CHUNKS_EMBEDDED, event.file_id, _announcement(event, outcome, seconds))
    log.info(
        "document.indexed",
        file_id=event.file_id,
        version=event.version,
        action=str(event.action),
        chunks=outcome.chunk_count,
        reembedded=outcome.reembedded,
        seconds=round(seconds, 3),
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
        deleted = await index.store.delete(event.file_id, event.version)
        # Nothing deleted: already gone (a replay, still announced) or a newer version arrived meanwhile.
        return Outcome(chunk_count=0) if deleted or stored is None else None
    row = document_row(event)
    if event.action == FetchAction.METADATA:
        if not await index.store.update_metadata(row):
            return None
        return Outcome(stored.chunk_count, stored.embedding_model) if stored else Outcome(0)
    if event.action == FetchAction.SKIPPED:
        skipped = replace(row, content_hash=event.content_hash, skip_reason=event.reason or "skipped")
        return Outcome(0) if await index.store.replace(skipped, []) else None
    return await _upsert(event, row, stored, index)


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
    chunks = await asyncio.to_thread(
        chunk_text,
        text,
        index.embedder.count_tokens,
        max_tokens=chunking.max_tokens,
        overlap_tokens=chunking.overlap_tokens,
    )
    embed_started = time.perf_counter()
    embedded = await embed_chunks(chunks, index.embedder)
    embed_seconds = time.perf_counter() - embed_started
    row = replace(row, content_hash=content_hash, embedding_model=model)
    if not await index.store.replace(row, embedded):
        return None
    return Outcome(len(chunks), model, embed_seconds, reembedded=True)


async def embed_chunks(chunks: list[Chunk], embedder: Embedder) -> list[EmbeddedChunk]:
    """Embed chunks (heading path included) in batches the provider accepts."""
    embedded: list[EmbeddedChunk] = []
    with tracer.start_as_current_span("embed chunks", attributes={"chunks": len(chunks)}):
        for start, end in batch_indices(len(chunks), embedder.max_batch_size):
            batch = chunks[start:end]
            vectors = await embedder.embed_documents([c.embedding_input for c in batch])
            embedded.extend(EmbeddedChunk(c, v) for c, v in zip(batch, vectors, strict=True))
    return embedded


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
    return DocumentRow(
        file_id=event.file_id,
        source_id=event.source_id,
        version=event.version,
        name=meta.name,
        mime_type=meta.mime_type,
        web_view_link=meta.web_view_link,
        parents=list(meta.parents),
        drive_id=meta.drive_id,
        modified_time=meta.modified_time,
        size_bytes=meta.size,
    )
