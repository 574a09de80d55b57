"""The whole pipeline as processes: Drive emulator, the four services, real PostgreSQL and broker."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from devstack import stack as devstack
from devstack.stack import Stack
from tests.e2e.otlp_receiver import OtlpReceiver


@pytest.fixture(scope="package")
def emulator_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with devstack.emulator(tmp_path_factory.mktemp("emulator") / "drive-emulator.log") as url:
        yield url


@pytest.fixture(scope="package")
def otlp() -> Iterator[OtlpReceiver]:
    """Where the services export their spans, as they would to Jaeger."""
    with OtlpReceiver() as receiver:
        yield receiver


@pytest.fixture(scope="package")
def stack_env(
    postgres_dsn: str, kafka_bootstrap: str, emulator_url: str, otlp: OtlpReceiver
) -> dict[str, str]:
    return devstack.service_env(
        postgres_dsn,
        kafka_bootstrap,
        emulator=emulator_url,
        topic_prefix=f"e2e{os.getpid()}.",
        rate_limit=False,  # the permission matrix asks hundreds of questions a minute
        CONSUMER_BACKOFF_SECONDS="0.1",
        OTEL_EXPORTER_OTLP_ENDPOINT=otlp.endpoint,
        OTEL_BSP_SCHEDULE_DELAY="200",  # export within a fraction of a second, not every 5 s
    )


def drive_index(env: dict[str, str], *args: str) -> str:
    """Run the operator CLI as a user would and return what it printed."""
    result = devstack.cli(env, *args, timeout=120)
    assert result.returncode == 0, f"drive-index {args} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


@pytest.fixture(scope="package")
def stack(stack_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with devstack.running(stack_env, Path(tmp_path_factory.mktemp("logs")), channel="e2e") as running:
        yield running


@pytest.fixture(scope="package")
def cli_env(stack: Stack, stack_env: dict[str, str]) -> dict[str, str]:
    """The operator's environment with an API key for search, made as an operator would."""
    out = drive_index(stack_env, "apikey", "create", "--email", "owner@example.com", "--description", "e2e")
    key = next(line.strip() for line in out.splitlines() if line.strip().startswith("di_"))
    return {**stack_env, "DRIVE_INDEX_API_KEY": key}
