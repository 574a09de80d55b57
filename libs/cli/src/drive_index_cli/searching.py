"""`drive-index search "query"`: ask the search service, as the key in DRIVE_INDEX_API_KEY."""

from __future__ import annotations

import argparse

from drive_index_cli import checks


async def search_command(args: argparse.Namespace) -> int:
    results = await checks.search(args.url.rstrip("/"), args.query, args.k)
    for rank, result in enumerate(results, 1):
        print(f"{rank}. {result['title']}  ({result['score']:.3f})\n   {result['link'] or result['file_id']}")
        print("   " + " ".join(str(result.get("snippet", "")).split())[:200])
    if not results:
        print("no results")
    return 0
