"""Fixtures for the search tests: the app on fake ports (or PostgreSQL's), a corpus, a hashing embedder.

Tests run on the fakes unless marked ON_POSTGRES (the wiring to the real adapters) or ON_BOTH;
the contract tests hold the fakes to the real adapters' behaviour.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import Any, Literal

import asyncpg
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from embeddings import HashingEmbedder
from search.app import create_app
from search.settings import SearchSettings
from shared.settings import load

from .backings import Backing, FakeBacking, KeyTable, PostgresBacking
from .corpus import Corpus

Client = TestClient[web.Request, web.Application]
Backend = Literal["fake", "postgres"]
# The default client's caller: a user behind the trusted proxy the tests stand in for.
TESTER = {"X-Forwarded-Email": "tester@example.com"}
ON_POSTGRES = pytest.mark.parametrize("backend", ["postgres"])
ON_BOTH = pytest.mark.parametrize("backend", ["fake", "postgres"])


@pytest.fixture
def backend() -> Backend:
    """Where the ports live; a test parametrised with ON_POSTGRES or ON_BOTH says otherwise."""
    return "fake"


@pytest.fixture
def database(backend: Backend, request: pytest.FixtureRequest) -> tuple[asyncpg.Pool, str] | None:
    """The session's PostgreSQL (a pool and its DSN) when the test runs on it, else None."""
    if backend == "fake":
        return None
    return request.getfixturevalue("pool"), request.getfixturevalue("postgres_dsn")


@pytest.fixture
async def backing(
    database: tuple[asyncpg.Pool, str] | None, embedder: HashingEmbedder
) -> AsyncIterator[Backing]:
    """The fakes, or the session's PostgreSQL (under a source of this test's own)."""
    if database is None:
        yield FakeBacking(embedder)
        return
    real = await PostgresBacking.open(*database, embedder)
    yield real
    await real.close()


@pytest.fixture
def embedder() -> HashingEmbedder:
    """A deterministic embedder under a model name of this test's own.

    Search only compares chunks of the embedder's model, so the name keeps tests apart. There is
    no HNSW index for it: the query must work with a sequential scan too.
    """
    return HashingEmbedder(model_name=f"test-hash-{uuid.uuid4().hex[:8]}", dimensions=384)


@pytest.fixture
def corpus(backing: Backing) -> Corpus:
    """This test's files, in the backing's index."""
    return backing.corpus


@pytest.fixture
def domain() -> str:
    """A mail domain of this test's own, so group memberships never meet another test's."""
    return f"t{uuid.uuid4().hex[:8]}.example"


@pytest.fixture
def member_of(backing: Backing) -> Callable[[str, str], Awaitable[None]]:
    """Record a direct Directory membership (member, group), as the groups sync would."""
    return backing.directory.add


@pytest.fixture
def api_keys(backing: Backing) -> KeyTable:
    """Make and revoke API keys in the backing, as `drive-index apikey` does."""
    return backing.api_keys


MakeClient = Callable[..., Awaitable[Client]]


@pytest.fixture
async def make_client(
    monkeypatch: pytest.MonkeyPatch, backing: Backing, embedder: HashingEmbedder
) -> AsyncIterator[MakeClient]:
    """Start the search app on the backing's ports, settings from the environment (plus `env`).

    The test client is on 127.0.0.1, which the default settings trust as a proxy; `headers` are
    sent with every request (default: the tester's identity; pass {} for none).
    """
    clients: list[Client] = []

    async def make(with_embedder: Any = None, headers: Mapping[str, str] | None = None, **env: str) -> Client:
        # Hashed bags of words score far lower than a real model: no similarity floor unless asked.
        defaults = {
            "DATABASE_URL": backing.database_url,
            "LOG_FORMAT": "json",
            "SEARCH_MIN_SIMILARITY": "-1",
            "SEARCH_TRUSTED_PROXIES": "127.0.0.1/32",
        }
        for name, value in {**defaults, **env}.items():
            monkeypatch.setenv(name, value)
        app = create_app(load(SearchSettings), backing.deps(with_embedder or embedder))
        client = TestClient(TestServer(app, host="127.0.0.1"), headers=TESTER if headers is None else headers)
        await client.start_server()
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.close()


@pytest.fixture
async def client(make_client: MakeClient) -> Client:
    """The search app as a signed-in user sees it through the trusted proxy."""
    return await make_client()
