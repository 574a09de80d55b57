"""Fixtures for the search tests: a corpus written by SQL, embedded with a hashing embedder."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import asyncpg
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from embeddings import HashingEmbedder
from search.app import Deps, create_app
from search.settings import SearchSettings
from shared import mime
from shared.access import Permission, readers
from shared.settings import load

Client = TestClient[web.Request, web.Application]
# Files of tests that do not care about sharing are findable by anyone.
ANYONE = [{"type": "anyone", "role": "reader", "allow_file_discovery": True}]
# The default client's caller: a user behind the trusted proxy the tests stand in for.
TESTER = {"X-Forwarded-Email": "tester@example.com"}


class Corpus:
    """Documents, chunks and readers of one test, under ids nobody else uses."""

    def __init__(self, pool: asyncpg.Pool, embedder: HashingEmbedder, source_id: str) -> None:
        self.pool, self.embedder, self.source_id = pool, embedder, source_id
        self.ids: dict[str, str] = {}

    def key(self, file_id: str) -> str:
        """Name a result by the key the test gave its file."""
        return {v: k for k, v in self.ids.items()}[file_id]

    async def add(
        self,
        key: str,
        chunks: Sequence[str | tuple[str, str]] = (),
        *,
        mime_type: str = mime.DOCUMENT,
        parents: Sequence[str] = (),
        modified: datetime | None = None,
        permissions: list[dict[str, Any]] | None = None,
        link: str | None = "default",
    ) -> str:
        """Index a file (chunks are texts or (heading, text) pairs); parents name earlier keys.

        `permissions` are Drive permissions (Permission's fields); the file's readers are written
        to file_access from them as the fetcher would. None: shared with anyone, discoverable.
        """
        file_id = self.ids[key] = f"{key}-{uuid.uuid4().hex[:8]}"
        await self.pool.execute(
            """INSERT INTO documents (file_id, source_id, name, mime_type, web_view_link, parents,
                                      modified_time, version, embedding_model)
               VALUES ($1, $2, $3, $4, $5, $6, $7, 1, $8)""",
            file_id,
            self.source_id,
            key.replace("-", " ").title(),
            mime_type,
            f"https://docs.google.com/document/d/{file_id}/edit" if link == "default" else link,
            [self.ids[parent] for parent in parents],
            modified or datetime(2024, 6, 1, tzinfo=UTC),
            self.embedder.model_name,
        )
        await self.share(key, ANYONE if permissions is None else permissions)
        pairs = [chunk if isinstance(chunk, tuple) else (None, chunk) for chunk in chunks]
        vectors = await self.embedder.embed_documents([f"{h or ''} {text}" for h, text in pairs])
        await self.pool.executemany(
            """INSERT INTO chunks (file_id, position, heading, text, token_count, model, embedding)
               VALUES ($1, $2, $3, $4, $5, $6, $7)""",
            [
                (file_id, n, heading, text, len(text.split()), self.embedder.model_name, vector)
                for n, ((heading, text), vector) in enumerate(zip(pairs, vectors, strict=True))
            ],
        )
        return file_id

    async def share(self, key: str, permissions: Sequence[Mapping[str, Any]]) -> None:
        """Set who may find a file, as the fetcher does after reading its permissions."""
        granted = readers(Permission.model_validate(p) for p in permissions)
        await self.pool.execute(
            """INSERT INTO file_access (file_id, version, readers) VALUES ($1, 1, $2)
               ON CONFLICT (file_id) DO UPDATE SET readers = EXCLUDED.readers""",
            self.ids[key],
            granted,
        )


@pytest.fixture
def embedder() -> HashingEmbedder:
    """A deterministic embedder under a model name of this test's own.

    Search only compares chunks of the embedder's model, so the name keeps tests apart. There is
    no HNSW index for it: the query must work with a sequential scan too.
    """
    return HashingEmbedder(model_name=f"test-hash-{uuid.uuid4().hex[:8]}", dimensions=384)


@pytest.fixture
async def corpus(pool: asyncpg.Pool, embedder: HashingEmbedder) -> Corpus:
    source_id = f"src-{uuid.uuid4().hex[:8]}"
    await pool.execute("INSERT INTO sources (id) VALUES ($1)", source_id)
    return Corpus(pool, embedder, source_id)


@pytest.fixture
def domain() -> str:
    """A mail domain of this test's own, so group memberships never meet another test's."""
    return f"t{uuid.uuid4().hex[:8]}.example"


@pytest.fixture
async def member_of(pool: asyncpg.Pool) -> AsyncIterator[Callable[[str, str], Awaitable[None]]]:
    """Record a direct Directory membership (member, group), as the groups sync would."""
    written: list[tuple[str, str]] = []

    async def add(member: str, group: str) -> None:
        kind = "GROUP" if member.partition("@")[0].endswith(("-group", "-team")) else "USER"
        await pool.execute(
            "INSERT INTO group_members (group_email, member_email, member_type) VALUES ($1, $2, $3)",
            group.lower(),
            member.lower(),
            kind,
        )
        written.append((group.lower(), member.lower()))

    yield add
    for group, member in written:
        await pool.execute(
            "DELETE FROM group_members WHERE group_email = $1 AND member_email = $2", group, member
        )


MakeClient = Callable[..., Awaitable[Client]]


@pytest.fixture
async def make_client(
    monkeypatch: pytest.MonkeyPatch, postgres_dsn: str, embedder: HashingEmbedder
) -> AsyncIterator[MakeClient]:
    """Start the search app with settings from the environment (plus `env`) and the test embedder.

    The test client is on 127.0.0.1, which the default settings trust as a proxy; `headers` are
    sent with every request (default: the tester's identity; pass {} for none).
    """
    clients: list[Client] = []

    async def make(with_embedder: Any = None, headers: Mapping[str, str] | None = None, **env: str) -> Client:
        # Hashed bags of words score far lower than a real model: no similarity floor unless asked.
        defaults = {
            "DATABASE_URL": postgres_dsn,
            "LOG_FORMAT": "json",
            "SEARCH_MIN_SIMILARITY": "-1",
            "SEARCH_TRUSTED_PROXIES": "127.0.0.1/32",
        }
        for name, value in {**defaults, **env}.items():
            monkeypatch.setenv(name, value)
        app = create_app(load(SearchSettings), Deps(embedder=with_embedder or embedder))
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
