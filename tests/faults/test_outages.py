"""Long outages while people keep editing: nothing indexed disappears, every edit arrives afterwards.

Drive refusing our credentials for 90 s, and PostgreSQL gone for two minutes. Both are waited out:
no message is dead-lettered, no file is marked skipped or unreadable, and within a minute of the
recovery every edit made during the outage is searchable.
"""

from __future__ import annotations

import time

import pytest

from tests.faults.corpus import create_docs, handbook_page, marker
from tests.faults.pipeline import Pipeline, Report

pytestmark = [pytest.mark.fault, pytest.mark.slow]

DEADLINE_SECONDS = 150.0
RECOVERY_SECONDS = 60.0


def edit_during(pipeline: Pipeline, docs: dict[str, str], name: str, seconds: float) -> dict[str, str]:
    """Edit every Doc (a new marker word each) spread over `seconds`; return {file id: new marker}."""
    edited: dict[str, str] = {}
    pause = seconds / (len(docs) + 1)
    for number, file_id in enumerate(docs):
        time.sleep(pause)
        word = marker(name, number)
        pipeline.drive.update_file(file_id, content=handbook_page(word, 2, number))
        edited[file_id] = word
    time.sleep(pause)
    return edited


def settled(pipeline: Pipeline, docs: dict[str, str]) -> None:
    pipeline.wait_indexed(list(docs), DEADLINE_SECONDS)
    pipeline.wait_searchable(docs, 60)


def still_indexed(pipeline: Pipeline, docs: dict[str, str]) -> int:
    """How many of the Docs still have chunks and readers: an outage must take neither away."""
    rows = pipeline.postgres.fetch(
        "SELECT count(*) AS n FROM file_access WHERE file_id = ANY($1::text[]) AND readers <> '{}'",
        list(docs),
    )
    return min(len(pipeline.indexed(list(docs))), int(rows[0]["n"]))


def test_drive_refusing_our_credentials_for_90s_pauses_and_loses_nothing(
    pipeline: Pipeline, report: Report
) -> None:
    docs = create_docs(pipeline.drive, "quartz", 6, sections=2)
    settled(pipeline, docs)
    new = {}
    pipeline.drive.fault(401, count=1_000_000, path_prefix="/drive/v3/", reason="authError")
    try:
        edited = edit_during(pipeline, docs, "quartzedit", 45)
        new = create_docs(pipeline.drive, "quartznew", 3, sections=2)
        time.sleep(45)
        during = still_indexed(pipeline, docs)
    finally:
        pipeline.drive.clear_faults()
    recovered = time.monotonic()
    pipeline.wait_searchable({**edited, **new}, RECOVERY_SECONDS)
    took = time.monotonic() - recovered
    assert during == len(docs), "the outage took indexed files away"
    skipped = pipeline.postgres.fetch(
        "SELECT count(*) AS n FROM documents WHERE file_id = ANY($1::text[]) AND skip_reason IS NOT NULL",
        [*docs, *new],
    )
    assert skipped[0]["n"] == 0
    pipeline.assert_no_dead_letters()
    report(
        f"Drive 401 for 90 s: {len(docs)} edits and {len(new)} new Docs searchable {took:.1f}s after recovery"
    )


def test_a_two_minute_database_outage_while_people_edit_loses_nothing(
    pipeline: Pipeline, report: Report
) -> None:
    docs = create_docs(pipeline.drive, "basalt", 6, sections=2)
    settled(pipeline, docs)
    pipeline.postgres.stop()
    try:
        edited = edit_during(pipeline, docs, "basaltedit", 100)
        new = create_docs(pipeline.drive, "basaltnew", 3, sections=2)
        time.sleep(20)
    finally:
        pipeline.postgres.start()
    recovered = time.monotonic()
    pipeline.wait_searchable({**edited, **new}, RECOVERY_SECONDS)
    took = time.monotonic() - recovered
    assert still_indexed(pipeline, docs) == len(docs)
    pipeline.assert_no_dead_letters()
    edits = f"{len(docs)} edits and {len(new)} new Docs"
    report(f"PostgreSQL down 2 min: {edits} searchable {took:.1f}s after recovery")
