"""The whole pipeline as processes: Drive emulator, the four services, real PostgreSQL and broker."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from devstack import servers
from devstack.stack import SERVICES, Stack
from tests.e2e.otlp_receiver import OtlpReceiver


@pytest.fixture(scope="package")
def emulator_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = servers.free_port()
    log = tmp_path_factory.mktemp("emulator") / "drive-emulator.log"
    process = servers.start_python("drive_emulator", {}, log, ("--port", str(port)))
    try:
        servers.wait_for_port(port)
        yield f"http://127.0.0.1:{port}"
    finally:
        servers.stop(process)


@pytest.fixture(scope="package")
def otlp() -> Iterator[OtlpReceiver]:
    """Where the services export their spans, as they would to Jaeger."""
    with OtlpReceiver() as receiver:
        yield receiver


@pytest.fixture(scope="package")
def stack_env(
    postgres_dsn: str, kafka_bootstrap: str, emulator_url: str, otlp: OtlpReceiver
) -> dict[str, str]:
    prefix = f"e2e{os.getpid()}."
    return {
        "DATABASE_URL": postgres_dsn,
        "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
        "KAFKA_ENABLE_IDEMPOTENCE": "false",
        "KAFKA_TOPIC_PREFIX": prefix,
        "DRIVE_API_ENDPOINT": f"{emulator_url}/drive/v3/",
        "DIRECTORY_API_ENDPOINT": f"{emulator_url}/admin/directory/v1/",
        # The tests play the authenticating proxy in front of search, from this machine.
        "SEARCH_TRUSTED_PROXIES": "127.0.0.1/32",
        "SEARCH_RATE_LIMIT_PER_MINUTE": "0",  # the permission matrix asks hundreds of questions a minute
        "CONSUMER_BACKOFF_SECONDS": "0.1",
        "LOG_FORMAT": "json",
        "HF_HUB_OFFLINE": "1",
        "OTEL_EXPORTER_OTLP_ENDPOINT": otlp.endpoint,
        "OTEL_BSP_SCHEDULE_DELAY": "200",  # export within a fraction of a second, not every 5 s
    }


def drive_index(env: dict[str, str], *args: str) -> str:
    """Run the operator CLI as a user would and return what it printed."""
    result = subprocess.run(
        [sys.executable, "-m", "shared.cli", *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, f"drive-index {args} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


@pytest.fixture(scope="package")
def stack(stack_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    drive_index(stack_env, "topics")
    ports = {service.name: servers.free_port() for service in SERVICES}
    running = Stack(stack_env, Path(tmp_path_factory.mktemp("logs")), ports)
    try:
        running.start(progress=lambda _: None)
        address = f"{running.url('webhook-gateway')}/webhooks/google-drive"
        drive_index(stack_env, "watch", "start", "--source", "e2e", "--address", address)
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="package")
def cli_env(stack: Stack, stack_env: dict[str, str]) -> dict[str, str]:
    """The operator's environment with an API key for search, made as an operator would."""
    out = drive_index(stack_env, "apikey", "create", "--email", "owner@example.com", "--description", "e2e")
    key = next(line.strip() for line in out.splitlines() if line.strip().startswith("di_"))
    return {**stack_env, "DRIVE_INDEX_API_KEY": key}
