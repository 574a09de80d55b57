"""Every embedding call is bounded: a slow Cohere answer and a slow local forward pass time out."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator, Sequence
from typing import Any

import numpy as np
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from embeddings import from_settings
from embeddings.cohere import CohereEmbedder, CohereUnavailableError
from embeddings.local import LocalEmbedder, LocalModelTimeoutError
from embeddings.settings import EmbeddingSettings
from shared.errors import is_retriable


async def _slow_embed(request: web.Request) -> web.StreamResponse:
    """Answer like a Cohere endpoint whose response trickles in, one byte every 50 ms."""
    response = web.StreamResponse(headers={"Content-Type": "application/json"})
    await response.prepare(request)
    for _ in range(200):
        await response.write(b" ")
        await asyncio.sleep(0.05)
    return response


@pytest.fixture
async def slow_cohere() -> AsyncIterator[str]:
    app = web.Application()
    app.router.add_post("/v2/embed", _slow_embed)
    async with TestServer(app, host="127.0.0.1") as server:
        yield str(server.make_url("")).rstrip("/")


async def test_a_cohere_answer_slower_than_the_timeout_is_retried_then_surfaced(slow_cohere: str) -> None:
    # httpx's read timeout never fires on a trickle; the whole request still has a deadline.
    client = CohereEmbedder(
        "k-test", base_url=slow_cohere, max_attempts=2, backoff_seconds=0.01, timeout_seconds=0.3
    )
    started = time.monotonic()
    try:
        with pytest.raises(CohereUnavailableError, match="2 times, last: no answer within the timeout") as e:
            await client.embed_documents(["a"])
    finally:
        await client.close()
    assert is_retriable(e.value)
    assert time.monotonic() - started < 2.0


class FakeModel:
    """Stands in for SentenceTransformer.encode: records each call's size, sleeps when told."""

    def __init__(self, seconds_per_call: float = 0.0) -> None:
        self.seconds_per_call = seconds_per_call
        self.calls: list[int] = []
        self.lock = threading.Lock()

    def encode(self, texts: Sequence[str], **_: Any) -> np.ndarray:
        with self.lock:
            self.calls.append(len(texts))
        time.sleep(self.seconds_per_call)
        return np.ones((len(texts), 384), dtype=np.float32)


async def test_local_embedding_runs_one_bounded_batch_per_thread_call() -> None:
    model = FakeModel()
    embedder = LocalEmbedder(model, tokenizer=None)
    try:
        vectors = await embedder.embed_documents([f"text {n}" for n in range(70)])
    finally:
        await embedder.close()
    assert model.calls == [32, 32, 6]
    assert len(vectors) == 70


async def test_a_local_forward_pass_over_the_timeout_raises_a_retriable_error() -> None:
    embedder = LocalEmbedder(FakeModel(seconds_per_call=0.5), tokenizer=None, timeout_seconds=0.05)
    try:
        with pytest.raises(LocalModelTimeoutError, match=r"^2 texts took over 0.05 s") as caught:
            await embedder.embed_documents(["a", "b"])
    finally:
        await embedder.close()
    assert is_retriable(caught.value)


async def test_from_settings_gives_cohere_the_embedders_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EMBEDDING_PROVIDER", "cohere")
    monkeypatch.setenv("COHERE_API_KEY", "k-test")
    embedder = from_settings(EmbeddingSettings(), timeout_seconds=7.5)
    try:
        assert isinstance(embedder, CohereEmbedder)
        assert embedder.timeout_seconds == 7.5
    finally:
        await embedder.close()
