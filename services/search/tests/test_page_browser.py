"""The search page in a real headless browser, behind a proxy path as in production.

A small aiohttp proxy stands in for oauth2-proxy: it serves the service under /drive-search/ and
adds the signed-in user's identity headers (or none), as the real one does after sign-in.
"""

from __future__ import annotations

import asyncio
import shutil
import urllib.parse
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium (apt-get install chromium)")
PREFIX = "/drive-search/"
KEPT_HEADERS = ("content-type", "retry-after")


@asynccontextmanager
async def signing_proxy(upstream: str, email: str | None) -> AsyncIterator[str]:
    """Serve `upstream` under PREFIX, naming the caller as `email`; yield the page's address."""
    async with aiohttp.ClientSession() as session:

        async def forward(request: web.Request) -> web.Response:
            headers = {"Accept": request.headers.get("Accept", "*/*")}
            if email:
                headers["X-Forwarded-Email"] = email
            path = "/" + request.match_info["tail"]
            async with session.get(upstream + path, params=request.query, headers=headers) as answer:
                body = await answer.read()
                kept = {k: v for k, v in answer.headers.items() if k.lower() in KEPT_HEADERS}
                return web.Response(body=body, status=answer.status, headers=kept)

        app = web.Application()
        app.router.add_get(PREFIX + "{tail:.*}", forward)
        server = TestServer(app, host="127.0.0.1")
        await server.start_server()
        try:
            yield str(server.make_url(PREFIX))
        finally:
            await server.close()


async def rendered(url: str, tmp_path, **params: str) -> str:
    """Open the page with `params` in its address and return the DOM once its scripts have run."""
    process = await asyncio.create_subprocess_exec(
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-background-networking",
        "--disable-gpu",
        "--no-first-run",
        f"--user-data-dir={tmp_path / 'profile'}",
        "--virtual-time-budget=10000",
        "--dump-dom",
        url + ("?" + urllib.parse.urlencode(params) if params else ""),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    out, _ = await asyncio.wait_for(process.communicate(), 60)
    return out.decode()


@pytest.fixture
def upstream(client) -> Callable[[], str]:  # type: ignore[no-untyped-def]
    return lambda: str(client.make_url("")).rstrip("/")


async def test_the_page_shows_who_you_are_and_your_results(upstream, corpus, tmp_path) -> None:
    file_id = await corpus.add("kafka-guide", [("Consumers", "Kafka consumers commit offsets after work.")])
    async with signing_proxy(upstream(), "tester@example.com") as page:
        dom = await rendered(page, tmp_path, q="kafka offsets")
    assert "Signed in as tester@example.com (sign-in proxy)" in dom
    assert f'href="https://docs.google.com/document/d/{file_id}/edit"' in dom
    assert ">Kafka Guide</a>" in dom
    assert "<mark>Kafka</mark>" in dom
    assert "<mark>offsets</mark>" in dom
    assert "1 result in" in dom


async def test_the_page_shows_the_services_error(upstream, tmp_path) -> None:
    async with signing_proxy(upstream(), "tester@example.com") as page:
        dom = await rendered(page, tmp_path, q="x", modified_after="2024-02-01", modified_before="2024-01-01")
    assert 'class="error"' in dom
    assert "Search failed — invalid query: modified_after must be earlier than modified_before" in dom


async def test_signed_out_the_page_says_how_to_sign_in(upstream, corpus, tmp_path) -> None:
    await corpus.add("kafka-guide", ["Kafka consumers commit offsets after work."])
    async with signing_proxy(upstream(), None) as page:
        dom = await rendered(page, tmp_path, q="kafka offsets")
    assert "Not signed in — how to authenticate:" in dom
    assert "Search failed — you are not signed in (see above)." in dom
    assert "drive-index apikey create" in dom
    assert "Kafka Guide" not in dom
