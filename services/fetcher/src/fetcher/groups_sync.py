"""Copy Google Groups membership from the Directory API on a schedule, for search to expand."""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web

from drive.directory import DirectoryClient
from drive.groups import sync_groups
from fetcher.settings import FetcherSettings
from shared.web import POOL, CleanupContext, every


def groups_sync(settings: FetcherSettings) -> CleanupContext:
    """Sync groups at start and every GROUPS_SYNC_SECONDS, when a directory is configured.

    A refusal (no admin rights) is logged each round and changes nothing: search then uses the
    groups each caller's identity carries.
    """

    async def context(app: web.Application) -> AsyncIterator[None]:
        if not settings.directory_configured or settings.groups_sync_seconds == 0:
            yield
            return
        async with DirectoryClient.from_settings(settings) as directory:

            async def sync(app: web.Application) -> None:
                await sync_groups(directory, app[POOL])

            async for _ in every(settings.groups_sync_seconds, "sync groups", sync, first_after=0)(app):
                yield

    return context
