"""CohereEmbedder through the real cohere SDK against the local Cohere stand-in."""

from __future__ import annotations

from collections.abc import AsyncIterator

import numpy as np
import pytest

from cohere_stub import CohereStub, running
from embeddings import from_settings
from embeddings.cohere import (
    CohereCredentialsError,
    CohereEmbedder,
    CohereRejectedError,
    CohereUnavailableError,
)
from embeddings.settings import EmbeddingSettings
from shared.errors import is_retriable


@pytest.fixture
async def stub() -> AsyncIterator[CohereStub]:
    async with running(api_key="k-test") as server:
        yield server


@pytest.fixture
async def embedder(stub: CohereStub) -> AsyncIterator[CohereEmbedder]:
    client = CohereEmbedder("k-test", base_url=stub.url, max_attempts=3, backoff_seconds=0.01)
    yield client
    await client.close()


def _cosine(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b)))


async def test_documents_over_96_are_split_into_batches_in_order(
    stub: CohereStub, embedder: CohereEmbedder
) -> None:
    texts = [f"document number {i}" for i in range(200)]
    vectors = await embedder.embed_documents(texts)
    assert [len(r["texts"]) for r in stub.requests] == [96, 96, 8]
    assert len(vectors) == 200
    assert all(v.shape == (1024,) and v.dtype == np.float32 for v in vectors)
    # Order survives batching: each vector is the one its own text gets alone.
    assert np.allclose(vectors[150], await embedder.embed_query("document number 150"))


async def test_input_type_model_and_dimension_are_sent(stub: CohereStub, embedder: CohereEmbedder) -> None:
    await embedder.embed_documents(["quarterly revenue report"])
    await embedder.embed_query("revenue")
    sent = [(r["input_type"], r["model"], r["output_dimension"], r["embedding_types"]) for r in stub.requests]
    assert sent == [
        ("search_document", "embed-v4.0", 1024, ["float"]),
        ("search_query", "embed-v4.0", 1024, ["float"]),
    ]


async def test_similar_texts_are_closer_than_unrelated_ones(embedder: CohereEmbedder) -> None:
    doc, near, far = await embedder.embed_documents(
        ["holiday leave policy for staff", "staff holiday leave", "kubernetes cluster upgrade"]
    )
    assert _cosine(doc, near) > _cosine(doc, far)


@pytest.mark.parametrize("status", [429, 502])
async def test_throttling_and_bad_gateways_are_retried_then_succeed(
    stub: CohereStub, embedder: CohereEmbedder, status: int
) -> None:
    stub.fail_next(2, status=status)
    vectors = await embedder.embed_documents(["a", "b"])
    assert len(vectors) == 2
    assert len(stub.requests) == 3


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        # Unavailable after every attempt: retriable, so the consume loop tries the message again.
        (503, (CohereUnavailableError, "Cohere failed 3 times, last: HTTP 503", True, 3)),
        # Refused input: not retried here, and parked by the consume loop.
        (400, (CohereRejectedError, "Cohere answered 400", False, 1)),
    ],
)
async def test_failures_end_in_a_typed_error(
    stub: CohereStub, embedder: CohereEmbedder, status: int, expected: tuple[type[Exception], str, bool, int]
) -> None:
    error, message, retriable, requests = expected
    stub.fail_next(3, status=status)
    with pytest.raises(error, match=message) as caught:
        await embedder.embed_documents(["a"])
    assert is_retriable(caught.value) is retriable
    assert len(stub.requests) == requests


async def test_a_wrong_key_pauses_the_work_without_retrying_here(stub: CohereStub) -> None:
    client = CohereEmbedder("wrong", base_url=stub.url, max_attempts=3, backoff_seconds=0.01)
    try:
        with pytest.raises(CohereCredentialsError, match="401") as caught:
            await client.embed_query("hello")
    finally:
        await client.close()
    # Not the message's fault: the consume loop waits it out instead of dead-lettering the message.
    assert is_retriable(caught.value)
    assert len(stub.requests) == 1


async def test_a_model_without_output_dimension_gets_none_sent(stub: CohereStub) -> None:
    client = CohereEmbedder("k-test", base_url=stub.url, model="embed-english-light-v3.0", dimensions=384)
    try:
        vector = await client.embed_query("hello")
    finally:
        await client.close()
    assert vector.shape == (384,)
    assert "output_dimension" not in stub.requests[0]


async def test_an_unreachable_server_raises_a_retriable_error() -> None:
    async with running(api_key="k-test") as stopped:
        pass
    # Nothing listens on the stopped stand-in's port any more.
    client = CohereEmbedder("k-test", base_url=stopped.url, max_attempts=2, backoff_seconds=0.01)
    try:
        with pytest.raises(CohereUnavailableError, match="ConnectError"):
            await client.embed_query("hello")
    finally:
        await client.close()


async def test_from_settings_builds_cohere_from_the_environment(
    stub: CohereStub, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EMBEDDING_PROVIDER", "cohere")
    monkeypatch.setenv("COHERE_API_KEY", "k-test")
    monkeypatch.setenv("COHERE_BASE_URL", stub.url)
    monkeypatch.setenv("COHERE_DIMENSIONS", "512")
    embedder = from_settings(EmbeddingSettings())
    try:
        assert (embedder.model_name, embedder.dimensions, embedder.max_batch_size) == ("embed-v4.0", 512, 96)
        assert (await embedder.embed_query("hello")).shape == (512,)
    finally:
        await embedder.close()
