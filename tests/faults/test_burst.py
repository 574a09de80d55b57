"""A burst of small Docs at once: all indexed within a deadline, the last edit wins; prints the time."""

from __future__ import annotations

import re
import time

import pytest

from tests.faults.corpus import create_docs, handbook_page, marker
from tests.faults.pipeline import Pipeline, Report

pytestmark = [pytest.mark.fault, pytest.mark.slow]

DOCS = 150
EDITS = 30
DEADLINE_SECONDS = 240.0


def test_a_burst_of_docs_is_indexed_within_the_deadline(pipeline: Pipeline, report: Report) -> None:
    started = time.monotonic()
    docs = create_docs(pipeline.drive, "comet", DOCS, sections=1)
    # Amid the burst, one of them is edited again and again: only its last text may stay.
    edited = next(iter(docs))
    for edit in range(1, EDITS + 1):
        pipeline.drive.update_file(edited, content=handbook_page(marker("cometedit", edit), 1, edit))
    docs[edited] = marker("cometedit", EDITS)
    created = time.monotonic() - started

    pipeline.wait_indexed(list(docs), DEADLINE_SECONDS)
    indexed = time.monotonic() - started
    pipeline.wait_searchable(docs, 60)
    searchable = time.monotonic() - started
    rows = pipeline.postgres.fetch("SELECT text FROM chunks WHERE file_id = $1", edited)
    markers = re.findall(r"comet\w*\d{3}", " ".join(row["text"] for row in rows))
    assert markers == [docs[edited]], f"the edited Doc's chunks hold {markers}, not only its last text"
    pipeline.assert_no_dead_letters()
    chunks = sum(pipeline.indexed(list(docs)).values())
    report(
        f"burst of {DOCS} Docs ({chunks} chunks): created in {created:.1f}s, "
        f"all indexed after {indexed:.1f}s, all searchable after {searchable:.1f}s"
    )
