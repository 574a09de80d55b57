"""`drive-index backfill` and `reconcile`: queue a full pass over a source, or show what one would delete."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime

from drive_index_cli.connections import open_drives, open_pool
from shared import kafka
from shared.events import DriveChanged
from shared.settings import CommonSettings, load


async def backfill_command(args: argparse.Namespace) -> int:
    return await _queue_pass(args.source, "backfill")


async def reconcile_command(args: argparse.Namespace) -> int:
    if args.dry_run:
        return await _reconcile_plan(args)
    return await _queue_pass(args.source, "reconcile", force=args.force)


async def _queue_pass(source_id: str, state: str, *, force: bool = False) -> int:
    settings = load(CommonSettings)
    producer = kafka.producer_from(settings)
    await producer.start()
    try:
        event = DriveChanged(
            source_id=source_id, resource_state=state, received_at=datetime.now(UTC), force=force
        )
        await kafka.Publisher(producer, settings.kafka_topic_prefix).publish(event)
    finally:
        await producer.stop()
    print(f"queued a {state} of source {source_id!r}; the fetcher's log shows its progress")
    return 0


async def _reconcile_plan(args: argparse.Namespace) -> int:
    """Print what a reconcile of the source would delete, changing nothing."""
    from drive import reconcile

    async with open_pool() as pool, open_drives(pool) as drives:
        drive = drives.for_source(args.source)
        rows = await pool.fetch(
            "SELECT file_id FROM document_sources WHERE source_id = $1 AND NOT removed", args.source
        )
        indexed = {row["file_id"] for row in rows}
        print(f"listing every file of source {args.source!r} ({len(indexed)} indexed)...", flush=True)
        plan = await reconcile.plan(drive, indexed, max_delete_share=args.max_delete_share, force=args.force)
    print(f"listed {len(plan.listed)} files; {len(plan.gone) + len(plan.kept)} indexed files were not listed")
    print(f"  still in Drive (kept): {len(plan.kept)}")
    print(f"  gone from Drive (would delete): {len(plan.gone)}")
    for file_id in plan.gone[:20]:
        print(f"    {file_id}")
    if len(plan.gone) > 20:
        print(f"    ... and {len(plan.gone) - 20} more")
    print(f"refused: {plan.refusal}" if plan.refusal else "a reconcile would do this")
    return 0
