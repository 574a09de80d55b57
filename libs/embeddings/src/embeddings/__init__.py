"""Embedding providers behind one interface; the wiring picks one from EMBEDDING_PROVIDER."""

from embeddings.base import DEFAULT_TIMEOUT_SECONDS, Embedder, Vector, batch_indices
from embeddings.hashing import HashingEmbedder, hashed_bag_of_words
from embeddings.settings import EmbeddingSettings
from shared.settings import SettingsError

__all__ = [
    "DEFAULT_TIMEOUT_SECONDS",
    "Embedder",
    "HashingEmbedder",
    "Vector",
    "batch_indices",
    "from_settings",
    "hashed_bag_of_words",
]


def from_settings(
    settings: EmbeddingSettings, *, timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS
) -> Embedder:
    """Build the configured provider; the local model loads here (seconds: call it off the loop).

    `timeout_seconds` bounds each embedding call: one Cohere request, one local forward pass.
    """
    if settings.embedding_provider == "cohere":
        if not settings.cohere_api_key:
            raise SettingsError("COHERE_API_KEY is not set (needed with EMBEDDING_PROVIDER=cohere)")
        # Imported here so each deployment needs only its own provider's packages.
        from embeddings.cohere import CohereEmbedder

        return CohereEmbedder(
            settings.cohere_api_key,
            model=settings.cohere_model,
            dimensions=settings.cohere_dimensions,
            base_url=settings.cohere_base_url,
            timeout_seconds=timeout_seconds,
        )
    from embeddings.local import LocalEmbedder

    return LocalEmbedder.load(timeout_seconds=timeout_seconds)
