"""The search service's settings, read from the environment."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from embeddings.settings import EmbeddingSettings
from search.proxies import parse_networks
from shared.settings import CommonSettings

IAP_JWKS_URL = "https://www.gstatic.com/iap/verify/public_key-jwk"


class SearchSettings(CommonSettings, EmbeddingSettings):
    """Common and embedding settings, plus how to rank, whom to believe and how much to allow."""

    http_port: int = 8083
    # Search reads PostgreSQL only; the variable is accepted but not needed.
    kafka_bootstrap_servers: str = ""

    # Peers (CIDRs, comma-separated) whose X-Forwarded-Email/-Groups are believed: the
    # authenticating proxy in front (oauth2-proxy). Empty: nobody's.
    search_trusted_proxies: str = ""
    # OIDC bearer tokens (ID tokens): all three, or none.
    search_oidc_issuer: str | None = None
    search_oidc_audience: str | None = None
    search_oidc_jwks_url: str | None = None
    # Google IAP's signed header, checked when the backend service's audience is set.
    search_iap_audience: str | None = None
    search_iap_jwks_url: str = IAP_JWKS_URL
    # deny: a request without a verified identity gets 401. public: it is answered as nobody in
    # particular, seeing only files Drive makes discoverable to anyone.
    search_anonymous: Literal["deny", "public"] = "deny"

    # Searches per caller per minute (0: no limit), and how many may come at once.
    search_rate_limit_per_minute: int = Field(default=120, ge=0)
    search_rate_limit_burst: int = Field(default=30, ge=1)
    # Query embeddings in flight at once per replica; more wait their turn.
    search_max_concurrent_embeds: int = Field(default=4, ge=1)
    # The audit line carries the query's SHA-256; the text itself only when this is true.
    log_queries: bool = False

    # Chunks each ranking (vector, full text) contributes before fusion; also HNSW's ef_search.
    search_candidates: int = Field(default=100, ge=10, le=1000)
    # The k of reciprocal rank fusion: higher flattens the difference between neighbouring ranks.
    search_rrf_k: int = Field(default=60, ge=1)
    # Vector-only hits below this cosine similarity are noise, not answers (tuned for MiniLM,
    # where unrelated texts score about 0-0.15); full-text matches are kept whatever their similarity.
    search_min_similarity: float = Field(default=0.15, ge=-1, le=1)

    @field_validator("search_trusted_proxies")
    @classmethod
    def _networks(cls, value: str) -> str:
        parse_networks(value)
        return value

    @field_validator(
        "search_oidc_issuer", "search_oidc_audience", "search_oidc_jwks_url", "search_iap_audience"
    )
    @classmethod
    def _blank_is_unset(cls, value: str | None) -> str | None:
        return value.strip() or None if value is not None else None

    @model_validator(mode="after")
    def _oidc_is_whole(self) -> SearchSettings:
        names = ("search_oidc_issuer", "search_oidc_audience", "search_oidc_jwks_url")
        given = [name.upper() for name in names if getattr(self, name)]
        if given and len(given) != len(names):
            missing = [name.upper() for name in names if not getattr(self, name)]
            raise ValueError(f"{', '.join(given)} set without {', '.join(missing)}: OIDC needs all three")
        return self

    @property
    def oidc_enabled(self) -> bool:
        return self.search_oidc_issuer is not None
