"""The search service's settings, read from the environment."""

from __future__ import annotations

from pydantic import Field

from shared.settings import CommonSettings, EmbeddingSettings


class SearchSettings(CommonSettings, EmbeddingSettings):
    """Common and embedding settings, plus how to rank and whom to trust."""

    http_port: int = 8083
    # Search reads PostgreSQL only; the variable is accepted but not needed.
    kafka_bootstrap_servers: str = ""
    # Honour X-Forwarded-Email/-Groups only behind a proxy that sets them (oauth2-proxy, IAP);
    # when false every caller sees every indexed document.
    search_trust_forwarded_identity: bool = False
    # Chunks each ranking (vector, full text) contributes before fusion; also HNSW's ef_search.
    search_candidates: int = Field(default=100, ge=10, le=1000)
    # The k of reciprocal rank fusion: higher flattens the difference between neighbouring ranks.
    search_rrf_k: int = Field(default=60, ge=1)
    # Vector-only hits below this cosine similarity are noise, not answers (tuned for MiniLM,
    # where unrelated texts score about 0-0.15); full-text matches are kept whatever their similarity.
    search_min_similarity: float = Field(default=0.15, ge=-1, le=1)
