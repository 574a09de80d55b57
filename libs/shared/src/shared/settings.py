"""Settings read from the environment, once, with errors that name the variable to fix."""

from __future__ import annotations

from typing import Literal, TypeVar

from pydantic import Field, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class SettingsError(RuntimeError):
    """The environment is missing a setting or holds an invalid one."""


class CommonSettings(BaseSettings):
    """What every service needs: its stores, its port and its telemetry."""

    model_config = SettingsConfigDict(case_sensitive=False, extra="ignore")

    database_url: str = Field(description="PostgreSQL DSN")
    kafka_bootstrap_servers: str = Field(description="comma-separated Kafka brokers")
    # Apache Kafka supports idempotent producers; Tansu refuses InitProducerId, so dev turns it off.
    kafka_enable_idempotence: bool = True
    kafka_topic_prefix: str = ""
    http_port: int = 8080
    log_level: str = "INFO"
    log_format: Literal["auto", "json", "console"] = "auto"
    # Unset: each service names itself (webhook-gateway, fetcher, embedder, search).
    otel_service_name: str | None = None
    otel_exporter_otlp_endpoint: str | None = None
    # Attempts of a retriable handler failure before the message goes to the dead-letter topic:
    # with the default backoff (doubling from 0.5 s, capped at 30 s), about a minute of outage.
    consumer_max_attempts: int = Field(default=8, ge=1)
    consumer_backoff_seconds: float = Field(default=0.5, gt=0)


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


S = TypeVar("S", bound=BaseSettings)


def load(settings_class: type[S], **overrides: object) -> S:
    """Build settings from the environment, turning validation errors into one readable message."""
    try:
        return settings_class(**overrides)  # type: ignore[arg-type]  # pydantic-settings fills the rest
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            name = "_".join(str(part) for part in error["loc"]).upper()
            if not name:  # a check across settings: its message names the variables
                problems.append(str(error["msg"]).removeprefix("Value error, "))
            elif error["type"] == "missing":
                problems.append(f"{name} is not set")
            else:
                problems.append(f"{name} is invalid: {error['msg']}")
        raise SettingsError("; ".join(problems) + " (see .env.example for every setting)") from None
