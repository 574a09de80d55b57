"""LocalEmbedder with the real all-MiniLM-L6-v2 model, loaded once for this module."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import numpy as np
import pytest

from embeddings.local import LocalEmbedder

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def embedder() -> Iterator[LocalEmbedder]:
    model = LocalEmbedder.load()
    yield model
    asyncio.run(model.close())


async def test_vectors_have_384_unit_length_dimensions(embedder: LocalEmbedder) -> None:
    vectors = await embedder.embed_documents(["The cat sat on the mat.", "Quarterly revenue grew."])
    query = await embedder.embed_query("cats")
    assert (embedder.model_name, embedder.dimensions) == ("all-MiniLM-L6-v2", 384)
    assert [v.shape for v in [*vectors, query]] == [(384,)] * 3
    assert all(v.dtype == np.float32 for v in vectors)
    assert np.allclose([np.linalg.norm(v) for v in vectors], 1.0, atol=1e-5)


async def test_a_paraphrase_is_closer_than_an_unrelated_text(embedder: LocalEmbedder) -> None:
    original, paraphrase, unrelated = await embedder.embed_documents(
        [
            "Employees may carry over five unused vacation days into the next year.",
            "Staff can roll up to five days of annual leave they did not take into next year.",
            "The database cluster is upgraded to PostgreSQL 18 during the weekend.",
        ]
    )
    assert float(original @ paraphrase) > float(original @ unrelated) + 0.2


async def test_documents_and_queries_share_one_space(embedder: LocalEmbedder) -> None:
    text = "How do I reset my VPN password?"
    (as_document,) = await embedder.embed_documents([text])
    assert np.allclose(as_document, await embedder.embed_query(text), atol=1e-5)


def test_count_tokens_uses_the_model_tokenizer_without_special_tokens(embedder: LocalEmbedder) -> None:
    assert embedder.count_tokens("") == 0
    assert embedder.count_tokens("hello world") == 2
    # WordPiece splits rare words: more tokens than words.
    assert embedder.count_tokens("antidisestablishmentarianism") > 1
    # No cap at the model's 128/256-token windows: counting must see a whole paragraph.
    assert embedder.count_tokens("word " * 600) == 600
