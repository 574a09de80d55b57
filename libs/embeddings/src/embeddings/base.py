"""The embedding port: what the embedder and search need from any model."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Protocol

import numpy as np
import numpy.typing as npt
from prometheus_client import Histogram

Vector = npt.NDArray[np.float32]

# Longest one embedding call may take (one Cohere request, one local forward pass) unless told.
DEFAULT_TIMEOUT_SECONDS = 60.0

# Exported by whichever service embeds: the embedder (documents) and search (queries).
EMBEDDING_SECONDS = Histogram(
    "drive_index_embedding_seconds", "Time to embed one batch of texts", ["provider", "purpose"]
)


class Embedder(Protocol):
    """Turn texts into vectors; documents and queries may be embedded differently (Cohere does)."""

    # Stored beside every chunk: search only compares vectors made by the same model.
    model_name: str
    dimensions: int
    # Texts per request/forward pass; the provider's own limit.
    max_batch_size: int

    def count_tokens(self, text: str) -> int:
        """Count tokens as the model's tokenizer does, for chunking within its budget."""
        ...

    async def embed_documents(self, texts: Sequence[str]) -> list[Vector]:
        """Embed texts to be stored and searched."""
        ...

    async def embed_query(self, text: str) -> Vector:
        """Embed one search query."""
        ...

    async def close(self) -> None:
        """Release clients or threads."""
        ...


def batch_indices(count: int, batch_size: int) -> Iterator[tuple[int, int]]:
    """Yield [start, end) ranges that cover `count` items in batches of at most `batch_size`."""
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    for start in range(0, count, batch_size):
        yield start, min(start + batch_size, count)
