"""Embedding providers behind one interface; the wiring picks one from EMBEDDING_PROVIDER."""

from shared.embeddings.base import Embedder, batch_indices

__all__ = ["Embedder", "batch_indices"]
