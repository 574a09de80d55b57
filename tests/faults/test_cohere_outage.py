"""Cohere answers 503 for a while: the embedder waits it out and indexes every Doc afterwards."""

from __future__ import annotations

import json
import time
import urllib.request

import pytest

from tests.faults.corpus import create_docs
from tests.faults.pipeline import COHERE_API_KEY, Report, StartPipeline

pytestmark = [pytest.mark.fault, pytest.mark.slow]

# Longer than one embed request's own retries (about 7.5 s), so the consume loop retries too.
OUTAGE_SECONDS = 10.0
# Refusals kept queued: more than the requests that can arrive between two top-ups.
QUEUED = 3
DEADLINE_SECONDS = 120.0


class CohereOutage:
    """Make the Cohere stand-in refuse every embed request with 503 while the outage is held."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.queued_in_total = 0

    def begin(self) -> None:
        self._top_up()

    def hold(self, seconds: float) -> int:
        """Keep refusing for `seconds`; return how many requests were refused so far."""
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            self._top_up()
            time.sleep(0.05)  # holds the outage open; the stub can only queue refusals, not time them
        return self.queued_in_total - self._queue(0)

    def _top_up(self) -> None:
        missing = QUEUED - self._queue(0)
        if missing > 0:
            self._queue(missing)
            self.queued_in_total += missing

    def _queue(self, count: int) -> int:
        """Queue `count` more 503s; return how many are queued now."""
        body = json.dumps({"status": 503, "count": count}).encode()
        request = urllib.request.Request(f"{self.url}/_stub/faults", data=body, method="POST")
        with urllib.request.urlopen(request, timeout=10) as response:
            return int(json.loads(response.read())["queued"])


def test_documents_are_indexed_after_a_cohere_outage(
    start_pipeline: StartPipeline, cohere_stub: str, report: Report
) -> None:
    pipeline = start_pipeline(
        EMBEDDING_PROVIDER="cohere", COHERE_API_KEY=COHERE_API_KEY, COHERE_BASE_URL=cohere_stub
    )
    before = create_docs(pipeline.drive, "meadow", 2, sections=2)
    pipeline.wait_searchable(before, DEADLINE_SECONDS)  # the Cohere path works before it breaks

    outage = CohereOutage(cohere_stub)
    outage.begin()
    docs = create_docs(pipeline.drive, "meadow", 10, sections=2, first=2)
    refused = outage.hold(OUTAGE_SECONDS)
    assert refused >= QUEUED, f"only {refused} embed requests met the outage"
    assert not pipeline.indexed(list(docs)), "a Doc was embedded while Cohere was down"

    pipeline.wait_indexed(list(docs), DEADLINE_SECONDS)
    pipeline.wait_searchable(docs, 60)
    pipeline.assert_no_dead_letters()
    models = pipeline.postgres.fetch("SELECT DISTINCT model FROM chunks")
    assert [row["model"] for row in models] == ["embed-v4.0"]
    report(f"Cohere refused {refused} embed requests during a {OUTAGE_SECONDS:g}s outage")
