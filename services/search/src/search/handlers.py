"""The search endpoints and the page: parse, embed, query, answer."""

from __future__ import annotations

import json
import time
from dataclasses import asdict
from importlib import resources
from typing import Any

import structlog
from aiohttp import web

from search.adapters import index
from search.identity import caller_from
from search.query import InvalidQueryError, SearchQuery, parse_query
from search.settings import SearchSettings
from shared import metrics
from shared.embeddings import Embedder
from shared.web import POOL, json_error

log = structlog.get_logger(__name__)

SEARCH_SETTINGS = web.AppKey("search_settings", SearchSettings)
EMBEDDER = web.AppKey("embedder", Embedder)

PAGE = resources.files("search").joinpath("static/index.html").read_text(encoding="utf-8")
PAGE_HEADERS = {
    # Inline CSS and JS only; results come from this origin; nothing may frame the page.
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; "
    "connect-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


async def page(_: web.Request) -> web.Response:
    """Serve the search page."""
    return web.Response(text=PAGE, content_type="text/html", headers=PAGE_HEADERS)


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
    try:
        query = parse_query(raw)
    except InvalidQueryError as exc:
        return _invalid(str(exc))
    try:
        hits = await _search(request, query)
    except Exception as exc:  # the database or the embedding provider failed: try again later
        metrics.QUERY_SECONDS.labels("error").observe(time.perf_counter() - started)
        log.error("search.failed", k=query.k, filters=query.filters(), error=repr(exc))
        return json_error(
            503, "search unavailable", f"{type(exc).__name__}; retry shortly", {"Retry-After": "5"}
        )
    took = time.perf_counter() - started
    metrics.QUERY_SECONDS.labels("ok").observe(took)
    took_ms = round(took * 1000, 1)
    # Queries can name people, customers or secrets: their text is logged at DEBUG only.
    log.info("search.answered", k=query.k, results=len(hits), took_ms=took_ms, filters=query.filters())
    log.debug("search.query", q=query.q)
    return web.json_response(
        {"query": query.q, "results": [asdict(hit) for hit in hits], "took_ms": took_ms}, dumps=_dumps
    )


async def _search(request: web.Request, query: SearchQuery) -> list[index.Hit]:
    settings, embedder = request.app[SEARCH_SETTINGS], request.app[EMBEDDER]
    vector = await embedder.embed_query(query.q)
    caller = caller_from(request.headers, settings.search_trust_forwarded_identity)
    return await index.search(
        request.app[POOL],
        vector,
        query,
        caller,
        model=embedder.model_name,
        dimensions=embedder.dimensions,
        candidates=settings.search_candidates,
        rrf_k=settings.search_rrf_k,
        min_similarity=settings.search_min_similarity,
    )


def _invalid(detail: str) -> web.Response:
    metrics.QUERY_SECONDS.labels("invalid").observe(0)  # counted, not timed: nothing was searched
    return json_error(400, "invalid query", detail)


def _dumps(value: Any) -> str:
    return json.dumps(value, default=lambda v: v.isoformat(), ensure_ascii=False)
