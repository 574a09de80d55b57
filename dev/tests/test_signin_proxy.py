"""The dev sign-in proxy adds an identity only where a request carries none, and lets you switch user."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from devstack.signin_proxy import create_app

USERS = ["alice@example.com", "bob@example.com"]


async def echo(request: web.Request) -> web.Response:
    return web.json_response({"email": request.headers.getall("X-Forwarded-Email", [])})


@pytest.fixture
async def proxy() -> AsyncIterator[TestClient[web.Request, web.Application]]:
    upstream = web.Application()
    upstream.router.add_route("*", "/{tail:.*}", echo)
    async with TestServer(upstream) as server:
        proxied = create_app(str(server.make_url("")), USERS)  # the upstream's address is known only now
        async with TestClient(TestServer(proxied)) as client:
            yield client


async def seen(proxy: TestClient[web.Request, web.Application], **options: object) -> list[str]:
    response = await proxy.get("/search?q=x", **options)  # type: ignore[arg-type]
    return list((await response.json())["email"])


async def test_signs_in_as_the_first_user_and_switches_by_cookie(proxy) -> None:  # type: ignore[no-untyped-def]
    assert await seen(proxy) == ["alice@example.com"]
    switched = await proxy.get("/_dev/as", params={"email": "bob@example.com"}, allow_redirects=False)
    assert switched.status == 302
    assert await seen(proxy) == ["bob@example.com"]
    refused = await proxy.get("/_dev/as", params={"email": "mallory@example.com"})
    assert refused.status == 400


async def test_leaves_a_requests_own_identity_headers_as_they_came(proxy) -> None:  # type: ignore[no-untyped-def]
    assert await seen(proxy, headers={"X-Forwarded-Email": "carol@example.com"}) == ["carol@example.com"]
    twice = [("X-Forwarded-Email", "carol@example.com"), ("X-Forwarded-Email", "eve@example.com")]
    assert await seen(proxy, headers=twice) == ["carol@example.com", "eve@example.com"]
