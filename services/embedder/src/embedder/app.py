"""The embedder's composition root: settings and adapters in, an aiohttp app out."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import structlog
from aiohttp import web

from embedder.adapters.index_store import PostgresIndexStore
from embedder.handlers import Chunking, handle_doc_fetched
from embedder.settings import EmbedderSettings
from embeddings import Embedder, from_settings
from shared.events import DocFetched
from shared.kafka import Handler
from shared.web import (
    CHECKS,
    POOL,
    PUBLISHER,
    Check,
    CleanupContext,
    consumer,
    database,
    every,
    kafka_publisher,
    service_app,
)

log = structlog.get_logger(__name__)

EMBEDDER = web.AppKey("embedder", Embedder)
CONSUMER_GROUP = "embedder"
PRUNE_SECONDS = 3600.0


@dataclass(frozen=True)
class Deps:
    """A model to embed with instead of the configured one (tests pass the hashing embedder)."""

    embedder: Embedder | None = None


def create_app(settings: EmbedderSettings, deps: Deps | None = None) -> web.Application:
    """Build the embedder: consume doc.fetched, write pgvector, publish chunks.embedded."""
    model = (deps or Deps()).embedder
    prune = prune_texts(settings.embedder_fetched_text_days)
    resources = [
        embedding_model(settings, model),
        database(settings.database_url),
        kafka_publisher(settings),
        consumer(settings, DocFetched, CONSUMER_GROUP, handler_factory(settings)),
        every(PRUNE_SECONDS, "prune claim-checked texts", prune),
    ]
    return service_app(settings, "embedder", resources)


def embedding_model(settings: EmbedderSettings, injected: Embedder | None) -> CleanupContext:
    """Load the model once, before any message is consumed, checked by /readyz."""

    async def context(app: web.Application) -> AsyncIterator[None]:
        started = time.perf_counter()
        # Loading the local model takes seconds of CPU: keep the event loop free meanwhile.
        embedder: Embedder = (
            injected
            if injected is not None
            else await asyncio.to_thread(
                from_settings, settings, timeout_seconds=settings.embedder_embed_timeout_seconds
            )
        )
        app[EMBEDDER] = embedder
        app[CHECKS]["model"] = _loaded(embedder)
        log.info(
            "model.loaded",
            model=embedder.model_name,
            dimensions=embedder.dimensions,
            seconds=round(time.perf_counter() - started, 2),
        )
        yield
        if injected is None:  # whoever made an injected embedder closes it
            await embedder.close()

    return context


def prune_texts(older_than_days: float) -> Callable[[web.Application], Awaitable[object]]:
    """Delete the claim-checked texts nobody will read any more."""

    async def prune(app: web.Application) -> None:
        pruned = await PostgresIndexStore(app[POOL]).prune_texts(older_than_days)
        if pruned:
            log.info("texts.pruned", texts=pruned)

    return prune


def _loaded(embedder: Embedder) -> Check:
    async def check() -> str:
        # Loading happened before the app served; an embedder that counts tokens is usable.
        embedder.count_tokens("ready")
        return embedder.model_name

    return check


def handler_factory(settings: EmbedderSettings) -> Callable[[web.Application], Handler[DocFetched]]:
    """Bind the doc.fetched handler to the app's model, pool and publisher."""
    chunking = Chunking(
        max_tokens=settings.embedder_chunk_tokens,
        overlap_tokens=settings.embedder_chunk_overlap_tokens,
        max_chunks=settings.embedder_max_chunks_per_file,
        batch_size=settings.embedder_batch_size,
    )

    def make(app: web.Application) -> Handler[DocFetched]:
        store = PostgresIndexStore(app[POOL])

        async def handle(event: DocFetched) -> None:
            await handle_doc_fetched(
                event, store=store, embedder=app[EMBEDDER], publisher=app[PUBLISHER], chunking=chunking
            )

        return handle

    return make
