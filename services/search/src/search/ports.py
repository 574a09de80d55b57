"""What the handlers need from the outside world, as types; the wiring picks the adapters."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from embeddings import Vector
from search.identity import Identity
from search.query import SearchQuery


@dataclass(frozen=True)
class Hit:
    """One file in the results, represented by its best chunk."""

    file_id: str
    title: str
    link: str
    snippet: str
    score: float
    similarity: float
    modified_time: datetime | None
    mime_type: str
    heading: str | None


def open_link(file_id: str) -> str:
    """The Drive address that opens any file: the link of a hit whose file came without webViewLink."""
    return f"https://drive.google.com/open?id={file_id}"


class SearchIndex(Protocol):
    """Ranked files for a query, among those readable by any of `principals` only."""

    async def search(self, vector: Vector, query: SearchQuery, principals: Sequence[str]) -> list[Hit]: ...


class GroupDirectory(Protocol):
    """Every group an address (or one of its groups) belongs to, directly or through other groups."""

    async def groups_of(self, email: str | None, groups: Sequence[str]) -> tuple[str, ...]: ...


class ApiKeyStore(Protocol):
    """The identity an API key stands for; raises InvalidCredentialsError for any other token."""

    async def identity(self, token: str) -> Identity: ...
