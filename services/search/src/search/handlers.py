"""The search endpoints and the page: parse, check the caller's rate, search, audit, answer."""

from __future__ import annotations

import hashlib
import json
import math
import time
from dataclasses import asdict
from typing import Any

import structlog
from aiohttp import web
from prometheus_client import Histogram

from search.authenticate import CALLER
from search.identity import Caller
from search.page import PAGE
from search.query import InvalidQueryError, SearchQuery, parse_query
from search.service import Searcher
from shared.web import json_error

log = structlog.get_logger(__name__)

QUERY_SECONDS = Histogram("drive_index_query_seconds", "Time to answer one search request", ["outcome"])

SEARCHER = web.AppKey("searcher", Searcher)
LOG_QUERIES = web.AppKey("log_queries", bool)

PAGE_HEADERS = {
    # Inline CSS and JS only; results come from this origin; nothing may frame the page.
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; "
    "connect-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


async def page(_: web.Request) -> web.Response:
    """Serve the search page: static, no file data; it asks /whoami and /search itself."""
    return web.Response(text=PAGE, content_type="text/html", headers=PAGE_HEADERS)


async def whoami(request: web.Request) -> web.Response:
    """Say who the service takes the caller to be."""
    caller = request[CALLER]
    return web.json_response(
        {
            "email": caller.email,
            "groups": list(caller.groups),
            "authenticated_by": caller.method,
            "principals": list(caller.principals),
        },
        headers={"Cache-Control": "no-store"},
    )


async def search_get(request: web.Request) -> web.Response:
    """Search with query-string parameters."""
    return await _answer(request, dict(request.query))


async def search_post(request: web.Request) -> web.Response:
    """Search with a JSON body."""
    try:
        body = await request.json(loads=json.loads)
    except ValueError:
        body = None
    if not isinstance(body, dict):
        return _invalid('the body must be a JSON object such as {"q": "quarterly report", "k": 10}')
    return await _answer(request, body)


async def _answer(request: web.Request, raw: dict[str, Any]) -> web.Response:
    started = time.perf_counter()
    searcher, caller = request.app[SEARCHER], request[CALLER]
    wait = searcher.wait_before(caller)
    if wait:
        return _too_many(searcher, caller, wait)
    try:
        query = parse_query(raw)
    except InvalidQueryError as exc:
        return _invalid(str(exc))
    try:
        hits = await searcher.search(query, caller)
    except Exception as exc:  # the database or the embedding provider failed: try again later
        QUERY_SECONDS.labels("error").observe(time.perf_counter() - started)
        log.error("search.failed", email=caller.email, k=query.k, filters=query.filters(), error=repr(exc))
        return json_error(
            503, "search unavailable", f"{type(exc).__name__}; retry shortly", {"Retry-After": "5"}
        )
    took = time.perf_counter() - started
    QUERY_SECONDS.labels("ok").observe(took)
    took_ms = round(took * 1000, 1)
    _audit(request.app[LOG_QUERIES], caller, query, len(hits), took_ms)
    return web.json_response(
        {"query": query.q, "results": [asdict(hit) for hit in hits], "took_ms": took_ms},
        dumps=_dumps,
        headers={"Cache-Control": "no-store"},  # each caller's answer is their own
    )


def _audit(log_queries: bool, caller: Caller, query: SearchQuery, results: int, took_ms: float) -> None:
    """One line per search: who, how they signed in, what (as a hash) and how much came back.

    Queries name people, customers and projects, and logs are kept longer and read more widely
    than the index: the text itself only with LOG_QUERIES=true.
    """
    text = {"q": query.q} if log_queries else {}
    log.info(
        "search.audit",
        email=caller.email,
        authenticated_by=caller.method,
        credential=caller.identity.credential,
        query_sha256=hashlib.sha256(query.q.encode()).hexdigest(),
        k=query.k,
        filters=query.filters(),
        results=results,
        took_ms=took_ms,
        **text,
    )


def _too_many(searcher: Searcher, caller: Caller, wait: float) -> web.Response:
    QUERY_SECONDS.labels("limited").observe(0)
    log.warning("search.limited", email=caller.email, rate_key=caller.rate_key, retry_after=round(wait, 1))
    detail = (
        f"at most {searcher.limiter.per_minute} searches a minute (bursts of {searcher.limiter.burst});"
        f" retry in {math.ceil(wait)} s"
    )
    return json_error(429, "too many requests", detail, {"Retry-After": str(math.ceil(wait))})


def _invalid(detail: str) -> web.Response:
    QUERY_SECONDS.labels("invalid").observe(0)  # counted, not timed: nothing was searched
    return json_error(400, "invalid query", detail)


def _dumps(value: Any) -> str:
    return json.dumps(value, default=lambda v: v.isoformat(), ensure_ascii=False)
