"""The search service's composition root: settings and ports in, an aiohttp app out."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass

from aiohttp import web

from embeddings import Embedder, from_settings
from search import handlers
from search.adapters.apikeys import PostgresApiKeys
from search.adapters.directory import PostgresDirectory
from search.adapters.index import PostgresIndex
from search.authenticate import GATE, Authenticator, Gate, require_identity
from search.ports import ApiKeyStore, GroupDirectory, SearchIndex
from search.proxies import TrustedProxies, parse_networks
from search.ratelimit import RateLimiter
from search.service import Searcher
from search.settings import SearchSettings
from search.tokens import IAP_ALGORITHMS, IAP_ISSUER, OIDC_ALGORITHMS, JwksCache, TokenPolicy, TokenVerifier
from shared.web import POOL, CleanupContext, database, json_errors, service_app

# Served to anyone: the page is static HTML (it asks /whoami and /search, which are not).
PUBLIC_PATHS = frozenset({"/", "/healthz", "/readyz", "/metrics"})


@dataclass(frozen=True)
class Deps:
    """Ports to use instead of the ones the settings describe (tests pass fakes and a small embedder)."""

    embedder: Embedder | None = None
    index: SearchIndex | None = None
    directory: GroupDirectory | None = None
    api_keys: ApiKeyStore | None = None

    @property
    def needs_database(self) -> bool:
        """Whether some port is left to PostgreSQL, so the app must open (and /readyz check) a pool."""
        return self.index is None or self.directory is None or self.api_keys is None


def create_app(settings: SearchSettings, deps: Deps | None = None) -> web.Application:
    """Make the search app.

    Without ports given it cannot start until the database answers, so a restart loop shows the
    outage; with every port given it opens no database at all.
    """
    deps = deps or Deps()
    app = service_app(settings, "search")
    app.middlewares.append(json_errors)
    app.middlewares.append(require_identity(PUBLIC_PATHS))
    app[handlers.LOG_QUERIES] = settings.log_queries
    if deps.needs_database:
        app.cleanup_ctx.append(database(settings.database_url))
    app.cleanup_ctx.append(_ports(settings, deps))
    app.router.add_get("/", handlers.page)
    app.router.add_get("/whoami", handlers.whoami)
    app.router.add_get("/search", handlers.search_get)
    app.router.add_post("/search", handlers.search_post)
    return app


def _ports(settings: SearchSettings, deps: Deps) -> CleanupContext:
    """Build the searcher and the gate from the ports given, else PostgreSQL's; own what they hold."""

    async def context(app: web.Application) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            embedder = deps.embedder or await _load_embedder(settings)
            if deps.embedder is None:
                stack.push_async_callback(embedder.close)
            index = deps.index or _postgres_index(app, embedder, settings)
            directory = deps.directory or PostgresDirectory(app[POOL])
            api_keys = deps.api_keys or PostgresApiKeys(app[POOL])
            limiter = RateLimiter(settings.search_rate_limit_per_minute, settings.search_rate_limit_burst)
            app[handlers.SEARCHER] = Searcher(index, embedder, limiter, settings.search_max_concurrent_embeds)
            app[GATE] = Gate(await _authenticator(settings, api_keys, stack), directory)
            yield

    return context


def _postgres_index(app: web.Application, embedder: Embedder, settings: SearchSettings) -> PostgresIndex:
    return PostgresIndex(
        app[POOL],
        model=embedder.model_name,
        dimensions=embedder.dimensions,
        candidates=settings.search_candidates,
        rrf_k=settings.search_rrf_k,
        min_similarity=settings.search_min_similarity,
    )


async def _load_embedder(settings: SearchSettings) -> Embedder:
    # Loading the local model takes seconds: off the event loop, once, before serving.
    embedder = await asyncio.to_thread(from_settings, settings)
    if settings.embedding_provider == "local":
        # The first forward pass is many times slower than the next: pay it before serving.
        await embedder.embed_query("warm up")
    return embedder


async def _authenticator(
    settings: SearchSettings, api_keys: ApiKeyStore, stack: AsyncExitStack
) -> Authenticator:
    oidc = iap = None
    if settings.search_oidc_issuer and settings.search_oidc_audience and settings.search_oidc_jwks_url:
        keys = await stack.enter_async_context(JwksCache(settings.search_oidc_jwks_url))
        policy = TokenPolicy(
            settings.search_oidc_issuer, settings.search_oidc_audience, OIDC_ALGORITHMS, "oidc"
        )
        oidc = TokenVerifier(policy, keys)
    if settings.search_iap_audience:
        keys = await stack.enter_async_context(JwksCache(settings.search_iap_jwks_url))
        policy = TokenPolicy(IAP_ISSUER, settings.search_iap_audience, IAP_ALGORITHMS, "iap", False)
        iap = TokenVerifier(policy, keys)
    return Authenticator(
        TrustedProxies(parse_networks(settings.search_trusted_proxies)),
        api_keys,
        oidc=oidc,
        iap=iap,
        anonymous_public=settings.search_anonymous == "public",
    )
