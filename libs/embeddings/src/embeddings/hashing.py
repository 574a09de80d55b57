"""A deterministic, dependency-free embedder: hashed bag of words.

It has no notion of meaning, only of shared words, which is exactly what tests and stand-ins need:
texts that share words land close together, the same text always gives the same vector, and no
model has to be loaded.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence

import numpy as np

from embeddings.base import Vector

_WORD = re.compile(r"\w+")


def hashed_bag_of_words(text: str, dimensions: int) -> Vector:
    """Embed `text` as the unit-length sum of one signed hashed slot per lower-cased word."""
    vector = np.zeros(dimensions, dtype=np.float32)
    for word in _WORD.findall(text.lower()):
        digest = hashlib.blake2b(word.encode(), digest_size=8).digest()
        slot = int.from_bytes(digest[:4], "little") % dimensions
        vector[slot] += 1.0 if digest[4] & 1 else -1.0
    norm = float(np.linalg.norm(vector))
    if norm == 0.0:
        # A zero vector has no cosine distance to anything; give wordless text a fixed direction.
        vector[0] = 1.0
        return vector
    return vector / np.float32(norm)


class HashingEmbedder:
    """The Embedder port without a model: for tests and for stand-ins of real providers."""

    def __init__(
        self, model_name: str = "hashed-bag-of-words", dimensions: int = 384, max_batch_size: int = 64
    ):
        self.model_name = model_name
        self.dimensions = dimensions
        self.max_batch_size = max_batch_size
        self.documents_embedded = 0

    def count_tokens(self, text: str) -> int:
        return len(text.split())

    async def embed_documents(self, texts: Sequence[str]) -> list[Vector]:
        if len(texts) > self.max_batch_size:
            raise ValueError(f"{len(texts)} texts exceed the batch limit of {self.max_batch_size}")
        self.documents_embedded += len(texts)
        return [hashed_bag_of_words(text, self.dimensions) for text in texts]

    async def embed_query(self, text: str) -> Vector:
        return hashed_bag_of_words(text, self.dimensions)

    async def close(self) -> None:
        return None
