"""Folder subtrees: a `folder:` source keeps what is below its folder, an excluded folder keeps out
everything below it, and moving a folder moves its whole subtree in or out of the index."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime

import asyncpg
import pytest

from drive_emulator import EmulatorControl
from shared.events import DocFetched, DriveChanged, FetchAction

from .conftest import DEADLINE_SECONDS, Pipeline, ServiceFactory

KEPT = (FetchAction.UPSERT, FetchAction.METADATA, FetchAction.SKIPPED)


async def read(pipeline: Pipeline, source_id: str, state: str) -> None:
    await source(pipeline.pool, source_id)
    event = DriveChanged(source_id=source_id, resource_state=state, received_at=datetime.now(UTC))  # type: ignore[arg-type]
    await pipeline.publisher.publish(event)


async def source(pool: asyncpg.Pool, source_id: str) -> None:
    await pool.execute("INSERT INTO sources (id) VALUES ($1) ON CONFLICT DO NOTHING", source_id)


async def until(pipeline: Pipeline, done: set[tuple[str, FetchAction]]) -> list[DocFetched]:
    """Read doc.fetched until each (file, action) pair arrived; index what is kept, as the embedder would."""
    events: list[DocFetched] = []
    deadline = time.monotonic() + DEADLINE_SECONDS
    while not done <= {(e.file_id, e.action) for e in events}:
        missing = done - {(e.file_id, e.action) for e in events}
        assert time.monotonic() < deadline, f"never published: {sorted(missing)}"
        new = await pipeline.fetched()
        await embed(pipeline.pool, new)
        events += new
        await asyncio.sleep(0.1)
    return events


async def embed(pool: asyncpg.Pool, events: list[DocFetched]) -> None:
    """Record kept files with their parents, and removals, as the embedder does."""
    for event in events:
        if event.action in KEPT and event.metadata:
            await pool.execute(
                """INSERT INTO documents (file_id, source_id, name, mime_type, version, parents)
                   VALUES ($1, $2, $3, $4, $5, $6)
                   ON CONFLICT (file_id) DO UPDATE SET version = $5, parents = $6""",
                event.file_id,
                event.source_id,
                event.metadata.name,
                event.metadata.mime_type,
                event.version,
                event.metadata.parents,
            )
            await pool.execute(
                """INSERT INTO document_sources (file_id, source_id) VALUES ($1, $2)
                   ON CONFLICT (file_id, source_id) DO UPDATE SET removed = false""",
                event.file_id,
                event.source_id,
            )
        elif event.action is FetchAction.DELETE:
            await pool.execute(
                "UPDATE document_sources SET removed = true WHERE file_id = $1 AND source_id = $2",
                event.file_id,
                event.source_id,
            )


def kept(events: list[DocFetched]) -> set[str]:
    return {e.file_id for e in events if e.action in KEPT}


async def test_a_folder_source_follows_its_subtree_as_folders_move(
    start_service: ServiceFactory, pipeline: Pipeline, drive_control: EmulatorControl
) -> None:
    team = drive_control.create_folder("team")["id"]
    specs = drive_control.create_folder("specs", parents=[team])["id"]
    deep = drive_control.create_doc("deep spec", "# deep\n", parents=[specs])["id"]
    top = drive_control.create_doc("team notes", "# notes\n", parents=[team])["id"]
    elsewhere = drive_control.create_folder("elsewhere")["id"]
    outside = drive_control.create_doc("outside", "# outside\n", parents=[elsewhere])["id"]
    later = drive_control.create_folder("later", parents=[elsewhere])["id"]
    joined = drive_control.create_doc("joins later", "# later\n", parents=[later])["id"]
    source_id = f"folder:{team}"

    async with start_service(FETCHER_POLL_SECONDS="0"):
        await read(pipeline, source_id, "backfill")
        events = await until(pipeline, {(deep, FetchAction.UPSERT), (top, FetchAction.UPSERT)})
        await asyncio.sleep(0.5)
        events += await pipeline.fetched()
        assert {team, specs, deep, top} <= kept(events)
        assert not {elsewhere, outside, later, joined} & kept(events)

        # specs moves out: its whole subtree leaves, though Drive announces only the folder.
        drive_control.update_file(specs, parents=[elsewhere])
        # later moves in: what it holds comes in, though Drive announces only the folder.
        drive_control.update_file(later, parents=[team])
        await read(pipeline, source_id, "change")
        moved = await until(
            pipeline,
            {(specs, FetchAction.DELETE), (deep, FetchAction.DELETE), (joined, FetchAction.UPSERT)},
        )
    assert {later, joined} <= kept(moved)
    assert outside not in kept(moved)


async def test_an_excluded_folder_keeps_out_its_whole_subtree(
    start_service: ServiceFactory, pipeline: Pipeline, drive_control: EmulatorControl
) -> None:
    private = drive_control.create_folder("private")["id"]
    nested = drive_control.create_folder("nested", parents=[private])["id"]
    secret = drive_control.create_doc("nested secret", "# secret\n", parents=[nested])["id"]
    public = drive_control.create_doc("public", "# public\n")["id"]
    await source(pipeline.pool, pipeline.source_id)
    await pipeline.start_cursor()

    async with start_service(FETCHER_POLL_SECONDS="0", DRIVE_EXCLUDE_FOLDERS=private):
        await read(pipeline, pipeline.source_id, "backfill")
        events = await until(pipeline, {(public, FetchAction.UPSERT), (secret, FetchAction.DELETE)})
        assert not {private, nested, secret} & kept(events)

        # A document made two levels down later stays out too.
        later = drive_control.create_doc("later secret", "# later\n", parents=[nested])["id"]
        await read(pipeline, pipeline.source_id, "change")
        events = await until(pipeline, {(later, FetchAction.DELETE)})
        assert later not in kept(events)


@pytest.mark.parametrize("spelling", ["folder:abc?as=Ann@Corp.Example", "folder:abc?as=ann@corp.example"])
def test_folder_sources_parse_to_one_spelling(spelling: str) -> None:
    from drive.sources import SourceKind, SourceRef

    ref = SourceRef.parse(spelling)
    assert (ref.id, ref.kind, ref.folder_id, ref.subject, ref.drive_id) == (
        "folder:abc?as=ann@corp.example",
        SourceKind.FOLDER,
        "abc",
        "ann@corp.example",
        None,
    )
