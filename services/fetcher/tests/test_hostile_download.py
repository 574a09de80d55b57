"""Downloads stop at the size cap, whatever size Drive announced, and the file is skipped as too large.

A small Drive stand-in serves one file's media three ways: honouring Range requests, ignoring them,
and honouring them while lying about the total size. The real Drive client talks to it.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from drive.client import DriveClient, DriveFileTooLarge, DriveSettings
from drive.models import DriveFile
from drive_emulator import EmulatorControl
from fetcher.files import FileFetcher, Limits
from shared import mime
from shared.events import FetchAction

MIB = 1024 * 1024
CONTENT = b"0123456789abcdef" * (3 * MIB // 16)  # 3 MB of text
RANGE = re.compile(r"bytes=(\d+)-(\d+)")


class MediaServer:
    """Serve CONTENT as every file's media, the way `mode` says; count the bytes sent."""

    def __init__(self, mode: str) -> None:
        self.mode = mode
        self.sent = 0

    async def media(self, request: web.Request) -> web.Response:
        wanted = RANGE.fullmatch(request.headers.get("Range", ""))
        if self.mode == "ignores-range" or wanted is None:
            self.sent += len(CONTENT)
            return web.Response(body=CONTENT)
        start, end = int(wanted[1]), min(int(wanted[2]), len(CONTENT) - 1)
        body = CONTENT[start : end + 1]
        total = 100 if self.mode == "lies-about-size" else len(CONTENT)
        self.sent += len(body)
        return web.Response(status=206, body=body, headers={"Content-Range": f"bytes {start}-{end}/{total}"})


@pytest.fixture(params=["honours-range", "ignores-range", "lies-about-size"])
async def media(request: pytest.FixtureRequest) -> AsyncIterator[tuple[MediaServer, DriveClient]]:
    server = MediaServer(request.param)
    app = web.Application()
    app.router.add_get("/drive/v3/files/{file_id}", server.media)
    async with TestServer(app) as test_server:
        endpoint = str(test_server.make_url("/drive/v3/"))
        settings = DriveSettings(drive_api_endpoint=endpoint, drive_max_retries=0)
        async with DriveClient.from_settings(settings) as client:
            yield server, client


async def test_a_file_under_the_cap_arrives_whole(media: tuple[MediaServer, DriveClient]) -> None:
    server, client = media
    if server.mode == "lies-about-size":
        pytest.skip("a server that lies about the size cannot serve a whole file")
    assert await client.download("f", max_bytes=len(CONTENT)) == CONTENT
    assert await client.download("f") == CONTENT


async def test_a_file_over_the_cap_is_refused_past_the_cap(media: tuple[MediaServer, DriveClient]) -> None:
    server, client = media
    with pytest.raises(DriveFileTooLarge) as refused:
        await client.download("f", max_bytes=MIB)
    assert refused.value.limit == MIB
    assert not refused.value.retriable
    if server.mode == "honours-range":  # only then can the client stop Drive sending
        assert server.sent == MIB + 1
        assert refused.value.size == len(CONTENT)
    if server.mode == "lies-about-size":
        assert refused.value.size is None


async def test_the_fetcher_skips_a_file_whose_download_passes_the_cap(
    media: tuple[MediaServer, DriveClient],
) -> None:
    _, client = media
    # No text is stored for a skipped file: the store is never called.
    fetcher = FileFetcher("source", client, store=None, limits=Limits(max_file_bytes=MIB))  # type: ignore[arg-type]
    # Drive's metadata says 100 bytes: the check before the download lets the file through.
    file = DriveFile(id="f", name="dump.txt", mime_type=mime.PLAIN_TEXT, version=3, size=100)
    event = (await fetcher.fetch(file)).event
    assert event.action == FetchAction.SKIPPED
    assert event.reason in (
        "too large: 3 MB exceeds the 1 MB limit",  # Drive said how large the file really is
        "too large: the download exceeds the 1 MB limit",  # it did not, or lied
    )


async def test_the_emulator_download_is_capped_too(
    drive_client: DriveClient, drive_control: EmulatorControl
) -> None:
    file = drive_control.upload("dump.txt", mime.PLAIN_TEXT, CONTENT)
    with pytest.raises(DriveFileTooLarge, match="over the download cap of 1,048,576 bytes"):
        await drive_client.download(file["id"], max_bytes=MIB)
    assert await drive_client.download(file["id"], max_bytes=len(CONTENT)) == CONTENT
