"""Fixtures for the embedder's tests: the index on real PostgreSQL, a model that needs no torch."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import asyncpg
import pytest

from devstack.fakes import RecordingPublisher
from embedder.adapters.index_store import PostgresIndexStore
from embedder.handlers import Chunking, handle_doc_fetched
from embeddings import HashingEmbedder
from shared.events import DocFetched, FetchAction, FileMetadata

# Deterministic vectors of MiniLM's size under a name of their own (no HNSW index is built for it).
TEST_MODEL = "test-hash-384"

HANDBOOK = """# Handbook

Welcome to the team handbook. It explains how we work together.

## Leave

Employees get 25 days of paid leave per year. Up to five unused days carry over into the next
year. Requests go through the HR portal at least two weeks ahead. Sick leave is separate and
needs a doctor's note after three days.

## Expenses

Keep every receipt. Travel is booked through the travel desk; economy class for flights under
six hours. Claims are paid with the next salary.
"""


@dataclass
class Harness:
    """The handler bound to the real index store, a hashing model and a recording publisher."""

    pool: asyncpg.Pool
    store: PostgresIndexStore
    embedder: HashingEmbedder
    publisher: RecordingPublisher
    chunking: Chunking = field(default_factory=lambda: Chunking(max_tokens=40, overlap_tokens=8))

    handbook = HANDBOOK

    @staticmethod
    def metadata(name: str = "Handbook", **overrides: Any) -> FileMetadata:
        """Drive metadata as the fetcher sends it."""
        fields: dict[str, Any] = {
            "name": name,
            "mime_type": "application/vnd.google-apps.document",
            "web_view_link": "https://docs.google.com/document/d/x/edit",
            "parents": ["folder-1"],
            "modified_time": datetime(2025, 3, 1, 12, 0, tzinfo=UTC),
            "size": 1234,
            **overrides,
        }
        return FileMetadata(**fields)

    def event(
        self, file_id: str, version: int, action: FetchAction = FetchAction.UPSERT, **fields: Any
    ) -> DocFetched:
        """A doc.fetched event for the file; upserts carry the handbook unless told otherwise."""
        defaults: dict[str, Any] = {
            "metadata": self.metadata(),
            "source_id": "source-embedder-tests",
            "fetched_at": datetime.now(UTC),
        }
        if action == FetchAction.UPSERT and "text_ref" not in fields:
            defaults["text"] = HANDBOOK
        return DocFetched(
            file_id=file_id,
            action=action,
            version=version,
            **{**defaults, **fields},
        )

    async def handle(self, event: DocFetched) -> None:
        await handle_doc_fetched(
            event, store=self.store, embedder=self.embedder, publisher=self.publisher, chunking=self.chunking
        )

    async def document(self, file_id: str) -> dict[str, Any] | None:
        record = await self.pool.fetchrow("SELECT * FROM documents WHERE file_id = $1", file_id)
        return dict(record) if record else None

    async def chunks(self, file_id: str) -> list[dict[str, Any]]:
        records = await self.pool.fetch(
            "SELECT *, tsv::text AS tsv FROM chunks WHERE file_id = $1 ORDER BY position", file_id
        )
        # pgvector's codec reads vectors as Vector objects; tests compare plain lists.
        return [{**dict(r), "embedding": r["embedding"].to_list()} for r in records]


@pytest.fixture
async def harness(pool: asyncpg.Pool) -> Harness:
    """A fresh handler harness on the session's database."""
    return Harness(pool, PostgresIndexStore(pool), HashingEmbedder(TEST_MODEL, 384), RecordingPublisher())


@pytest.fixture
def file_id() -> str:
    """A Drive file id of this test's own."""
    return f"file-{uuid.uuid4().hex[:12]}"
