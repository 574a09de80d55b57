"""Which embedding model turns text into vectors; read by the embedder and search."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class EmbeddingSettings(BaseSettings):
    """Which embedding model turns text into vectors; shared by the embedder and search."""

    model_config = SettingsConfigDict(case_sensitive=False, extra="ignore")

    embedding_provider: Literal["local", "cohere"] = "local"
    cohere_api_key: str | None = Field(default=None, repr=False)
    cohere_model: str = "embed-v4.0"
    cohere_base_url: str | None = None
    cohere_dimensions: int = 1024

    @model_validator(mode="after")
    def _cohere_needs_a_key(self) -> EmbeddingSettings:
        if self.embedding_provider == "cohere" and not self.cohere_api_key:
            raise ValueError("COHERE_API_KEY is not set (needed with EMBEDDING_PROVIDER=cohere)")
        return self
