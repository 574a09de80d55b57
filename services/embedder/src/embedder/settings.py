"""The embedder's settings, read from the environment."""

from __future__ import annotations

from pydantic import Field, model_validator

from embeddings import DEFAULT_TIMEOUT_SECONDS
from embeddings.settings import EmbeddingSettings
from shared.settings import CommonSettings


class EmbedderSettings(CommonSettings, EmbeddingSettings):
    """Stores, the embedding provider and how texts are cut into chunks."""

    http_port: int = 8082
    # all-MiniLM-L6-v2 truncates its input at 256 tokens; 200 leaves room for the heading path.
    embedder_chunk_tokens: int = Field(default=200, ge=16)
    # Tokens a chunk repeats from the end of the previous one, so a sentence cut in two is found.
    embedder_chunk_overlap_tokens: int = Field(default=30, ge=0)
    # Chunks kept of one file; the rest of its text is not searchable, and the file says so.
    embedder_max_chunks_per_file: int = Field(default=2000, ge=1)
    # Chunks per embedding call and per write (at most the provider's own batch limit): what
    # a file costs in memory at once, however large it is.
    embedder_batch_size: int = Field(default=64, ge=1)
    # Longest one embedding call may take: one Cohere request, or one local forward pass.
    embedder_embed_timeout_seconds: float = Field(default=DEFAULT_TIMEOUT_SECONDS, gt=0)
    # Claim-checked texts are read within seconds of being stored; those older than this are
    # deleted hourly. Keep it above the longest outage a message may wait out in the topic.
    embedder_fetched_text_days: float = Field(default=7, gt=0)

    @model_validator(mode="after")
    def _overlap_below_budget(self) -> EmbedderSettings:
        if self.embedder_chunk_overlap_tokens * 2 > self.embedder_chunk_tokens:
            raise ValueError("EMBEDDER_CHUNK_OVERLAP_TOKENS must be at most half of EMBEDDER_CHUNK_TOKENS")
        return self
