"""Where a test's ports live: in memory (the fakes) or in PostgreSQL (the real adapters).

Each backing offers the same ways to fill it (files, group memberships, API keys) and the ports to
give `create_app`, so one test body runs on either.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Protocol

import asyncpg

from embeddings import HashingEmbedder
from search.adapters.apikeys import PostgresApiKeys
from search.adapters.directory import PostgresDirectory
from search.adapters.index import PostgresIndex
from search.app import Deps
from search.ports import ApiKeyStore, GroupDirectory, SearchIndex
from shared import apikeys

from .corpus import Corpus, SqlWriter
from .fakes import FakeApiKeys, FakeDirectory, FakeIndex

# The ranking settings' defaults, which the scores the tests expect (2/61, 1/61) assume.
CANDIDATES, RRF_K = 100, 60


class Memberships(GroupDirectory, Protocol):
    """A GroupDirectory a test can fill, as the groups sync does."""

    async def add(self, member: str, group: str) -> None: ...


class KeyTable(ApiKeyStore, Protocol):
    """An ApiKeyStore whose keys a test can make and revoke, as `drive-index apikey` does."""

    async def create(
        self, email: str, groups: Sequence[str] = (), *, expires_at: datetime | None = None
    ) -> tuple[str, str]: ...

    async def revoke(self, key_id: str) -> None: ...


class Backing(Protocol):
    """Files, groups and keys a test fills, and the ports over them."""

    @property
    def corpus(self) -> Corpus: ...

    @property
    def directory(self) -> Memberships: ...

    @property
    def api_keys(self) -> KeyTable: ...

    @property
    def database_url(self) -> str: ...

    def index(self, min_similarity: float = -1.0) -> SearchIndex:
        """The index over `corpus`, with a similarity floor (-1: none)."""
        ...

    def deps(self, embedder: HashingEmbedder) -> Deps:
        """The ports for `create_app`."""
        ...


@dataclass
class FakeBacking:
    """The fakes: no database at all."""

    embedder: HashingEmbedder
    # No similarity floor, as make_client's SEARCH_MIN_SIMILARITY=-1 for the real index.
    fake_index: FakeIndex = field(default_factory=lambda: FakeIndex(candidates=CANDIDATES, rrf_k=RRF_K))
    directory: FakeDirectory = field(default_factory=FakeDirectory)
    api_keys: FakeApiKeys = field(default_factory=FakeApiKeys)
    database_url: str = "postgresql://unused.invalid/search"
    corpus: Corpus = field(init=False)

    def __post_init__(self) -> None:
        self.corpus = Corpus(self.fake_index, self.embedder)

    def index(self, min_similarity: float = -1.0) -> SearchIndex:
        return replace(self.fake_index, min_similarity=min_similarity)  # the same files and readers

    def deps(self, embedder: HashingEmbedder) -> Deps:
        return Deps(embedder, self.fake_index, self.directory, self.api_keys)


class PostgresMemberships(PostgresDirectory):
    """The real directory adapter, plus writing and removing a test's group_members rows."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        super().__init__(pool)
        self.written: list[tuple[str, str]] = []

    async def add(self, member: str, group: str) -> None:
        kind = "GROUP" if member.partition("@")[0].endswith(("-group", "-team")) else "USER"
        await self.pool.execute(
            "INSERT INTO group_members (group_email, member_email, member_type) VALUES ($1, $2, $3)",
            group.lower(),
            member.lower(),
            kind,
        )
        self.written.append((group.lower(), member.lower()))

    async def remove_all(self) -> None:
        for group, member in self.written:
            await self.pool.execute(
                "DELETE FROM group_members WHERE group_email = $1 AND member_email = $2", group, member
            )


class PostgresKeys(PostgresApiKeys):
    """The real API key adapter, plus making and revoking keys as the CLI does."""

    async def create(
        self, email: str, groups: Sequence[str] = (), *, expires_at: datetime | None = None
    ) -> tuple[str, str]:
        key, token = await apikeys.create(self.pool, email, groups, expires_at=expires_at)
        return key.id, token

    async def revoke(self, key_id: str) -> None:
        await apikeys.revoke(self.pool, key_id)


class PostgresBacking:
    """The session's PostgreSQL: rows under a source of the test's own, read by the real adapters."""

    def __init__(self, pool: asyncpg.Pool, dsn: str, embedder: HashingEmbedder, source_id: str) -> None:
        self.pool, self.database_url, self.embedder = pool, dsn, embedder
        self.corpus = Corpus(SqlWriter(pool, source_id, embedder.model_name), embedder)
        self.directory = PostgresMemberships(pool)
        self.api_keys = PostgresKeys(pool)

    @classmethod
    async def open(cls, pool: asyncpg.Pool, dsn: str, embedder: HashingEmbedder) -> PostgresBacking:
        source_id = f"src-{uuid.uuid4().hex[:8]}"
        await pool.execute("INSERT INTO sources (id) VALUES ($1)", source_id)
        return cls(pool, dsn, embedder, source_id)

    async def close(self) -> None:
        await self.directory.remove_all()

    def index(self, min_similarity: float = -1.0) -> SearchIndex:
        return PostgresIndex(
            self.pool,
            model=self.embedder.model_name,
            dimensions=self.embedder.dimensions,
            candidates=CANDIDATES,
            rrf_k=RRF_K,
            min_similarity=min_similarity,
        )

    def deps(self, embedder: HashingEmbedder) -> Deps:
        return Deps(embedder=embedder)
