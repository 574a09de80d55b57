"""The four services as local processes, started in pipeline order and stopped in reverse."""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from devstack import servers


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

# The embedder and search load the embedding model before they report ready.
READY_TIMEOUT_SECONDS = 180.0


@dataclass
class Stack:
    """Run every service with `env` added to this process's environment; logs go to `log_dir`."""

    env: Mapping[str, str]
    log_dir: Path
    ports: dict[str, int] = field(default_factory=lambda: {s.name: s.port for s in SERVICES})
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.ports[name]}"

    def start(self, progress: Callable[[str], None] = print) -> None:
        """Start the services (consumers before producers) and wait until each is ready."""
        self.log_dir.mkdir(parents=True, exist_ok=True)
        for service in SERVICES:
            env = {**self.env, "HTTP_PORT": str(self.ports[service.name]), "OTEL_SERVICE_NAME": service.name}
            log_path = self.log_dir / f"{service.name}.log"
            self.processes[service.name] = servers.start_python(service.package, env, log_path)
        for service in SERVICES:
            try:
                servers.wait_until_ready(
                    f"{self.url(service.name)}/readyz", self.processes[service.name], READY_TIMEOUT_SECONDS
                )
            except (RuntimeError, TimeoutError) as exc:
                tail = self.log_tail(service.name)
                raise RuntimeError(f"{service.name} did not start: {exc}\n--- its log ---\n{tail}") from None
            progress(f"{service.name} ready on {self.url(service.name)}")

    def stop(self) -> None:
        """Stop producers first so nothing is half-handed to a stopped consumer."""
        for service in reversed(SERVICES):
            process = self.processes.pop(service.name, None)
            if process is not None:
                servers.stop(process)

    def log_tail(self, name: str, lines: int = 40) -> str:
        path = self.log_dir / f"{name}.log"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""
