"""Run the emulator in a background thread on port 0, for tests and local tools.

A thread (not the caller's event loop) serves it, so synchronous `EmulatorControl` calls and the
Google client's blocking calls work from async tests without deadlocking.
"""

from __future__ import annotations

import asyncio
import threading
from types import TracebackType
from typing import Any, Self

from aiohttp import web

from drive_emulator.app import create_app

START_TIMEOUT_SECONDS = 10.0


class EmulatorServer:
    """The emulator on 127.0.0.1 in a thread of its own; `url` is its base address."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, **app_options: Any) -> None:
        self._host = host
        self._port = port
        self._app_options = app_options
        self._ready = threading.Event()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping: asyncio.Event | None = None
        self._error: BaseException | None = None
        self.url = ""

    @property
    def api_endpoint(self) -> str:
        """The value for DRIVE_API_ENDPOINT."""
        return f"{self.url}/drive/v3/"

    @property
    def directory_endpoint(self) -> str:
        """The value for DIRECTORY_API_ENDPOINT."""
        return f"{self.url}/admin/directory/v1/"

    def start(self) -> str:
        """Start serving; return the base URL."""
        self._thread = threading.Thread(target=asyncio.run, args=(self._serve(),), daemon=True)
        self._thread.start()
        if not self._ready.wait(START_TIMEOUT_SECONDS) or self._error:
            raise RuntimeError("the Drive emulator did not start") from self._error
        return self.url

    def stop(self) -> None:
        """Stop serving and wait for the thread to end."""
        if self._loop and self._stopping:
            self._loop.call_soon_threadsafe(self._stopping.set)
        if self._thread:
            self._thread.join(START_TIMEOUT_SECONDS)

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stopping = asyncio.Event()
        runner = web.AppRunner(create_app(**self._app_options), handle_signals=False, access_log=None)
        try:
            await runner.setup()
            site = web.TCPSite(runner, self._host, self._port)
            await site.start()
            port = runner.addresses[0][1]
            self.url = f"http://{self._host}:{port}"
        except OSError as exc:  # e.g. the port is taken: report it to start(), not as a thread crash
            self._error = exc
            await runner.cleanup()
            return
        finally:
            self._ready.set()
        try:
            await self._stopping.wait()
        finally:
            await runner.cleanup()

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()

    async def __aenter__(self) -> Self:
        await asyncio.to_thread(self.start)
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await asyncio.to_thread(self.stop)
