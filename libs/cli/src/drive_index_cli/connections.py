"""What the commands connect to, from the environment: the database, the broker, Drive."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

import asyncpg

from shared import db, kafka
from shared.settings import CommonSettings, load

if TYPE_CHECKING:
    from drive.clients import DriveClients


class DatabaseSettings(CommonSettings):
    """Commands that only use the database run without KAFKA_BOOTSTRAP_SERVERS."""

    kafka_bootstrap_servers: str = ""


def database_url() -> str:
    return load(DatabaseSettings).database_url


@asynccontextmanager
async def open_pool() -> AsyncIterator[asyncpg.Pool]:
    pool = await db.create_pool(database_url(), max_size=2)
    try:
        yield pool
    finally:
        await pool.close()


@asynccontextmanager
async def open_drives(pool: asyncpg.Pool) -> AsyncIterator[DriveClients]:
    """Drive clients per source: each source is read and watched as its user, on its drive.

    They spend from the call budgets the fetchers spend from, so a renewal of a thousand channels
    does not starve indexing of its quota.
    """
    from drive.client import DriveSettings
    from drive.clients import DriveClients

    async with DriveClients(load(DriveSettings), pool) as clients:
        yield clients


@asynccontextmanager
async def open_pipeline() -> AsyncIterator[tuple[asyncpg.Pool, kafka.Publisher]]:
    """The database and a publisher to the pipeline's topics."""
    settings = load(CommonSettings)
    pool = await db.create_pool(settings.database_url, max_size=2)
    producer = kafka.producer_from(settings)
    try:
        await producer.start()
        yield pool, kafka.Publisher(producer, settings.kafka_topic_prefix)
    finally:
        await producer.stop()
        await pool.close()
