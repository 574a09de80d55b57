"""The search page in a real headless browser: it searches, renders results and shows errors."""

from __future__ import annotations

import asyncio
import shutil
import urllib.parse

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium (apt-get install chromium)")


async def rendered(client, tmp_path, **params: str) -> str:
    """Open the page with `params` in its address and return the DOM once its scripts have run."""
    url = str(client.make_url("/")) + "?" + urllib.parse.urlencode(params)
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
        url,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    out, _ = await asyncio.wait_for(process.communicate(), 60)
    return out.decode()


async def test_the_page_shows_results_with_links_and_marked_terms(client, corpus, tmp_path) -> None:
    file_id = await corpus.add("kafka-guide", [("Consumers", "Kafka consumers commit offsets after work.")])
    dom = await rendered(client, tmp_path, q="kafka offsets")
    assert f'href="https://docs.google.com/document/d/{file_id}/edit"' in dom
    assert ">Kafka Guide</a>" in dom
    assert "<mark>Kafka</mark>" in dom
    assert "<mark>offsets</mark>" in dom
    assert "1 result in" in dom


async def test_the_page_shows_the_services_error(client, tmp_path) -> None:
    dom = await rendered(client, tmp_path, q="x", modified_after="2024-02-01", modified_before="2024-01-01")
    assert 'class="error"' in dom
    assert "Search failed — invalid query: modified_after must be earlier than modified_before" in dom
