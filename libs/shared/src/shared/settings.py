"""Settings read from the environment, once, with errors that name the variable to fix."""

from __future__ import annotations

from typing import Literal, TypeVar

from pydantic import Field, FilePath, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.backoff import CONSUME_LOOP, FOREVER, Backoff
from shared.topics import DEV_LAYOUT, Layout


class SettingsError(RuntimeError):
    """The environment is missing a setting or holds an invalid one."""


class CommonSettings(BaseSettings):
    """What every service needs: its stores, its port and its telemetry."""

    model_config = SettingsConfigDict(case_sensitive=False, extra="ignore")

    # TLS: sslmode (and sslrootcert) in the DSN, or PGSSLMODE / PGSSLROOTCERT; asyncpg reads both.
    database_url: str = Field(description="PostgreSQL DSN")
    # Every statement of a service's pool is cancelled by the server after this long (0: never).
    database_statement_timeout_ms: int = Field(default=30_000, ge=0)
    kafka_bootstrap_servers: str = Field(description="comma-separated Kafka brokers")
    # Apache Kafka supports idempotent producers; Tansu refuses InitProducerId, so dev turns it off.
    kafka_enable_idempotence: bool = True
    kafka_topic_prefix: str = ""
    kafka_security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    kafka_sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] | None = None
    kafka_sasl_username: str | None = None
    kafka_sasl_password: str | None = Field(default=None, repr=False)
    # Unset with SSL/SASL_SSL: the system's CA certificates.
    kafka_ssl_cafile: FilePath | None = None
    # How `drive-index topics` creates topics; existing topics are reported, never changed.
    kafka_partitions: int = Field(default=DEV_LAYOUT.partitions, ge=1)
    kafka_replication_factor: int = Field(default=DEV_LAYOUT.replication_factor, ge=1)
    kafka_min_insync_replicas: int = Field(default=DEV_LAYOUT.min_insync_replicas, ge=1)
    # A consumer that does not poll for this long leaves its group. The consume loop keeps
    # polling (partitions paused) while a handler runs, so this only catches a stuck event loop.
    kafka_max_poll_interval_ms: int = Field(default=300_000, ge=1_000)
    http_port: int = 8080
    log_level: str = "INFO"
    log_format: Literal["auto", "json", "console"] = "auto"
    # Unset: each service names itself (webhook-gateway, fetcher, embedder, search).
    otel_service_name: str | None = None
    otel_exporter_otlp_endpoint: str | None = None
    # A retriable handler failure is retried for as long as it lasts, with full jitter up to a
    # cap that doubles from the first to the longest pause. (CONSUMER_MAX_ATTEMPTS is no longer
    # read: only bad messages go to the dead-letter topic, outages never do.)
    consumer_backoff_seconds: float = Field(default=CONSUME_LOOP.base_seconds, gt=0)
    consumer_max_backoff_seconds: float = Field(default=CONSUME_LOOP.max_seconds, gt=0)

    @model_validator(mode="after")
    def _kafka_security_is_complete(self) -> CommonSettings:
        protocol = self.kafka_security_protocol
        if protocol.startswith("SASL_"):
            missing = [
                name
                for name, value in (
                    ("KAFKA_SASL_MECHANISM", self.kafka_sasl_mechanism),
                    ("KAFKA_SASL_USERNAME", self.kafka_sasl_username),
                    ("KAFKA_SASL_PASSWORD", self.kafka_sasl_password),
                )
                if not value
            ]
            if missing:
                verb = "is" if len(missing) == 1 else "are"
                raise ValueError(
                    f"{', '.join(missing)} {verb} not set (needed with KAFKA_SECURITY_PROTOCOL={protocol})"
                )
        if self.kafka_ssl_cafile and not protocol.endswith("SSL"):
            raise ValueError(
                f"KAFKA_SSL_CAFILE is set but KAFKA_SECURITY_PROTOCOL={protocol} does not use TLS"
            )
        return self

    @model_validator(mode="after")
    def _min_insync_fits_the_replicas(self) -> CommonSettings:
        if self.kafka_min_insync_replicas > self.kafka_replication_factor:
            raise ValueError(
                f"KAFKA_MIN_INSYNC_REPLICAS ({self.kafka_min_insync_replicas}) exceeds"
                f" KAFKA_REPLICATION_FACTOR ({self.kafka_replication_factor}): no write could succeed"
            )
        return self

    def consumer_backoff(self) -> Backoff:
        """How the consume loop waits between tries of a message whose handler failed."""
        return Backoff(FOREVER, self.consumer_backoff_seconds, self.consumer_max_backoff_seconds)

    def topic_layout(self) -> Layout:
        """How `drive-index topics` lays out new topics."""
        return Layout(self.kafka_partitions, self.kafka_replication_factor, self.kafka_min_insync_replicas)


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


def names(value: str) -> frozenset[str]:
    """Split a comma-separated setting into its non-empty, trimmed parts."""
    return frozenset(part.strip() for part in value.split(",") if part.strip())
