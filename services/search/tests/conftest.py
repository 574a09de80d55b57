"""Fixtures for the search tests: a corpus written by SQL, embedded with a hashing embedder."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import asyncpg
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from search.app import Deps, create_app
from search.settings import SearchSettings
from shared.embeddings import HashingEmbedder
from shared.settings import load

Client = TestClient[web.Request, web.Application]
FOLDER = "application/vnd.google-apps.folder"
DOC = "application/vnd.google-apps.document"
ANYONE = [{"type": "anyone", "role": "reader"}]


class Corpus:
    """Documents and chunks of one test, under ids nobody else uses."""

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
        mime_type: str = DOC,
        parents: Sequence[str] = (),
        modified: datetime | None = None,
        permissions: list[dict[str, Any]] | None = None,
        trashed: bool = False,
        link: str | None = "default",
    ) -> str:
        """Index a file (chunks are texts or (heading, text) pairs); parents name earlier keys."""
        file_id = self.ids[key] = f"{key}-{uuid.uuid4().hex[:8]}"
        await self.pool.execute(
            """INSERT INTO documents (file_id, source_id, name, mime_type, web_view_link, parents,
                                      modified_time, version, permissions, trashed, embedding_model)
               VALUES ($1, $2, $3, $4, $5, $6, $7, 1, $8::jsonb, $9, $10)""",
            file_id,
            self.source_id,
            key.replace("-", " ").title(),
            mime_type,
            f"https://docs.google.com/document/d/{file_id}/edit" if link == "default" else link,
            [self.ids[parent] for parent in parents],
            modified or datetime(2024, 6, 1, tzinfo=UTC),
            json.dumps(ANYONE if permissions is None else permissions),
            trashed,
            self.embedder.model_name,
        )
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


MakeClient = Callable[..., Awaitable[Client]]


@pytest.fixture
async def make_client(
    monkeypatch: pytest.MonkeyPatch, postgres_dsn: str, embedder: HashingEmbedder
) -> AsyncIterator[MakeClient]:
    """Start the search app with settings from the environment (plus `env`) and the test embedder."""
    clients: list[Client] = []

    async def make(with_embedder: Any = None, **env: str) -> Client:
        # Hashed bags of words score far lower than a real model: no similarity floor unless asked.
        defaults = {"DATABASE_URL": postgres_dsn, "LOG_FORMAT": "json", "SEARCH_MIN_SIMILARITY": "-1"}
        for name, value in {**defaults, **env}.items():
            monkeypatch.setenv(name, value)
        client = TestClient(
            TestServer(create_app(load(SearchSettings), Deps(embedder=with_embedder or embedder)))
        )
        await client.start_server()
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.close()


@pytest.fixture
async def client(make_client: MakeClient) -> Client:
    """The search app with the default settings: no permission filtering."""
    return await make_client()
