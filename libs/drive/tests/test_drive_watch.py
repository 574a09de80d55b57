"""changes.watch and channels.stop through DriveClient; push notifications as Google sends them."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from aiohttp import web

from drive.client import DriveClient, DriveNotFound
from drive_emulator import EmulatorControl, EmulatorServer
from shared import mime


class Receiver:
    """A webhook endpoint on port 0 that records each notification's headers and body."""

    def __init__(self) -> None:
        self.received: list[tuple[dict[str, str], bytes]] = []
        self.url = ""
        self._runner: web.AppRunner | None = None

    async def handle(self, request: web.Request) -> web.Response:
        self.received.append((dict(request.headers), await request.read()))
        return web.Response(status=200)

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/webhooks/google-drive", self.handle)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}/webhooks/google-drive"

    async def stop(self) -> None:
        if self._runner:
            await self._runner.cleanup()

    async def wait_for(self, count: int, within: float = 10.0) -> list[dict[str, str]]:
        deadline = time.monotonic() + within
        while len(self.received) < count:
            assert time.monotonic() < deadline, f"got {len(self.received)} of {count} notifications"
            await asyncio.sleep(0.02)
        return [headers for headers, _ in self.received]


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    endpoint = Receiver()
    await endpoint.start()
    yield endpoint
    await endpoint.stop()


async def test_watch_sends_sync_then_numbered_changes(
    drive_client: DriveClient, drive_server: EmulatorServer, receiver: Receiver
) -> None:
    control = EmulatorControl(drive_server.url)
    channel_id = str(uuid.uuid4())
    expiration_ms = int(time.time() * 1000) + 600_000
    start = await drive_client.get_start_page_token()

    channel = await drive_client.watch_changes(start, channel_id, receiver.url, "secret-token", expiration_ms)
    sync = (await receiver.wait_for(1))[0]
    file_id = control.create_doc("Notes", "# Notes\n")["id"]
    control.update_file(file_id, content="# Notes\n\nmore")
    control.update_file(file_id, name="Meeting notes")
    headers = await receiver.wait_for(4)

    assert channel.id == channel_id
    assert channel.expiration == datetime.fromtimestamp(expiration_ms / 1000, UTC)
    assert channel.resource_id
    assert sync["X-Goog-Resource-State"] == "sync"
    assert [h["X-Goog-Resource-State"] for h in headers[1:]] == ["change"] * 3
    assert [int(h["X-Goog-Message-Number"]) for h in headers] == [1, 2, 3, 4]
    assert [h["X-Goog-Changed"] for h in headers[1:]] == ["content", "content", "properties"]
    for h in headers:
        assert h["X-Goog-Channel-ID"] == channel_id
        assert h["X-Goog-Channel-Token"] == "secret-token"
        assert h["X-Goog-Resource-ID"] == channel.resource_id
        assert h["X-Goog-Resource-URI"] == channel.resource_uri
        assert h["X-Goog-Channel-Expiration"].endswith(" GMT")
    assert all(body == b"" for _, body in receiver.received)
    page = await drive_client.list_changes(start)
    assert [c.file.name for c in page.changes if c.file] == ["Meeting notes"]
    assert len(page.changes) == 1


async def test_stopped_channel_gets_nothing_and_cannot_be_stopped_twice(
    drive_client: DriveClient, drive_server: EmulatorServer, receiver: Receiver
) -> None:
    control = EmulatorControl(drive_server.url)
    start = await drive_client.get_start_page_token()
    watched = await drive_client.watch_changes(start, "stop-me", receiver.url, "t")
    kept = await drive_client.watch_changes(start, "keep-me", receiver.url, "t")
    await receiver.wait_for(2)

    await drive_client.stop_channel("stop-me", watched.resource_id or "")
    control.upload("a.txt", mime.PLAIN_TEXT, b"x")
    control.upload("b.txt", mime.PLAIN_TEXT, b"y")
    headers = await receiver.wait_for(4)

    channels = [(h["X-Goog-Channel-ID"], h["X-Goog-Resource-State"]) for h in headers]
    assert sorted(channels[:2]) == [("keep-me", "sync"), ("stop-me", "sync")]
    assert channels[2:] == [("keep-me", "change"), ("keep-me", "change")]
    assert [c["id"] for c in control.channels()] == ["keep-me"]
    assert control.channels()[0]["resource_id"] == kept.resource_id
    with pytest.raises(DriveNotFound):
        await drive_client.stop_channel("stop-me", watched.resource_id or "")
