"""A development stand-in for oauth2-proxy: sign in as any sample user, then reach search.

Production puts an authenticating proxy in front of search and lists it in
`SEARCH_TRUSTED_PROXIES`; `make dev` runs this one on :8084 instead, so the page and curl work
without an identity provider. It sets `X-Forwarded-Email` from a cookie (default: the first
sample user) and leaves a request's own identity headers exactly as they came.

    /_dev/users              who you can be
    /_dev/as?email=ADDRESS   be someone else (a cookie), then back to the page
"""

from __future__ import annotations

import argparse
import html
from collections.abc import AsyncIterator, Sequence

import aiohttp
from aiohttp import web
from multidict import CIMultiDict

COOKIE = "dev_user"
IDENTITY_HEADERS = ("X-Forwarded-Email", "X-Forwarded-Groups")
# Hop-by-hop headers and those aiohttp sets itself on the way out.
SKIP = {"connection", "keep-alive", "transfer-encoding", "content-length", "host", "content-encoding"}

UPSTREAM = web.AppKey("upstream", str)
USERS = web.AppKey("users", tuple[str, ...])
SESSION = web.AppKey("session", aiohttp.ClientSession)


def create_app(upstream: str, users: Sequence[str]) -> web.Application:
    """Proxy everything to `upstream`, signed in as one of `users`."""
    app = web.Application()
    app[UPSTREAM] = upstream.rstrip("/")
    app[USERS] = tuple(users)
    app.cleanup_ctx.append(_session)
    app.router.add_get("/_dev/users", list_users)
    app.router.add_get("/_dev/as", sign_in_as)
    app.router.add_route("*", "/{tail:.*}", forward)
    return app


async def _session(app: web.Application) -> AsyncIterator[None]:
    async with aiohttp.ClientSession(auto_decompress=False) as session:
        app[SESSION] = session
        yield


def identity(request: web.Request) -> str:
    """Who the browser is signed in as: its cookie, else the first sample user."""
    users = request.app[USERS]
    chosen = request.cookies.get(COOKIE, "")
    return chosen if chosen in users else users[0]


async def list_users(request: web.Request) -> web.Response:
    current = identity(request)
    items = "".join(
        f'<li><a href="/_dev/as?email={html.escape(user)}">{html.escape(user)}</a>'
        + (" (you)" if user == current else "")
        + "</li>"
        for user in request.app[USERS]
    )
    page = f"<!doctype html><title>Sign in (dev)</title><h1>Sign in as</h1><ul>{items}</ul>"
    return web.Response(text=page, content_type="text/html")


async def sign_in_as(request: web.Request) -> web.Response:
    email, users = request.query.get("email", ""), request.app[USERS]
    if email not in users:
        raise web.HTTPBadRequest(text=f"unknown user; pick one at /_dev/users: {', '.join(users)}")
    response = web.HTTPFound("/")
    response.set_cookie(COOKIE, email, httponly=True, samesite="Strict")
    raise response


async def forward(request: web.Request) -> web.StreamResponse:
    """Pass the request on, adding the signed-in identity unless the request names its own."""
    # A multidict: a header sent twice reaches search twice, and search refuses it.
    headers = CIMultiDict((k, v) for k, v in request.headers.items() if k.lower() not in SKIP)
    if not any(name in request.headers for name in IDENTITY_HEADERS):
        headers["X-Forwarded-Email"] = identity(request)
    url = request.app[UPSTREAM] + request.rel_url.path_qs
    async with request.app[SESSION].request(
        request.method, url, headers=headers, data=await request.read(), allow_redirects=False
    ) as answer:
        response = web.Response(status=answer.status, body=await answer.read())
        for name, value in answer.headers.items():
            if name.lower() not in SKIP:
                response.headers.add(name, value)
        return response


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8084)
    parser.add_argument("--upstream", default="http://127.0.0.1:8083")
    parser.add_argument("--users", default="alice@example.com", help="comma-separated sample users")
    args = parser.parse_args(argv)
    users = [user.strip() for user in args.users.split(",") if user.strip()]
    web.run_app(create_app(args.upstream, users), host="127.0.0.1", port=args.port, print=None)


if __name__ == "__main__":
    main()
