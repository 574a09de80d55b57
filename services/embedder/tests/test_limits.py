"""Bounded work: a chunk limit per file, recorded on the row, and bounded embedding batches."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest

from embedder.chunking import chunk_text
from embedder.handlers import Chunking, cut, embed_into, index_note
from embedder.ports import EmbeddedChunk
from embeddings import HashingEmbedder, Vector

Harness = Any  # the fixture from conftest.py
TEST_MODEL = "test-hash-384"  # as conftest.py names it


def _words(text: str) -> int:
    return len(text.split())


def _long_text(paragraphs: int) -> str:
    return "\n\n".join(f"Paragraph {n} talks about topic {n} at some length." for n in range(paragraphs))


@dataclass
class RecordingWriter:
    """The ChunkWriter port, keeping the size of every batch written."""

    batches: list[list[int]] = field(default_factory=list)

    async def write(self, chunks: Sequence[EmbeddedChunk]) -> None:
        self.batches.append([c.chunk.position for c in chunks])


class BatchRecordingEmbedder(HashingEmbedder):
    """A hashing model that records how many texts each call carried, and can fail on one call."""

    def __init__(self, fail_on_call: int | None = None) -> None:
        super().__init__(TEST_MODEL, 384)
        self.calls: list[int] = []
        self.fail_on_call = fail_on_call

    async def embed_documents(self, texts: Sequence[str]) -> list[Vector]:
        self.calls.append(len(texts))
        if len(self.calls) == self.fail_on_call:
            raise TimeoutError("the model did not answer in time")
        return await super().embed_documents(texts)


@pytest.mark.parametrize(
    ("fetcher_note", "truncated_to", "expected"),
    [
        (None, None, None),
        (None, 2000, "truncated to 2,000 chunks"),
        ("truncated to 2,000,000 characters", None, "truncated to 2,000,000 characters"),
        (
            "truncated to 2,000,000 characters",
            2000,
            "truncated to 2,000,000 characters; truncated to 2,000 chunks",
        ),
    ],
)
def test_index_note_joins_the_fetchers_note_and_the_chunk_limit(
    fetcher_note: str | None, truncated_to: int | None, expected: str | None
) -> None:
    assert index_note(fetcher_note, truncated_to) == expected


def test_cut_keeps_the_first_chunks_and_stops_counting_soon_after_the_limit() -> None:
    text = _long_text(2000)
    counted: list[str] = []

    def counting(piece: str) -> int:
        counted.append(piece)
        return _words(piece)

    chunks, truncated = cut(text, counting, Chunking(max_tokens=20, overlap_tokens=0, max_chunks=5))

    assert truncated
    assert [c.text for c in chunks] == [
        c.text for c in chunk_text(text, _words, max_tokens=20, overlap_tokens=0)[:5]
    ]
    assert len(counted) < 60  # not the ~6,000 calls a whole-text pass would make
    assert cut("Short.", _words, Chunking(max_chunks=1)) == (chunk_text("Short.", _words), False)


async def test_embed_into_writes_each_batch_as_soon_as_it_is_embedded() -> None:
    chunks = chunk_text(_long_text(5), _words, max_tokens=12, overlap_tokens=0)
    embedder = BatchRecordingEmbedder()
    embedder.max_batch_size = 3  # the model's own limit wins over a larger batch setting
    writer = RecordingWriter()

    seconds = await embed_into(writer, chunks, embedder, batch_size=64)

    assert embedder.calls == [3, 2]
    assert writer.batches == [[0, 1, 2], [3, 4]]
    assert seconds > 0


async def test_a_file_over_the_limit_is_truncated_and_the_row_says_so(harness: Harness, file_id: str) -> None:
    harness.chunking = Chunking(max_tokens=12, overlap_tokens=0, max_chunks=7, batch_size=3)
    fetcher_note = "truncated to 2,000,000 characters"

    await harness.handle(harness.event(file_id, 1, text=_long_text(50), reason=fetcher_note))

    document = await harness.document(file_id)
    assert document is not None
    assert document["index_note"] == f"{fetcher_note}; truncated to 7 chunks"
    assert [c["position"] for c in await harness.chunks(file_id)] == list(range(7))
    assert harness.publisher.events[-1].chunk_count == 7

    await harness.handle(harness.event(file_id, 2, text=_long_text(2)))
    document = await harness.document(file_id)
    assert document is not None
    assert document["index_note"] is None


async def test_a_large_file_is_embedded_and_written_in_bounded_batches(
    harness: Harness, file_id: str
) -> None:
    harness.embedder = BatchRecordingEmbedder()
    harness.chunking = Chunking(max_tokens=12, overlap_tokens=0, max_chunks=2000, batch_size=16)

    await harness.handle(harness.event(file_id, 1, text=_long_text(300)))

    chunks = await harness.chunks(file_id)
    assert [c["position"] for c in chunks] == list(range(300))
    assert harness.embedder.calls == [16] * 18 + [12]
    document = await harness.document(file_id)
    assert document is not None
    assert document["index_note"] is None


async def test_a_failure_between_batches_keeps_the_previous_version_whole(
    harness: Harness, file_id: str
) -> None:
    harness.chunking = Chunking(max_tokens=12, overlap_tokens=0, batch_size=4)
    await harness.handle(harness.event(file_id, 1, text=_long_text(6)))
    before = await harness.chunks(file_id)
    harness.embedder = BatchRecordingEmbedder(fail_on_call=3)

    with pytest.raises(TimeoutError):
        await harness.handle(harness.event(file_id, 2, text=_long_text(20)))

    document = await harness.document(file_id)
    assert document is not None
    assert document["version"] == 1
    assert await harness.chunks(file_id) == before
