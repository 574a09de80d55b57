"""Drive calls per minute, counted in PostgreSQL so that every replica and the CLI share one budget.

Google counts Drive queries per project and per user (each impersonated account, or the service
account itself) per minute, and answers 403/429 past either quota. Backing off after the fact
costs a failed call and a wait per request, and with a thousand sources it is every request. So
each call first takes a unit from this minute's budget of the project and of the identity it acts
as; when either is spent, the caller sleeps until the next minute starts. Calls past the budget
are therefore spread over time rather than refused.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import asyncpg
import structlog
from prometheus_client import Counter

log = structlog.get_logger(__name__)

WINDOW_SECONDS = 60  # Google's quotas are per minute
PROJECT = "project"
# Budget rows older than this are deleted when a new minute starts.
KEEP_SECONDS = 5 * WINDOW_SECONDS
# Callers that waited for the same minute start within this many seconds of it, not all at once.
START_SPREAD_SECONDS = 5.0

BUDGET_WAITS = Counter(
    "drive_index_drive_budget_waits_total",
    "Drive calls that waited for the next minute because the budget of the project or user was spent",
    ["budget"],
)


class CallBudget(Protocol):
    """What a Drive client asks before each call."""

    async def spend(self, user: str) -> None:
        """Return once one more call as `user` fits this minute's budgets (waiting if it must)."""
        ...


@dataclass(frozen=True)
class UserBudget:
    """A budget bound to the identity one Drive client acts as."""

    budget: CallBudget
    user: str

    async def spend(self) -> None:
        await self.budget.spend(self.user)


class PostgresBudget:
    """Per-minute call budgets for the project and for each user, shared through one table.

    A limit of 0 means no budget of that kind.
    """

    def __init__(
        self,
        pool: asyncpg.Pool,
        *,
        per_minute: int,
        per_user_per_minute: int,
        clock: Callable[[], float] = time.time,
        spread_seconds: float = START_SPREAD_SECONDS,
    ) -> None:
        self._pool = pool
        self._spread = spread_seconds
        self._limits = {PROJECT: per_minute, "user": per_user_per_minute}
        self._clock = clock

    async def spend(self, user: str) -> None:
        keys = {key: limit for key, limit in self._keys(user).items() if limit > 0}
        if not keys:
            return
        while True:
            now = self._clock()
            window = int(now // WINDOW_SECONDS) * WINDOW_SECONDS
            full = await self._take(keys, window)
            if full is None:
                return
            BUDGET_WAITS.labels(PROJECT if full == PROJECT else "user").inc()
            delay = window + WINDOW_SECONDS - now + random.uniform(0, self._spread)
            log.info("drive.budget_spent", budget=full, wait_seconds=round(delay, 1))
            await asyncio.sleep(delay)

    def _keys(self, user: str) -> dict[str, int]:
        return {PROJECT: self._limits[PROJECT], f"user:{user}": self._limits["user"]}

    async def _take(self, limits: dict[str, int], window: int) -> str | None:
        """Take one call from every budget this minute, or none; return the first that was spent."""
        keys = sorted(limits)  # one lock order for every caller: no deadlocks between replicas
        try:
            async with self._pool.acquire() as connection, connection.transaction():
                rows = await connection.fetch(
                    """INSERT INTO drive_call_budget AS b (key, window_start, calls)
                       SELECT key, to_timestamp($2), 1 FROM unnest($1::text[]) AS key
                       ON CONFLICT (key, window_start) DO UPDATE SET calls = b.calls + 1
                         WHERE b.calls < ($3::int[])[array_position($1::text[], b.key)]
                       RETURNING key, calls""",
                    keys,
                    window,
                    [limits[key] for key in keys],
                )
                taken = {row["key"]: row["calls"] for row in rows}
                if len(taken) < len(keys):
                    # Raised inside the transaction, so the units taken from the others are given back.
                    raise _SpentError(min(set(keys) - set(taken)))
                if taken.get(PROJECT) == 1:  # this call opened the minute: drop the old ones
                    await connection.execute(
                        "DELETE FROM drive_call_budget WHERE window_start < to_timestamp($1)",
                        window - KEEP_SECONDS,
                    )
        except _SpentError as spent:
            return spent.key
        return None


class _SpentError(Exception):
    """A budget had no call left this minute."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key
