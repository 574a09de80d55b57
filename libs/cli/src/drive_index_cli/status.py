"""`drive-index status FILE`: everything the index knows about one file, in one place.

Each table that holds something about a file has one owner; this reads them all, so an operator
asking "why is this file not found?" sees its indexed version, who may find it, a failure being
retried, or a deletion, without knowing the schema.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

import asyncpg

from drive_index_cli.connections import open_pool

# (what the row means, table); tables that a database not yet migrated lacks are passed over.
SOURCES = (
    ("indexed", "documents"),
    ("who may find it", "file_access"),
    ("failing", "fetch_failures"),
    ("deleted", "tombstones"),
)


async def status_command(args: argparse.Namespace) -> int:
    async with open_pool() as pool, pool.acquire() as connection:
        print(render(args.file_id, await file_status(connection, args.file_id)))
    return 0


async def file_status(connection: asyncpg.Connection, file_id: str) -> dict[str, dict[str, Any] | None]:
    """Read every row about the file; None where a table has none."""
    found: dict[str, dict[str, Any] | None] = {}
    for label, table in SOURCES:
        if not await connection.fetchval("SELECT to_regclass($1) IS NOT NULL", table):
            continue
        # The table names are the constants above, never input.
        query = f"SELECT to_jsonb(t) - 'file_id' FROM {table} t WHERE file_id = $1"
        row = await connection.fetchval(query, file_id)
        found[label] = json.loads(row) if row else None
    sources = await connection.fetchval(
        """SELECT jsonb_object_agg(source_id, CASE WHEN removed THEN 'no longer' ELSE 'yes' END)
             FROM document_sources WHERE file_id = $1""",
        file_id,
    )
    found["seen through sources"] = json.loads(sources) if sources else None
    chunks = await connection.fetchval("SELECT count(*) FROM chunks WHERE file_id = $1", file_id)
    if found.get("indexed") is not None:
        found["indexed"] = {**(found["indexed"] or {}), "chunks": chunks}
    return found


def render(file_id: str, status: dict[str, dict[str, Any] | None]) -> str:
    """Print the rows as an indented report, with a one-line verdict first."""
    lines = [f"{file_id}: {verdict(status)}"]
    for label, row in status.items():
        lines.append(f"  {label}:" + ("" if row else " -"))
        for key, value in (row or {}).items():
            lines.append(f"    {key}: {value}")
    return "\n".join(lines)


def verdict(status: dict[str, dict[str, Any] | None]) -> str:
    """Say in a few words whether and why the file can be found."""
    indexed, access, failing = status.get("indexed"), status.get("who may find it"), status.get("failing")
    if failing:
        return f"{failing['kind']} failure at version {failing['version']}: {failing['reason']}"
    if indexed is None:
        return "deleted" if status.get("deleted") else "not in the index"
    if indexed.get("skip_reason"):
        return f"indexed without text: {indexed['skip_reason']}"
    if not access or not access.get("readers"):
        reason = (access or {}).get("reason") or "no readers known"
        return f"indexed, but nobody can find it ({reason})"
    return f"searchable by {len(access['readers'])} principal(s), {indexed['chunks']} chunk(s)"
