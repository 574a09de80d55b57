"""The search service's ports in memory, held to PostgreSQL's behaviour by the contract tests.

The handler tests run the app on these; `test_*_contract.py` runs the same cases against them and
against the PostgreSQL adapters, so a fake cannot drift from what it stands in for.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

import numpy as np

from embeddings import Vector
from search.identity import Identity, InvalidCredentialsError
from search.ports import Hit, open_link
from search.query import SearchQuery
from shared import apikeys, mime

from . import words

# A chunk by its file and position, as the chunks table keys it.
ChunkKey = tuple[str, int]


@dataclass(frozen=True)
class IndexedChunk:
    heading: str | None
    text: str
    vector: Vector


@dataclass(frozen=True)
class IndexedFile:
    """A file as the fetcher and the embedder leave it: its documents row and its chunks."""

    file_id: str
    title: str
    mime_type: str
    link: str | None
    parents: tuple[str, ...]
    modified_time: datetime | None
    chunks: tuple[IndexedChunk, ...] = ()


@dataclass
class FakeIndex:
    """The SearchIndex port in memory, ranked as PostgresIndex ranks (see adapters/index.py).

    Only files whose readers meet the principals take part; the filters apply before ranking;
    cosine similarity and a keyword match each rank their best `candidates` chunks, reciprocal
    rank fusion adds 1/(rrf_k + rank) per ranking, and each file shows its best chunk. It records
    every search; set `down` to fail searches as an unreachable database does.
    """

    candidates: int = 100
    rrf_k: int = 60
    min_similarity: float = -1.0
    files: dict[str, IndexedFile] = field(default_factory=dict)
    readers: dict[str, frozenset[str]] = field(default_factory=dict)
    searches: list[tuple[SearchQuery, tuple[str, ...]]] = field(default_factory=list)
    down: Exception | None = None

    async def put(self, file: IndexedFile) -> None:
        self.files[file.file_id] = file

    async def set_readers(self, file_id: str, readers: Sequence[str]) -> None:
        self.readers[file_id] = frozenset(readers)

    async def drop_readers(self, file_id: str) -> None:
        self.readers.pop(file_id, None)

    async def search(self, vector: Vector, query: SearchQuery, principals: Sequence[str]) -> list[Hit]:
        if self.down is not None:
            raise self.down
        self.searches.append((query, tuple(principals)))
        chunks = {
            (file.file_id, n): chunk
            for file in self.files.values()
            if self._may_find(file, query, principals)
            for n, chunk in enumerate(file.chunks)
        }
        scores = self._fused(vector, query.q, chunks)
        best: dict[str, ChunkKey] = {}
        for key in sorted(scores, key=lambda key: (-scores[key], key)):
            best.setdefault(key[0], key)
        top = sorted(best.values(), key=lambda key: (-scores[key], key[0]))[: query.k]
        return [self._hit(key, chunks[key], scores[key], vector, query.q) for key in top]

    def _may_find(self, file: IndexedFile, query: SearchQuery, principals: Sequence[str]) -> bool:
        if not self.readers.get(file.file_id, frozenset()) & set(principals):
            return False
        if query.mime_type is not None and file.mime_type != query.mime_type:
            return False
        if query.folder is not None and not set(file.parents) & self._folder_tree(query.folder):
            return False
        modified = file.modified_time
        if query.modified_after is not None and (modified is None or modified < query.modified_after):
            return False
        return query.modified_before is None or (modified is not None and modified < query.modified_before)

    def _folder_tree(self, folder: str) -> set[str]:
        """The folder and every folder below it, whoever may read them."""
        tree, grown = {folder}, True
        while grown:
            below = {
                f.file_id for f in self.files.values() if f.mime_type == mime.FOLDER and set(f.parents) & tree
            }
            grown = not below <= tree
            tree |= below
        return tree

    def _fused(self, vector: Vector, q: str, chunks: dict[ChunkKey, IndexedChunk]) -> dict[ChunkKey, float]:
        scores: dict[ChunkKey, float] = {}
        for ranks in (self._vector_ranks(vector, chunks), self._text_ranks(q, chunks)):
            for key, rank in ranks.items():
                scores[key] = scores.get(key, 0.0) + 1 / (self.rrf_k + rank)
        return scores

    def _vector_ranks(self, vector: Vector, chunks: dict[ChunkKey, IndexedChunk]) -> dict[ChunkKey, int]:
        similarity = {key: cosine(vector, chunk.vector) for key, chunk in chunks.items()}
        nearest = sorted(similarity, key=lambda key: (-similarity[key], key))[: self.candidates]
        kept = [key for key in nearest if similarity[key] >= self.min_similarity]
        return {key: n for n, key in enumerate(kept, 1)}

    def _text_ranks(self, q: str, chunks: dict[ChunkKey, IndexedChunk]) -> dict[ChunkKey, int]:
        matched = {
            key: rank
            for key, chunk in chunks.items()
            if (rank := words.rank(q, f"{chunk.heading or ''} {chunk.text}")) is not None
        }
        best = sorted(matched, key=lambda key: (-matched[key], key))[: self.candidates]
        return {key: n for n, key in enumerate(best, 1)}

    def _hit(self, key: ChunkKey, chunk: IndexedChunk, score: float, vector: Vector, q: str) -> Hit:
        file = self.files[key[0]]
        return Hit(
            file_id=file.file_id,
            title=file.title,
            link=file.link or open_link(file.file_id),
            snippet=words.snippet(q, chunk.text),
            score=score,
            similarity=cosine(vector, chunk.vector),
            modified_time=file.modified_time,
            mime_type=file.mime_type,
            heading=chunk.heading,
        )


def cosine(a: Vector, b: Vector) -> float:
    """Cosine similarity, as 1 - pgvector's `<=>`."""
    return float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b)))


