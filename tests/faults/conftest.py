"""Fixtures that run the whole pipeline as processes, on servers of the test's own, to break it.

Each test gets its own PostgreSQL server (so it may stop it), Drive emulator and topic prefix; the
Kafka broker is the session's.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

from devstack import stack
from drive_emulator.client import EmulatorControl
from tests.faults.pipeline import COHERE_API_KEY, Pipeline, Postgres, Report, StartPipeline

SOURCE = "faults"


@pytest.fixture
def postgres() -> Iterator[Postgres]:
    """A migrated database on a PostgreSQL server only this test uses."""
    with stack.postgres() as server:
        try:
            dsn, _ = stack.database(str(server.get_uri()), "drive_index")
            yield Postgres(server, dsn)
        finally:
            server.ensure_postgres_running()  # a test that failed mid-outage leaves it stopped


@pytest.fixture
def logs_dir(tmp_path: Path) -> Path:
    path = tmp_path / "logs"
    path.mkdir()
    return path


@pytest.fixture
def emulator(logs_dir: Path) -> Iterator[EmulatorControl]:
    """A Drive emulator process of this test's own."""
    with stack.emulator(logs_dir / "drive-emulator.log", "--log-level", "WARNING") as url:
        yield EmulatorControl(url)


@pytest.fixture
def start_pipeline(
    postgres: Postgres, emulator: EmulatorControl, kafka_bootstrap: str, logs_dir: Path
) -> Iterator[StartPipeline]:
    """Start the four services with extra environment variables; each test may start one."""
    with ExitStack() as running:

        def start(**extra_env: str) -> Pipeline:
            env = stack.service_env(
                postgres.dsn,
                kafka_bootstrap,
                emulator=emulator.base_url,
                topic_prefix=f"f{uuid.uuid4().hex[:8]}.",
                # The tests poll search as one caller far faster than a person searches.
                rate_limit=False,
                **extra_env,
            )
            services = running.enter_context(stack.running(env, logs_dir, channel=SOURCE))
            return Pipeline(env, services, emulator, postgres)

        yield start


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
    with stack.serve("cohere_stub", logs_dir / "cohere-stub.log", "--api-key", COHERE_API_KEY) as url:
        yield url
