"""The doc.fetched handler on real PostgreSQL + pgvector, with a deterministic model."""

from __future__ import annotations

import hashlib
from typing import Any

import numpy as np
import pytest

from embedder.chunking import embedding_input
from embedder.handlers import document_row
from embedder.ports import Deletion
from embeddings import HashingEmbedder, hashed_bag_of_words
from shared import topics
from shared.errors import PermanentError
from shared.events import ChunksEmbedded, FetchAction

# The harness fixture comes from conftest.py (test modules cannot import it under importlib mode).
Harness = Any
TEST_MODEL = "test-hash-384"  # as conftest.py names it


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


async def test_upsert_writes_the_document_and_its_embedded_chunks(harness: Harness, file_id: str) -> None:
    await harness.handle(harness.event(file_id, 7))

    document = await harness.document(file_id)
    assert document is not None
    assert {
        k: document[k] for k in ("name", "mime_type", "parents", "version", "size_bytes", "skip_reason")
    } == {
        "name": "Handbook",
        "mime_type": "application/vnd.google-apps.document",
        "parents": ["folder-1"],
        "version": 7,
        "size_bytes": 1234,
        "skip_reason": None,
    }
    assert (document["content_hash"], document["embedding_model"]) == (_sha(harness.handbook), TEST_MODEL)

    chunks = await harness.chunks(file_id)
    assert len(chunks) > 3
    assert [c["position"] for c in chunks] == list(range(len(chunks)))
    assert {c["heading"] for c in chunks} == {"Handbook", "Handbook > Leave", "Handbook > Expenses"}
    assert all(c["model"] == TEST_MODEL and c["token_count"] <= 40 for c in chunks)
    first = chunks[0]
    assert first["text"] == "Welcome to the team handbook. It explains how we work together."
    # The stored vector is the heading path plus the text, as the model saw it.
    expected = hashed_bag_of_words(embedding_input(first["heading"], first["text"]), 384)
    assert np.allclose(first["embedding"], expected)
    assert "'welcom'" in first["tsv"]

    [event] = harness.publisher.events
    assert (event.topic, event.key) == (topics.CHUNKS_EMBEDDED, file_id)
    assert isinstance(event, ChunksEmbedded)
    assert (event.version, event.action, event.chunk_count, event.model) == (
        7,
        "upsert",
        len(chunks),
        TEST_MODEL,
    )
    assert event.reembedded
    assert event.total_seconds >= event.embed_seconds > 0


async def test_the_same_event_twice_leaves_identical_rows(harness: Harness, file_id: str) -> None:
    event = harness.event(file_id, 3)
    await harness.handle(event)
    document, chunks = await harness.document(file_id), await harness.chunks(file_id)
    embedded = harness.embedder.documents_embedded

    await harness.handle(event)

    assert await harness.document(file_id) == document
    again = await harness.chunks(file_id)
    assert again == chunks
    assert harness.embedder.documents_embedded == embedded
    first, second = harness.publisher.events
    assert (second.chunk_count, second.reembedded) == (first.chunk_count, False)


async def test_an_older_version_after_a_newer_one_is_ignored(harness: Harness, file_id: str) -> None:
    await harness.handle(harness.event(file_id, 5, text="# New\n\nThe current text."))
    await harness.handle(
        harness.event(file_id, 4, text="# Old\n\nAn outdated text.", metadata=harness.metadata("Old"))
    )
    await harness.handle(harness.event(file_id, 4, FetchAction.METADATA, metadata=harness.metadata("Old")))
    await harness.handle(harness.event(file_id, 4, FetchAction.DELETE, metadata=None))

    document = await harness.document(file_id)
    assert document is not None
    assert (document["version"], document["name"]) == (5, "Handbook")
    assert [c["text"] for c in await harness.chunks(file_id)] == ["The current text."]
    assert [e.version for e in harness.publisher.events] == [5]


async def test_metadata_renames_and_moves_without_reembedding(harness: Harness, file_id: str) -> None:
    await harness.handle(harness.event(file_id, 1))
    chunks = await harness.chunks(file_id)
    embedded = harness.embedder.documents_embedded

    renamed = harness.metadata("Handbook 2025", parents=["folder-2"])
    await harness.handle(harness.event(file_id, 2, FetchAction.METADATA, metadata=renamed))

    document = await harness.document(file_id)
    assert document is not None
    assert (document["name"], document["parents"], document["version"]) == ("Handbook 2025", ["folder-2"], 2)
    assert (document["content_hash"], document["embedding_model"]) == (_sha(harness.handbook), TEST_MODEL)
    assert [c["text"] for c in await harness.chunks(file_id)] == [c["text"] for c in chunks]
    assert harness.embedder.documents_embedded == embedded
    announced = harness.publisher.events[-1]
    assert (announced.action, announced.chunk_count, announced.reembedded) == ("metadata", len(chunks), False)


async def test_an_upsert_with_unchanged_text_only_updates_metadata(harness: Harness, file_id: str) -> None:
    await harness.handle(harness.event(file_id, 1))
    embedded = harness.embedder.documents_embedded

    await harness.handle(
        harness.event(file_id, 2, metadata=harness.metadata("Renamed"), content_hash=_sha(harness.handbook))
    )

    document = await harness.document(file_id)
    assert document is not None
    assert (document["name"], document["version"]) == ("Renamed", 2)
    assert harness.embedder.documents_embedded == embedded
    assert not harness.publisher.events[-1].reembedded


