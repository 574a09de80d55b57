"""A test's files, written into the fake index or into PostgreSQL by the same calls."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Protocol

import asyncpg

from embeddings import HashingEmbedder
from shared import mime
from shared.access import Permission, readers

from .fakes import IndexedChunk, IndexedFile

# Files of tests that do not care about sharing are findable by anyone.
ANYONE = [{"type": "anyone", "role": "reader", "allow_file_discovery": True}]


class IndexWriter(Protocol):
    """Where a corpus puts its files: FakeIndex, or SqlWriter's tables."""

    async def put(self, file: IndexedFile) -> None: ...

    async def set_readers(self, file_id: str, readers: Sequence[str]) -> None: ...

    async def drop_readers(self, file_id: str) -> None: ...


class Corpus:
    """Documents, chunks and readers of one test, under ids nobody else uses."""

    def __init__(self, writer: IndexWriter, embedder: HashingEmbedder) -> None:
        self.writer, self.embedder = writer, embedder
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
        from them as the fetcher would. None: shared with anyone, discoverable.
        """
        file_id = self.ids[key] = f"{key}-{uuid.uuid4().hex[:8]}"
        pairs = [chunk if isinstance(chunk, tuple) else (None, chunk) for chunk in chunks]
        vectors = await self.embedder.embed_documents([f"{h or ''} {text}" for h, text in pairs])
        file = IndexedFile(
            file_id=file_id,
            title=key.replace("-", " ").title(),
            mime_type=mime_type,
            link=f"https://docs.google.com/document/d/{file_id}/edit" if link == "default" else link,
            parents=tuple(self.ids[parent] for parent in parents),
            modified_time=modified or datetime(2024, 6, 1, tzinfo=UTC),
            chunks=tuple(IndexedChunk(h, t, v) for (h, t), v in zip(pairs, vectors, strict=True)),
        )
        await self.writer.put(file)
        await self.share(key, ANYONE if permissions is None else permissions)
        return file_id

    async def share(self, key: str, permissions: Sequence[Mapping[str, Any]]) -> None:
        """Set who may find a file, as the fetcher does after reading its permissions."""
        granted = readers(Permission.model_validate(p) for p in permissions)
        await self.writer.set_readers(self.ids[key], granted)

    async def forget_readers(self, key: str) -> None:
        """Leave a file without readers, as before the fetcher first wrote them."""
        await self.writer.drop_readers(self.ids[key])


class SqlWriter:
    """Writes the documents, chunks and file_access rows the fetcher and the embedder write."""

    def __init__(self, pool: asyncpg.Pool, source_id: str, model: str) -> None:
        self.pool, self.source_id, self.model = pool, source_id, model

    async def put(self, file: IndexedFile) -> None:
        await self.pool.execute(
            """INSERT INTO documents (file_id, source_id, name, mime_type, web_view_link, parents,
                                      modified_time, version, embedding_model)
               VALUES ($1, $2, $3, $4, $5, $6, $7, 1, $8)""",
            file.file_id,
            self.source_id,
            file.title,
            file.mime_type,
            file.link,
            list(file.parents),
            file.modified_time,
            self.model,
        )
        await self.pool.executemany(
            """INSERT INTO chunks (file_id, position, heading, text, token_count, model, embedding)
               VALUES ($1, $2, $3, $4, $5, $6, $7)""",
            [
                (file.file_id, n, c.heading, c.text, len(c.text.split()), self.model, c.vector)
                for n, c in enumerate(file.chunks)
            ],
        )

    async def set_readers(self, file_id: str, readers: Sequence[str]) -> None:
        await self.pool.execute(
            """INSERT INTO file_access (file_id, version, readers) VALUES ($1, 1, $2)
               ON CONFLICT (file_id) DO UPDATE SET readers = EXCLUDED.readers""",
            file_id,
            list(readers),
        )

    async def drop_readers(self, file_id: str) -> None:
        await self.pool.execute("DELETE FROM file_access WHERE file_id = $1", file_id)
