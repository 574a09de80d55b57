"""The embedding port's pure parts: batching, the hashing embedder and provider selection."""

from __future__ import annotations

import numpy as np
import pytest

from embeddings import HashingEmbedder, batch_indices, from_settings, hashed_bag_of_words
from embeddings.settings import EmbeddingSettings
from shared.settings import SettingsError, load


@pytest.mark.parametrize(
    ("count", "size", "expected"),
    [
        (0, 96, []),
        (1, 96, [(0, 1)]),
        (96, 96, [(0, 96)]),
        (97, 96, [(0, 96), (96, 97)]),
        (200, 96, [(0, 96), (96, 192), (192, 200)]),
        (5, 1, [(0, 1), (1, 2), (2, 3), (3, 4), (4, 5)]),
    ],
)
def test_batch_indices_cover_every_item_once_within_the_limit(
    count: int, size: int, expected: list[tuple[int, int]]
) -> None:
    assert list(batch_indices(count, size)) == expected


def test_batch_indices_refuse_an_empty_batch() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        list(batch_indices(3, 0))


def test_hashed_vectors_are_unit_length_deterministic_and_word_based() -> None:
    a = hashed_bag_of_words("Budget plan for 2025", 384)
    assert a.shape == (384,)
    assert a.dtype == np.float32
    assert np.isclose(np.linalg.norm(a), 1.0)
    assert np.array_equal(a, hashed_bag_of_words("budget PLAN for 2025!", 384))
    near = hashed_bag_of_words("the 2025 budget", 384)
    far = hashed_bag_of_words("onboarding checklist for interns", 384)
    assert float(a @ near) > float(a @ far)


def test_wordless_text_still_has_a_direction() -> None:
    assert np.isclose(np.linalg.norm(hashed_bag_of_words("  ...  ", 8)), 1.0)


async def test_hashing_embedder_keeps_its_batch_limit() -> None:
    embedder = HashingEmbedder(max_batch_size=2)
    assert len(await embedder.embed_documents(["a", "b"])) == 2
    with pytest.raises(ValueError, match="batch limit"):
        await embedder.embed_documents(["a", "b", "c"])
    assert embedder.count_tokens("three little words") == 3


def test_cohere_without_a_key_names_the_missing_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EMBEDDING_PROVIDER", "cohere")
    monkeypatch.delenv("COHERE_API_KEY", raising=False)
    with pytest.raises(SettingsError, match=r"^COHERE_API_KEY is not set \(needed with EMBEDDING_PROVIDER="):
        load(EmbeddingSettings)
    # Settings built without validation still cannot make a keyless client.
    with pytest.raises(SettingsError, match="COHERE_API_KEY"):
        from_settings(EmbeddingSettings.model_construct(embedding_provider="cohere"))
