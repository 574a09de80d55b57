"""Drive throttles a storm of requests (429, 403 rateLimitExceeded): every Doc is indexed anyway."""

from __future__ import annotations

import pytest

from tests.faults.corpus import create_docs
from tests.faults.pipeline import Report, StartPipeline

pytestmark = [pytest.mark.fault, pytest.mark.slow]

DOCS = 20
# Waves of throttling answers, alternating Drive's three ways of saying "slow down".
SLOW_DOWN = [(429, "rateLimitExceeded"), (403, "rateLimitExceeded"), (403, "userRateLimitExceeded")]
# (path, waves, requests per wave): the change listing, then the exports running side by side.
# Well under CONSUMER_MAX_ATTEMPTS x (DRIVE_MAX_RETRIES + 1) = 56 throttled calls in a row, after
# which drive.changed is dead-lettered by design (its cursor stays, the next change re-reads it).
STORM = [("/drive/v3/changes", SLOW_DOWN, 3), ("/drive/v3/files/", SLOW_DOWN * 2, 4)]
DEADLINE_SECONDS = 150.0


def test_every_doc_is_indexed_through_a_throttling_storm(
    start_pipeline: StartPipeline, report: Report
) -> None:
    # The storm is counted in requests, not seconds: shorter backoffs only make it pass sooner.
    pipeline = start_pipeline(
        DRIVE_BACKOFF_SECONDS="0.25", DRIVE_MAX_BACKOFF_SECONDS="4", CONSUMER_BACKOFF_SECONDS="0.2"
    )
    throttled = 0
    for path, waves, per_wave in STORM:
        for status, reason in waves:
            pipeline.drive.fault(status, count=per_wave, path_prefix=path, reason=reason)
            throttled += per_wave
    docs = create_docs(pipeline.drive, "glacier", DOCS, sections=2)

    pipeline.wait_indexed(list(docs), DEADLINE_SECONDS)
    assert pipeline.drive.faults() == [], "the storm did not reach the fetcher"
    skipped = pipeline.postgres.fetch(
        "SELECT file_id, skip_reason FROM documents WHERE skip_reason IS NOT NULL"
    )
    assert not skipped, f"throttled files were recorded as skipped: {skipped}"
    pipeline.wait_searchable(docs, 60)
    pipeline.assert_no_dead_letters()
    report(f"{DOCS} Docs indexed through {throttled} throttled Drive requests")
