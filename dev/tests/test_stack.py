"""The one environment the services get on this machine's servers, whoever starts them."""

from __future__ import annotations

from devstack.stack import service_env


def test_the_services_run_on_the_given_servers_against_the_emulator() -> None:
    env = service_env(
        "postgresql://db", "127.0.0.1:9092", emulator="http://127.0.0.1:9000", topic_prefix="t."
    )

    assert env["DATABASE_URL"] == "postgresql://db"
    assert env["KAFKA_BOOTSTRAP_SERVERS"] == "127.0.0.1:9092"
    assert env["KAFKA_ENABLE_IDEMPOTENCE"] == "false", "Tansu refuses idempotent producers"
    assert env["KAFKA_TOPIC_PREFIX"] == "t."
    assert env["DRIVE_API_ENDPOINT"] == "http://127.0.0.1:9000/drive/v3/"
    assert env["DIRECTORY_API_ENDPOINT"] == "http://127.0.0.1:9000/admin/directory/v1/"
    assert env["SEARCH_TRUSTED_PROXIES"] == "127.0.0.1/32"
    assert "SEARCH_RATE_LIMIT_PER_MINUTE" not in env


def test_what_is_not_given_is_left_to_the_callers_environment() -> None:
    env = service_env("postgresql://db")

    absent = {"KAFKA_BOOTSTRAP_SERVERS", "KAFKA_TOPIC_PREFIX", "DRIVE_API_ENDPOINT", "DIRECTORY_API_ENDPOINT"}
    assert not absent & env.keys()


def test_settings_add_and_override_and_tests_may_search_without_a_rate_limit() -> None:
    env = service_env(
        "postgresql://db", rate_limit=False, SEARCH_TRUSTED_PROXIES="10.0.0.0/8", LOG_LEVEL="DEBUG"
    )

    assert env["SEARCH_RATE_LIMIT_PER_MINUTE"] == "0"
    assert env["SEARCH_TRUSTED_PROXIES"] == "10.0.0.0/8"
    assert env["LOG_LEVEL"] == "DEBUG"
