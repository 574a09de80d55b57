"""Push delivery like Google's: retried on 5xx, dropped on 4xx, none to expired channels."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Iterator

import pytest
from aiohttp import web

from drive.client import DriveClient, DriveSettings
from drive_emulator import EmulatorControl, EmulatorServer


class FlakyReceiver:
    """A webhook that answers the statuses it is told to, then 200; it records every attempt."""

    def __init__(self, statuses: list[int]) -> None:
        self.statuses = statuses
        self.attempts: list[tuple[str, str, int]] = []  # channel, message number, status answered
        self.url = ""

    async def handle(self, request: web.Request) -> web.Response:
        status = self.statuses.pop(0) if self.statuses else 200
        channel = request.headers["X-Goog-Channel-ID"]
        self.attempts.append((channel, request.headers["X-Goog-Message-Number"], status))
        return web.Response(status=status)

    def answered_ok(self, channel: str) -> list[str]:
        return [number for c, number, status in self.attempts if c == channel and status == 200]


async def wait_until(condition: Callable[[], bool], within: float = 10.0) -> None:
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)


@pytest.fixture
def emulator() -> Iterator[EmulatorServer]:
    with EmulatorServer(notify_backoff_seconds=0.02) as server:
        yield server


@pytest.fixture
async def client(emulator: EmulatorServer) -> AsyncIterator[DriveClient]:
    settings = DriveSettings(drive_api_endpoint=emulator.api_endpoint, drive_backoff_seconds=0.01)
    async with DriveClient.from_settings(settings) as drive:
        yield drive


async def serve(receiver: FlakyReceiver) -> web.AppRunner:
    app = web.Application()
    app.router.add_post("/hook", receiver.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    receiver.url = f"http://127.0.0.1:{runner.addresses[0][1]}/hook"
    return runner


async def test_server_errors_are_retried_and_client_errors_dropped(
    client: DriveClient, emulator: EmulatorServer
) -> None:
    receiver = FlakyReceiver([503, 500, 200, 404])
    runner = await serve(receiver)
    control = EmulatorControl(emulator.url)
    try:
        await client.watch_changes(await client.get_start_page_token(), "ch", receiver.url, "t")
        await wait_until(lambda: receiver.answered_ok("ch") == ["1"])
        control.upload("a.txt", "text/plain", b"x")  # message 2 meets the 404: dropped, not retried
        control.upload("b.txt", "text/plain", b"y")
        await wait_until(lambda: receiver.answered_ok("ch") == ["1", "3"])
    finally:
        await runner.cleanup()

    assert [(n, s) for _, n, s in receiver.attempts] == [
        ("1", 503),
        ("1", 500),
        ("1", 200),
        ("2", 404),
        ("3", 200),
    ]
    channel = control.channels()[0]
    assert (channel["delivered"], channel["failed"]) == (2, 1)


async def test_expired_channel_gets_no_changes(client: DriveClient, emulator: EmulatorServer) -> None:
    receiver = FlakyReceiver([])
    runner = await serve(receiver)
    control = EmulatorControl(emulator.url)
    token = await client.get_start_page_token()
    try:
        short = await client.watch_changes(token, "short", receiver.url, "t", int(time.time() * 1000) + 300)
        await wait_until(lambda: receiver.answered_ok("short") == ["1"])
        await wait_until(lambda: short.expiration is not None and time.time() > short.expiration.timestamp())
        await client.watch_changes(token, "long", receiver.url, "t")
        control.upload("a.txt", "text/plain", b"x")
        await wait_until(lambda: receiver.answered_ok("long") == ["1", "2"])
    finally:
        await runner.cleanup()

    assert receiver.answered_ok("short") == ["1"]
    assert [c["expired"] for c in control.channels()] == [True, False]
