"""API keys (shared.apikeys) as the ApiKeyStore port."""

from __future__ import annotations

import asyncpg

from search.identity import Identity, InvalidCredentialsError
from shared import apikeys


class PostgresApiKeys:
    """Check `di_…` bearer tokens against the `api_keys` table."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def identity(self, token: str) -> Identity:
        try:
            key = await apikeys.verify(self.pool, token)
        except apikeys.ApiKeyError as exc:
            raise InvalidCredentialsError(str(exc)) from None
        return Identity.of(key.email, key.groups, "api-key", key.id)
