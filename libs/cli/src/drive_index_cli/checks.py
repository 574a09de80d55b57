"""Checks shared by `drive-index smoke` and `doctor`: each prints one line and says what to do."""

from __future__ import annotations

import asyncio
import json
import os
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any


class CheckFailedError(RuntimeError):
    """A check failed; the message says what to do next."""


def ok(what: str, detail: str = "") -> None:
    print(f"  ok    {what}" + (f"  ({detail})" if detail else ""), flush=True)


def warn(what: str, detail: str) -> None:
    print(f"  warn  {what}  ({detail})", flush=True)


def fail(what: str, detail: str) -> None:
    print(f"  FAIL  {what}  ({detail})", flush=True)


def http_json(
    url: str,
    *,
    method: str = "GET",
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 10,
) -> tuple[int, Any]:
    """Make one HTTP request; return the status and the decoded JSON body (or text)."""
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as exc:
        status, raw = exc.code, exc.read()
    try:
        return status, json.loads(raw or b"null")
    except ValueError:
        return status, raw.decode(errors="replace")


async def service_ready(name: str, base_url: str) -> bool:
    """Check a service's /healthz and /readyz; print the outcome."""
    try:
        status, body = await asyncio.to_thread(http_json, f"{base_url}/readyz", timeout=5)
    except OSError as exc:
        fail(f"{name} at {base_url}", f"unreachable: {exc}; is it running?")
        return False
    if status == 200:
        ok(f"{name} ready", base_url)
        return True
    failing = (
        {k: v for k, v in (body or {}).get("checks", {}).items() if v != "ok"}
        if isinstance(body, dict)
        else body
    )
    fail(f"{name} not ready", f"{failing}")
    return False


def search_headers() -> dict[str, str]:
    """How the CLI proves who it is to search: the API key in DRIVE_INDEX_API_KEY, if set."""
    key = os.environ.get("DRIVE_INDEX_API_KEY", "").strip()
    return {"Authorization": f"Bearer {key}"} if key else {}


async def search(base_url: str, query: str, k: int = 5) -> list[dict[str, Any]]:
    """Ask the search service; raise CheckFailedError with its error when it refuses."""
    url = f"{base_url}/search?" + urllib.parse.urlencode({"q": query, "k": k})
    status, body = await asyncio.to_thread(http_json, url, headers=search_headers())
    if status == 401:
        detail = body.get("detail", body) if isinstance(body, dict) else body
        advice = (
            "the key in DRIVE_INDEX_API_KEY was refused"
            if search_headers()
            else "DRIVE_INDEX_API_KEY is not set"
        )
        raise CheckFailedError(
            f"search refused the request ({detail}). {advice}: ask an operator for a key"
            " (`drive-index apikey create --email you@your.domain`) and export DRIVE_INDEX_API_KEY=<key>"
        )
    if status != 200:
        raise CheckFailedError(f"search answered {status}: {body}")
    return list(body["results"])


async def wait_for_hit(base_url: str, query: str, expect: str, deadline_seconds: float) -> dict[str, Any]:
    """Poll search until a result's title or file id equals `expect`."""
    deadline = time.monotonic() + deadline_seconds
    while True:
        results = await search(base_url, query)
        for result in results:
            if expect in (result.get("title"), result.get("file_id")):
                return result
        if time.monotonic() > deadline:
            titles = [r.get("title") for r in results]
            raise CheckFailedError(
                f"{expect!r} not found for {query!r} within {deadline_seconds:.0f}s; got {titles}"
            )
        await asyncio.sleep(1)
