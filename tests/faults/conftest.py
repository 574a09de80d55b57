"""Fixtures that run the whole pipeline as processes, on servers of the test's own, to break it.

Each test gets its own PostgreSQL server (so it may stop it), Drive emulator and topic prefix; the
Kafka broker is the session's.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from devstack import servers
from devstack.stack import SERVICES, Stack
from drive_emulator.client import EmulatorControl
from shared import db
from tests.e2e.conftest import drive_index
from tests.faults.pipeline import COHERE_API_KEY, Pipeline, Postgres, Report, StartPipeline

ROOT = Path(__file__).resolve().parents[2]
MIGRATIONS = ROOT / "db" / "migrations"
SOURCE = "faults"


@pytest.fixture
def postgres() -> Iterator[Postgres]:
    """A migrated database on a PostgreSQL server only this test uses."""
    # Not under pytest's private tmp folder: as root, the server runs as its own unprivileged user.
    datadir = Path(tempfile.mkdtemp(prefix="drive-index-"))
    datadir.chmod(0o755)
    server = servers.start_postgres_server(datadir)
    try:
        dsn = asyncio.run(servers.create_database(str(server.get_uri()), "drive_index"))
        asyncio.run(db.migrate(dsn, MIGRATIONS))
        yield Postgres(server, dsn)
    finally:
        server.ensure_postgres_running()  # a test that failed mid-outage leaves it stopped
        server.cleanup()
        shutil.rmtree(datadir, ignore_errors=True)


@pytest.fixture
def logs_dir(tmp_path: Path) -> Path:
    path = tmp_path / "logs"
    path.mkdir()
    return path


@pytest.fixture
def emulator(logs_dir: Path) -> Iterator[EmulatorControl]:
    """A Drive emulator process of this test's own."""
    port = servers.free_port()
    process = servers.start_python(
        "drive_emulator", {}, logs_dir / "drive-emulator.log", ("--port", str(port), "--log-level", "WARNING")
    )
    try:
        servers.wait_for_port(port)
        yield EmulatorControl(f"http://127.0.0.1:{port}")
    finally:
        servers.stop(process)


@pytest.fixture
def start_pipeline(
    postgres: Postgres, emulator: EmulatorControl, kafka_bootstrap: str, logs_dir: Path
) -> Iterator[StartPipeline]:
    """Start the four services with extra environment variables; each test may start one."""
    running: list[Stack] = []

    def start(**extra_env: str) -> Pipeline:
        env = {
            "DATABASE_URL": postgres.dsn,
            "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
            "KAFKA_ENABLE_IDEMPOTENCE": "false",
            "KAFKA_TOPIC_PREFIX": f"f{uuid.uuid4().hex[:8]}.",
            "DRIVE_API_ENDPOINT": f"{emulator.base_url}/drive/v3/",
            # The tests play the authenticating proxy in front of search, from this machine, and
            # poll it as one caller far faster than a person searches: no per-caller rate limit.
            "SEARCH_TRUSTED_PROXIES": "127.0.0.1/32",
            "SEARCH_RATE_LIMIT_PER_MINUTE": "0",
            "LOG_FORMAT": "json",
            "HF_HUB_OFFLINE": "1",
            **extra_env,
        }
        drive_index(env, "topics")
        stack = Stack(env, logs_dir, {service.name: servers.free_port() for service in SERVICES})
        running.append(stack)
        stack.start(progress=lambda _: None)
        address = f"{stack.url('webhook-gateway')}/webhooks/google-drive"
        drive_index(env, "watch", "start", "--source", SOURCE, "--address", address)
        return Pipeline(env, stack, emulator, postgres)

    yield start
    for stack in running:
        stack.stop()


@pytest.fixture
def pipeline(start_pipeline: StartPipeline) -> Pipeline:
    """The pipeline with the shipped defaults (local embedding model)."""
    return start_pipeline()


@pytest.fixture
def report(capsys: pytest.CaptureFixture[str], request: pytest.FixtureRequest) -> Report:
    """Print a figure past pytest's capture, so `make test-faults` shows it."""

    def say(line: str) -> None:
        with capsys.disabled():
            print(f"\n  {request.node.name}: {line}", flush=True)

    return say


@pytest.fixture
def cohere_stub(logs_dir: Path) -> Iterator[str]:
    """A Cohere stand-in process accepting COHERE_API_KEY; yields its base URL."""
    port = servers.free_port()
    args = ("--port", str(port), "--api-key", COHERE_API_KEY)
    process = servers.start_python("cohere_stub", {}, logs_dir / "cohere-stub.log", args)
    try:
        servers.wait_for_port(port)
        yield f"http://127.0.0.1:{port}"
    finally:
        servers.stop(process)
