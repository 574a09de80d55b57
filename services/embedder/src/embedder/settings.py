"""The embedder's settings, read from the environment."""

from __future__ import annotations

from pydantic import Field, model_validator

from shared.settings import CommonSettings, EmbeddingSettings


class EmbedderSettings(CommonSettings, EmbeddingSettings):
    """Stores, the embedding provider and how texts are cut into chunks."""

    http_port: int = 8082
    # all-MiniLM-L6-v2 truncates its input at 256 tokens; 200 leaves room for the heading path.
    embedder_chunk_tokens: int = Field(default=200, ge=16)
    # Tokens a chunk repeats from the end of the previous one, so a sentence cut in two is found.
    embedder_chunk_overlap_tokens: int = Field(default=30, ge=0)

    @model_validator(mode="after")
    def _overlap_below_budget(self) -> EmbedderSettings:
        if self.embedder_chunk_overlap_tokens * 2 > self.embedder_chunk_tokens:
            raise ValueError("EMBEDDER_CHUNK_OVERLAP_TOKENS must be at most half of EMBEDDER_CHUNK_TOKENS")
        return self