async def test_changed_text_replaces_every_chunk(harness: Harness, file_id: str) -> None:
    await harness.handle(harness.event(file_id, 1))
    await harness.handle(harness.event(file_id, 2, text="Short now."))

    chunks = await harness.chunks(file_id)
    assert [(c["position"], c["heading"], c["text"]) for c in chunks] == [(0, None, "Short now.")]
    assert harness.publisher.events[-1].reembedded


async def test_another_model_reembeds_unchanged_text(harness: Harness, file_id: str) -> None:
    await harness.handle(harness.event(file_id, 1))
    harness.embedder = HashingEmbedder("test-hash-128", 128)

    await harness.handle(harness.event(file_id, 1))

    chunks = await harness.chunks(file_id)
    assert {(c["model"], len(c["embedding"])) for c in chunks} == {("test-hash-128", 128)}
    document = await harness.document(file_id)
    assert document is not None
    assert document["embedding_model"] == "test-hash-128"


async def test_delete_removes_the_document_and_its_chunks(harness: Harness, file_id: str) -> None:
    await harness.handle(harness.event(file_id, 1))
    await harness.handle(harness.event(file_id, 2, FetchAction.DELETE, metadata=None))

    assert await harness.document(file_id) is None
    assert await harness.chunks(file_id) == []
    # Deleting what is already gone is a replay: same rows, announced again.
    await harness.handle(harness.event(file_id, 2, FetchAction.DELETE, metadata=None))
    assert [(e.action, e.chunk_count) for e in harness.publisher.events[1:]] == [("delete", 0)] * 2


async def test_skipped_files_keep_a_row_with_the_reason_and_no_chunks(harness: Harness, file_id: str) -> None:
    await harness.handle(harness.event(file_id, 1))
    reason = "too large: 14.2 MB exceeds Drive's 10 MB export limit"
    await harness.handle(harness.event(file_id, 2, FetchAction.SKIPPED, reason=reason))

    document = await harness.document(file_id)
    assert document is not None
    assert (document["skip_reason"], document["embedding_model"], document["version"]) == (reason, None, 2)
    assert await harness.chunks(file_id) == []


async def test_a_folder_gets_a_row_naming_its_source_without_chunks(harness: Harness, file_id: str) -> None:
    source = f"src-{file_id}"
    folder = harness.metadata("Team", mime_type="application/vnd.google-apps.folder", parents=[])
    event = harness.event(file_id, 1, FetchAction.METADATA, metadata=folder).model_copy(
        update={"source_id": source}
    )
    await harness.handle(event)

    document = await harness.document(file_id)
    assert document is not None
    assert (document["source_id"], document["name"], document["embedding_model"]) == (source, "Team", None)
    # Source rows are drive.source_admin's alone (the fetcher ensures them before publishing).
    assert await harness.pool.fetchval("SELECT count(*) FROM sources WHERE id = $1", source) == 0
    assert await harness.chunks(file_id) == []


async def test_a_claim_checked_text_is_read_from_fetched_texts(harness: Harness, file_id: str) -> None:
    text = f"# Big file {file_id}\n\n" + "A sentence that repeats to make the text large. " * 50
    await harness.pool.execute(
        "INSERT INTO fetched_texts (content_hash, text) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        _sha(text),
        text,
    )
    await harness.handle(harness.event(file_id, 1, text_ref=_sha(text), content_hash=_sha(text)))

    chunks = await harness.chunks(file_id)
    assert len(chunks) > 5
    assert {c["heading"] for c in chunks} == {f"Big file {file_id}"}


async def test_events_that_cannot_ever_work_raise_permanent_errors(harness: Harness, file_id: str) -> None:
    with pytest.raises(PermanentError, match="not in fetched_texts"):
        await harness.handle(harness.event(file_id, 1, text_ref="0" * 64))
    with pytest.raises(PermanentError, match="no metadata"):
        await harness.handle(harness.event(file_id, 1, metadata=None))
    with pytest.raises(PermanentError, match="neither text nor text_ref"):
        await harness.handle(harness.event(file_id, 1, text=None))
    assert await harness.document(file_id) is None
    assert harness.publisher.events == []


async def test_the_store_itself_refuses_to_overwrite_a_newer_version(harness: Harness, file_id: str) -> None:
    # The handler checks versions first; the SQL guards too, for a newer event committed meanwhile.
    await harness.handle(harness.event(file_id, 9))
    chunks = await harness.chunks(file_id)
    older = document_row(harness.event(file_id, 8, metadata=harness.metadata("Older")))

    async with harness.store.replacing(older) as writer:
        assert writer is None
    assert not await harness.store.update_metadata(older)
    assert await harness.store.delete(file_id, older.source_id, 8, older.fetched_at) == Deletion.STALE
    document = await harness.document(file_id)
    assert document is not None
    assert (document["version"], document["name"]) == (9, "Handbook")
    assert await harness.chunks(file_id) == chunks
