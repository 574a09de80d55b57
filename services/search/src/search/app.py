"""Build the search app: its database pool, its query embedder, the API and the page."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass

from aiohttp import web

from search import handlers
from search.settings import SearchSettings
from shared.embeddings import Embedder, from_settings
from shared.web import CleanupContext, database, json_errors, service_app


@dataclass(frozen=True)
class Deps:
    """Ports a caller may supply instead of the configured ones (tests pass a small embedder)."""

    embedder: Embedder | None = None


def create_app(settings: SearchSettings, deps: Deps | None = None) -> web.Application:
    """Make the search app."""
    app = service_app(settings, "search")
    app.middlewares.append(json_errors)
    app[handlers.SEARCH_SETTINGS] = settings
    app.cleanup_ctx.append(database(settings.database_url))
    app.cleanup_ctx.append(_embedder(settings, (deps or Deps()).embedder))
    app.router.add_get("/", handlers.page)
    app.router.add_get("/search", handlers.search_get)
    app.router.add_post("/search", handlers.search_post)
    return app


def _embedder(settings: SearchSettings, given: Embedder | None) -> CleanupContext:
    """Own the configured embedder for the app's lifetime; a given one stays its giver's."""

    async def context(app: web.Application) -> AsyncIterator[None]:
        if given is not None:
            app[handlers.EMBEDDER] = given
            yield
            return
        # Loading the local model takes seconds: off the event loop, once, before serving.
        embedder = await asyncio.to_thread(from_settings, settings)
        if settings.embedding_provider == "local":
            # The first forward pass is many times slower than the next: pay it before serving.
            await embedder.embed_query("warm up")
        app[handlers.EMBEDDER] = embedder
        yield
        await embedder.close()

    return context
