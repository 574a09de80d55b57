"""The embedder handles every golden doc.fetched example (the event contract, libs/shared/tests/golden)
and announces what it did in the shape of the golden chunks.embedded example."""

from __future__ import annotations

from devstack import golden
from shared.events import ChunksEmbedded, DocFetched, FetchAction

from .conftest import Harness


async def test_every_golden_doc_fetched_is_indexed_or_removed(harness: Harness) -> None:
    examples = golden.examples(DocFetched)
    assert set(examples) == {"upsert", "upsert-by-reference", "delete"}
    claim = examples["upsert-by-reference"]
    await harness.pool.execute(
        "INSERT INTO fetched_texts (content_hash, text) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        claim.text_ref,
        "# Handbook\n\nHow we work together.",
    )
    for name in ("upsert", "upsert-by-reference"):
        event = examples[name]
        await harness.handle(event)
        document = await harness.document(event.file_id)
        assert document is not None, name
        assert document["version"] == event.version
        assert await harness.chunks(event.file_id), name

    deleted = examples["delete"]
    await harness.handle(deleted)
    assert await harness.document(deleted.file_id) is None

    announced = harness.publisher.of(ChunksEmbedded)
    assert [(e.file_id, e.action) for e in announced] == [
        (examples["upsert"].file_id, FetchAction.UPSERT),
        (claim.file_id, FetchAction.UPSERT),
        (deleted.file_id, FetchAction.DELETE),
    ]
    shape = set(golden.raw(ChunksEmbedded)["upsert"])
    assert all(set(e.model_dump()) == shape for e in announced)