@dataclass
class FakeDirectory:
    """The GroupDirectory port on (member, group) pairs, as the groups sync stores them."""

    edges: set[tuple[str, str]] = field(default_factory=set)

    async def add(self, member: str, group: str) -> None:
        self.edges.add((member.lower(), group.lower()))

    async def groups_of(self, email: str | None, groups: Sequence[str]) -> tuple[str, ...]:
        own = {email.lower()} if email else set()
        held = {g.lower() for g in groups} | own
        while more := {group for member, group in self.edges if member in held} - held:
            held |= more
        return tuple(sorted(held - own))


@dataclass
class FakeApiKeys:
    """The ApiKeyStore port on keys made and revoked in memory, refused as shared.apikeys refuses."""

    keys: dict[str, apikeys.ApiKey] = field(default_factory=dict)  # token -> key

    async def create(
        self, email: str, groups: Sequence[str] = (), *, expires_at: datetime | None = None
    ) -> tuple[str, str]:
        """Make a key; return its id and its token."""
        identity = Identity.of(email, groups, "api-key")
        key_id = secrets.token_hex(6)
        token = f"{apikeys.PREFIX}{key_id}_{secrets.token_urlsafe(32)}"
        now = datetime.now(UTC)
        assert identity.email is not None
        self.keys[token] = apikeys.ApiKey(
            key_id, identity.email, identity.groups, None, now, expires_at, None, None
        )
        return key_id, token

    async def revoke(self, key_id: str) -> None:
        for token, key in self.keys.items():
            if key.id == key_id:
                self.keys[token] = replace(key, revoked_at=datetime.now(UTC))

    async def identity(self, token: str) -> Identity:
        key = self.keys.get(token)
        if key is None:
            raise InvalidCredentialsError("unknown or wrong API key")
        state = key.state(datetime.now(UTC))
        if state != "active":
            raise InvalidCredentialsError(f"API key {key.id} is {state}; ask for a new one")
        return Identity.of(key.email, key.groups, "api-key", key.id)
