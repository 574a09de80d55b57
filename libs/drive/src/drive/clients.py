"""One Drive client per identity a source needs: the user it impersonates, the shared drive it follows."""

from __future__ import annotations

from typing import Self

import asyncpg
from google.auth.exceptions import RefreshError

from drive.budget import PostgresBudget
from drive.client import DriveClient, DriveForbidden, DriveNotFound, DriveSettings, DriveUnauthorized
from drive.sources import SourceRef

# What reading a `user:` or `drive:` source raises when its identity cannot read it: the user is
# suspended or deleted (the token grant is refused), or no longer a member of the drive, or the
# drive is gone. Recorded on the source; the others carry on.
SOURCE_REFUSED: tuple[type[Exception], ...] = (RefreshError, DriveUnauthorized, DriveForbidden, DriveNotFound)


class DriveClients:
    """Hand out the Drive client that reads a source, built once per (subject, drive) and kept.

    A `user:` source acts as that user; a `drive:` source acts as its named member or GOOGLE_SUBJECT
    and is scoped to the drive; any other source uses the configured identity's whole feed.
    """

    def __init__(self, settings: DriveSettings, pool: asyncpg.Pool | None = None) -> None:
        """With `pool`, every client spends from the per-minute call budgets shared in PostgreSQL."""
        self._settings = settings
        self._budget = (
            None
            if pool is None
            else PostgresBudget(
                pool,
                per_minute=settings.drive_calls_per_minute,
                per_user_per_minute=settings.drive_calls_per_minute_per_user,
            )
        )
        self._clients: dict[tuple[str | None, str | None], DriveClient] = {}

    def for_source(self, source_id: str) -> DriveClient:
        """Return the client for `source_id` (InvalidSourceError, permanent, if the id is malformed)."""
        ref = SourceRef.parse(source_id)
        subject = ref.subject or self._settings.google_subject
        key = (subject, ref.drive_id)
        client = self._clients.get(key)
        if client is None:
            settings = self._settings.model_copy(update={"google_subject": subject})
            client = self._clients[key] = DriveClient.from_settings(
                settings, drive_id=ref.drive_id, budget=self._budget
            )
        return client

    @property
    def default(self) -> DriveClient:
        """The configured identity's client (GOOGLE_SUBJECT, no drive scope)."""
        return self.for_source("default")

    async def close(self) -> None:
        """Close every client handed out."""
        clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            await client.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.close()
