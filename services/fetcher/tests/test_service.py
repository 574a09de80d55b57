"""The fetcher as a service: Drive emulator, real PostgreSQL, real broker, real Drive client."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from io import BytesIO
from typing import Any

import docx
import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.errors import ProducerClosed
from prometheus_client import REGISTRY
from reportlab.pdfgen import canvas

from drive_emulator import EmulatorControl
from fetcher.adapters.postgres import PostgresStore
from fetcher.files import REMOVED
from fetcher.handlers import Options, handle_drive_changed
from shared import mime
from shared.events import DriveChanged, FetchAction
from shared.kafka import Publisher

# The types of conftest.py's fixtures; test modules cannot import conftest (importlib mode).
Pipeline = Any
Client = Any
ServiceFactory = Any


def _pdf(text: str) -> bytes:
    buffer = BytesIO()
    pdf = canvas.Canvas(buffer)
    pdf.drawString(72, 720, text)
    pdf.save()
    return buffer.getvalue()


def _docx(heading: str, body: str) -> bytes:
    document = docx.Document()
    document.add_heading(heading, level=1)
    document.add_paragraph(body)
    buffer = BytesIO()
    document.save(buffer)
    return buffer.getvalue()


async def test_changes_over_several_pages_publish_each_file_once_and_store_the_new_cursor(
    service: Client, pipeline: Pipeline, drive_control: EmulatorControl
) -> None:
    await pipeline.start_cursor()
    folder = drive_control.create_folder("Team")
    created = [
        folder,
        drive_control.create_doc("Plan", "# Plan\n\n## Goals\n\nShip the index.", parents=[folder["id"]]),
        drive_control.create_sheet(
            "Budget", {"Q1": [["Item", "Cost"], ["GPU", 3]], "Q2": [["Item", "Cost"], ["CPU", 2]]}
        ),
        drive_control.create_slides("Kickoff", ["Welcome aboard", "Roadmap for spring"]),
        drive_control.upload("notes.txt", mime.PLAIN_TEXT, b"plain notes"),
        drive_control.upload("page.html", mime.HTML, b"<h1>Wiki</h1><p>Hello <b>there</b></p>"),
        drive_control.upload("report.pdf", mime.PDF, _pdf("Revenue grew")),
        drive_control.upload("memo.docx", mime.DOCX, _docx("Memo", "Lunch moved to noon.")),
    ]
    await pipeline.notify()
    await pipeline.caught_up()
    events = {event.file_id: event for event in await pipeline.fetched()}
    assert sorted(events) == sorted(file["id"] for file in created)
    texts = {events[file["id"]].metadata.name: events[file["id"]].text for file in created}
    assert texts == {
        "Team": None,
        "Plan": "# Plan\n\n## Goals\n\nShip the index.",
        "Budget": "## Q1\n\nItem | Cost\nGPU | 3\n\n## Q2\n\nItem | Cost\nCPU | 2",
        "Kickoff": "Welcome aboard\n\nRoadmap for spring",
        "notes.txt": "plain notes",
        "page.html": "# Wiki\n\nHello **there**",
        "report.pdf": "Revenue grew",
        "memo.docx": "# Memo\n\nLunch moved to noon.",
    }
    assert events[folder["id"]].action == FetchAction.METADATA
    plan = events[created[1]["id"]]
    assert plan.action == FetchAction.UPSERT
    assert plan.metadata is not None
    assert plan.metadata.parents == [folder["id"]]
    assert plan.version == int(created[1]["version"])

    ready = await service.get("/readyz")
    assert ready.status == 200, await ready.text()
    assert (await ready.json())["checks"]["drive"] == "ok"


async def test_drive_throttling_one_file_is_retried_by_the_client_then_on_its_own_schedule(
    start_service: ServiceFactory, pipeline: Pipeline, drive_control: EmulatorControl
) -> None:
    await pipeline.start_cursor()
    doc = drive_control.create_doc("Throttled", "# Still fetched")
    other = drive_control.create_doc("Unhindered", "# Not held up")
    export = f"/drive/v3/files/{doc['id']}/export"
    # The client tries 3 times per call; 4 refusals make it give up once: the file's failure is
    # recorded, the page goes on, and the retry schedule fetches the file shortly after.
    drive_control.fault(429, count=3, path_prefix=export)
    drive_control.fault(403, count=1, path_prefix=export, reason="userRateLimitExceeded")
    transient = {"kind": "transient", "error": "DriveRateLimited"}
    before = REGISTRY.get_sample_value("drive_index_fetch_failures_total", transient) or 0
    async with start_service(
        DRIVE_MAX_RETRIES="2", FETCHER_RETRY_SECONDS="0.2", FETCHER_RETRY_BASE_SECONDS="0.1"
    ):
        await pipeline.notify()
        await pipeline.caught_up()
        events = await pipeline.fetched_at_least(2)
    assert {(e.file_id, e.text) for e in events} == {
        (doc["id"], "# Still fetched"),
        (other["id"], "# Not held up"),
    }
    assert drive_control.faults() == []
    assert REGISTRY.get_sample_value("drive_index_fetch_failures_total", transient) == before + 1
    remaining = await pipeline.pool.fetchval(
        "SELECT count(*) FROM fetch_failures WHERE file_id = $1", doc["id"]
    )
    assert remaining == 0


async def test_trash_rename_and_unchanged_versions(
    service: Client, pipeline: Pipeline, drive_control: EmulatorControl
) -> None:
    start = await pipeline.start_cursor()
    binned = drive_control.create_doc("Old", "# Old")
    renamed = drive_control.create_doc("Draft", "# Draft")
    same = drive_control.create_doc("Stable", "# Stable")
    await pipeline.notify()
    await pipeline.caught_up()
    assert len(await pipeline.fetched()) == 3
    for file in (binned, renamed, same):
        await pipeline.index(file)

    drive_control.trash(binned["id"])
    drive_control.update_file(renamed["id"], name="Final")
    # Replay every change since the start, as a redelivered message would: `same` is unchanged.
    await pipeline.pool.execute("UPDATE sources SET page_token = $2 WHERE id = $1", pipeline.source_id, start)
    await pipeline.notify()
    await pipeline.caught_up()
    events = {event.file_id: event for event in await pipeline.fetched()}
    assert sorted(events) == sorted([binned["id"], renamed["id"]])
    assert events[binned["id"]].action == FetchAction.DELETE
    assert events[renamed["id"]].action == FetchAction.UPSERT
    assert events[renamed["id"]].metadata.name == "Final"
    assert events[renamed["id"]].version > int(renamed["version"])


async def test_files_too_large_or_unparsable_are_skipped_with_a_reason(
    start_service: ServiceFactory, pipeline: Pipeline, drive_control: EmulatorControl
) -> None:
    await pipeline.start_cursor()
    big_upload = drive_control.upload("dump.txt", mime.PLAIN_TEXT, b"x" * 5000)
    big_export = drive_control.create_doc("Huge", "# Huge")
    drive_control.fault(
        403, path_prefix=f"/drive/v3/files/{big_export['id']}/export", reason="exportSizeLimitExceeded"
    )
    broken = drive_control.upload("broken.pdf", mime.PDF, b"%PDF-1.4 truncated")
    photo = drive_control.upload("photo.png", "image/png", b"\x89PNG\r\n")
    long_doc = drive_control.create_doc("Long", "# Long\n\n" + "word " * 300)
    async with start_service(FETCHER_MAX_FILE_BYTES="4000", FETCHER_INLINE_TEXT_LIMIT="1000"):
        await pipeline.notify()
        await pipeline.caught_up()
    events = {event.file_id: event for event in await pipeline.fetched()}
    reasons = {file_id: (event.action, event.reason) for file_id, event in events.items()}
    assert reasons[big_upload["id"]] == (FetchAction.SKIPPED, "too large: 4.9 KB exceeds the 3.9 KB limit")
    assert reasons[big_export["id"]] == (FetchAction.SKIPPED, "too large: exceeds Drive's 10 MB export limit")
    assert reasons[broken["id"]][0] == FetchAction.SKIPPED
    assert reasons[broken["id"]][1].startswith("unparsable PDF")
    assert reasons[photo["id"]] == (FetchAction.SKIPPED, "unsupported type image/png")
    claimed = events[long_doc["id"]]
    assert (claimed.action, claimed.text) == (FetchAction.UPSERT, None)
    stored = await pipeline.pool.fetchval(
        "SELECT text FROM fetched_texts WHERE content_hash = $1", claimed.text_ref
    )
    assert stored.startswith("# Long\n\nword word")


async def test_cursor_is_not_moved_when_publishing_fails_so_redelivery_fetches_again(
    kafka_bootstrap: str, pipeline: Pipeline, drive_control: EmulatorControl
) -> None:
    start = await pipeline.start_cursor()
    doc = drive_control.create_doc("Pending", "# Pending")
    store = PostgresStore(pipeline.pool)
    event = DriveChanged(source_id=pipeline.source_id, resource_state="change", received_at=datetime.now(UTC))
    options = Options(page_size=2)
    stopped = AIOKafkaProducer(
        bootstrap_servers=kafka_bootstrap, enable_idempotence=False, request_timeout_ms=2000
    )
    await stopped.start()
    await stopped.stop()
    with pytest.raises(ProducerClosed):
        await handle_drive_changed(
            event,
            drive=pipeline.drive,
            store=store,
            publisher=Publisher(stopped, pipeline.prefix),
            options=options,
        )
    assert await pipeline.page_token() == start

    await handle_drive_changed(
        event, drive=pipeline.drive, store=store, publisher=pipeline.publisher, options=options
    )
    assert [e.file_id for e in await pipeline.fetched()] == [doc["id"]]
    assert await pipeline.page_token() == await pipeline.drive.get_start_page_token()


async def test_reconcile_fetches_what_is_newer_and_deletes_what_is_gone(
    start_service: ServiceFactory, pipeline: Pipeline, drive_control: EmulatorControl
) -> None:
    async with start_service(FETCHER_RECONCILE_MAX_DELETE_SHARE="1"):  # one of two indexed files goes
        await _reconcile(pipeline, drive_control)


async def _reconcile(pipeline: Pipeline, drive_control: EmulatorControl) -> None:
    indexed = drive_control.create_doc("Indexed", "# Indexed")
    fresh = drive_control.create_doc("Fresh", "# Fresh")
    drive_control.create_shortcut("Link to fresh", fresh["id"])
    await pipeline.index(indexed)
    gone = {"id": f"gone-{pipeline.source_id}", "name": "Gone", "mimeType": mime.PLAIN_TEXT, "version": "3"}
    await pipeline.index(gone)
    await pipeline.notify("reconcile")
    later = drive_control.create_doc("Later", "# Later")
    await pipeline.notify()
    await pipeline.caught_up()
    # The cursor may catch up before the reconcile has published everything (it stores Drive's
    # current token first), so read events until the deletion arrives too.
    expected = {fresh["id"], gone["id"], later["id"]}
    events: dict[str, Any] = {}
    deadline = time.monotonic() + 30
    while not expected <= events.keys():
        assert time.monotonic() < deadline, f"only {sorted(events)} of {sorted(expected)} were published"
        events.update({event.file_id: event for event in await pipeline.fetched()})
        await asyncio.sleep(0.05)
    assert sorted(events) == sorted(expected)
    assert events[fresh["id"]].text == "# Fresh"
    assert (events[gone["id"]].action, events[gone["id"]].version) == (FetchAction.DELETE, REMOVED)
