"""Group membership from the synced Directory (`group_members`), nested groups expanded."""

from __future__ import annotations

from collections.abc import Sequence

import asyncpg

# Start from the caller's address and the groups their identity names, then follow member -> group
# edges to a fixed point. UNION (not UNION ALL) drops rows already reached, so cycles end.
# The groups sync stores addresses lower-cased, as the caller's are.
_NESTED_GROUPS = """
WITH RECURSIVE held(address) AS (
    SELECT unnest($1::text[])
    UNION
    SELECT m.group_email FROM group_members m JOIN held h ON m.member_email = h.address
)
SELECT address FROM held WHERE address <> ALL($2::text[]) ORDER BY address
"""


class PostgresDirectory:
    """The GroupDirectory port on the `group_members` table."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def groups_of(self, email: str | None, groups: Sequence[str]) -> tuple[str, ...]:
        """The identity's groups and every group reached from the address or them, sorted."""
        start = [g.lower() for g in groups] + ([email.lower()] if email else [])
        if not start:
            return ()
        rows = await self.pool.fetch(_NESTED_GROUPS, start, [email.lower()] if email else [])
        return tuple(row["address"] for row in rows)
