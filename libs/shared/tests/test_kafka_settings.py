"""Kafka and PostgreSQL settings: what the environment says becomes the clients' arguments."""

from __future__ import annotations

import ssl
from typing import Any

import certifi
import pytest

from shared import kafka, topics
from shared.backoff import FOREVER
from shared.settings import CommonSettings, SettingsError, load

BASE = {"DATABASE_URL": "postgresql://db/drive_index", "KAFKA_BOOTSTRAP_SERVERS": "k1:9093,k2:9093"}


def _settings(monkeypatch: pytest.MonkeyPatch, **env: str) -> CommonSettings:
    for name, value in {**BASE, **env}.items():
        monkeypatch.setenv(name, value)
    return load(CommonSettings)


def test_plaintext_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = _settings(monkeypatch)
    assert kafka.client_options(settings) == {
        "bootstrap_servers": "k1:9093,k2:9093",
        "security_protocol": "PLAINTEXT",
    }
    assert settings.topic_layout() == topics.Layout(partitions=4, replication_factor=1, min_insync_replicas=1)
    assert settings.kafka_max_poll_interval_ms == 300_000
    assert settings.database_statement_timeout_ms == 30_000


def test_sasl_ssl_with_scram_and_a_private_ca(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = _settings(
        monkeypatch,
        KAFKA_SECURITY_PROTOCOL="SASL_SSL",
        KAFKA_SASL_MECHANISM="SCRAM-SHA-512",
        KAFKA_SASL_USERNAME="drive-index",
        KAFKA_SASL_PASSWORD="s3cret-pw",
        KAFKA_SSL_CAFILE=certifi.where(),
    )
    options = kafka.client_options(settings)
    context = options.pop("ssl_context")
    assert options == {
        "bootstrap_servers": "k1:9093,k2:9093",
        "security_protocol": "SASL_SSL",
        "sasl_mechanism": "SCRAM-SHA-512",
        "sasl_plain_username": "drive-index",
        "sasl_plain_password": "s3cret-pw",
    }
    assert isinstance(context, ssl.SSLContext)
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.check_hostname
    assert context.cert_store_stats()["x509_ca"] > 0, "the CA file was loaded"
    assert "s3cret-pw" not in repr(settings)


@pytest.mark.parametrize(
    ("env", "tls", "sasl"),
    [
        ({"KAFKA_SECURITY_PROTOCOL": "SSL"}, True, False),
        (
            {
                "KAFKA_SECURITY_PROTOCOL": "SASL_PLAINTEXT",
                "KAFKA_SASL_MECHANISM": "PLAIN",
                "KAFKA_SASL_USERNAME": "u",
                "KAFKA_SASL_PASSWORD": "p",
            },
            False,
            True,
        ),
    ],
)
def test_tls_and_sasl_are_independent(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], tls: bool, sasl: bool
) -> None:
    options = kafka.client_options(_settings(monkeypatch, **env))
    assert ("ssl_context" in options) is tls
    assert ("sasl_mechanism" in options) is sasl


async def test_every_client_is_made_from_the_same_options(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = _settings(
        monkeypatch,
        KAFKA_SECURITY_PROTOCOL="SASL_SSL",
        KAFKA_SASL_MECHANISM="SCRAM-SHA-256",
        KAFKA_SASL_USERNAME="u",
        KAFKA_SASL_PASSWORD="p",
        KAFKA_ENABLE_IDEMPOTENCE="false",
        KAFKA_MAX_POLL_INTERVAL_MS="45000",
    )
    producer = kafka.producer_from(settings)
    consumer = kafka.consumer_from(settings, topics.DOC_FETCHED, "embedder")
    admin = kafka.admin_from(settings)
    # aiokafka keeps these on its connection manager; reading them is the only way to see the wiring.
    clients: list[Any] = [producer.client, consumer._client, admin._client]
    for client in clients:
        assert (client._security_protocol, client._sasl_mechanism) == ("SASL_SSL", "SCRAM-SHA-256")
        assert isinstance(client._ssl_context, ssl.SSLContext)
    assert consumer._max_poll_interval_ms == 45_000
    assert producer._txn_manager is None, "idempotence follows KAFKA_ENABLE_IDEMPOTENCE"
    await consumer.stop()
    await producer.stop()


@pytest.mark.parametrize(
    ("env", "message"),
    [
        (
            {"KAFKA_SECURITY_PROTOCOL": "SASL_SSL", "KAFKA_SASL_MECHANISM": "PLAIN"},
            "KAFKA_SASL_USERNAME, KAFKA_SASL_PASSWORD are not set"
            " (needed with KAFKA_SECURITY_PROTOCOL=SASL_SSL)",
        ),
        (
            {
                "KAFKA_SECURITY_PROTOCOL": "SASL_PLAINTEXT",
                "KAFKA_SASL_USERNAME": "u",
                "KAFKA_SASL_PASSWORD": "p",
            },
            "KAFKA_SASL_MECHANISM is not set",
        ),
        ({"KAFKA_SASL_MECHANISM": "GSSAPI"}, "KAFKA_SASL_MECHANISM is invalid"),
        (
            {"KAFKA_SSL_CAFILE": "/nowhere/ca.pem"},
            "KAFKA_SSL_CAFILE is invalid: Path does not point to a file",
        ),
        ({"KAFKA_SSL_CAFILE": certifi.where()}, "KAFKA_SECURITY_PROTOCOL=PLAINTEXT does not use TLS"),
        (
            {"KAFKA_REPLICATION_FACTOR": "3", "KAFKA_MIN_INSYNC_REPLICAS": "4"},
            "KAFKA_MIN_INSYNC_REPLICAS (4) exceeds KAFKA_REPLICATION_FACTOR (3)",
        ),
        ({"KAFKA_PARTITIONS": "0"}, "KAFKA_PARTITIONS is invalid"),
    ],
)
def test_incomplete_security_or_layout_is_refused_by_name(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], message: str
) -> None:
    with pytest.raises(SettingsError, match=message.replace("(", r"\(").replace(")", r"\)")):
        _settings(monkeypatch, **env)


def test_production_layout_and_patient_consumers(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = _settings(
        monkeypatch,
        KAFKA_REPLICATION_FACTOR="3",
        KAFKA_MIN_INSYNC_REPLICAS="2",
        KAFKA_PARTITIONS="12",
        CONSUMER_BACKOFF_SECONDS="1",
        CONSUMER_MAX_BACKOFF_SECONDS="60",
        CONSUMER_MAX_ATTEMPTS="3",  # no longer read, still accepted
    )
    assert settings.topic_layout() == topics.Layout(12, 3, 2)
    assert settings.topic_layout().topic_configs() == {"min.insync.replicas": "2"}
    backoff = settings.consumer_backoff()
    assert (backoff.max_retries, backoff.base_seconds, backoff.max_seconds) == (FOREVER, 1.0, 60.0)
