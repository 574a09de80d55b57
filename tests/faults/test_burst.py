"""A burst of small Docs at once: all indexed within a deadline; prints how long it took."""

from __future__ import annotations

import time

import pytest

from tests.faults.conftest import Pipeline
from tests.faults.corpus import create_docs

pytestmark = [pytest.mark.fault, pytest.mark.slow]

DOCS = 150
DEADLINE_SECONDS = 240.0


def test_a_burst_of_docs_is_indexed_within_the_deadline(pipeline: Pipeline) -> None:
    started = time.monotonic()
    docs = create_docs(pipeline.drive, "comet", DOCS, sections=1)
    created = time.monotonic() - started

    pipeline.wait_indexed(list(docs), DEADLINE_SECONDS)
    indexed = time.monotonic() - started
    pipeline.wait_searchable(docs, 60)
    searchable = time.monotonic() - started
    pipeline.assert_no_dead_letters()
    chunks = sum(pipeline.indexed(list(docs)).values())
    print(
        f"burst of {DOCS} Docs ({chunks} chunks): created in {created:.1f}s, "
        f"all indexed after {indexed:.1f}s, all searchable after {searchable:.1f}s"
    )
