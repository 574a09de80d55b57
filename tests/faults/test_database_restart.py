"""PostgreSQL goes away mid-ingestion and comes back: every Doc still ends up searchable."""

from __future__ import annotations

import time

import pytest

from tests.faults.corpus import create_docs
from tests.faults.pipeline import Pipeline, Report
from tests.polling import wait_until

pytestmark = [pytest.mark.fault, pytest.mark.slow]

OUTAGE_SECONDS = 5.0
EXPORT_DELAY_SECONDS = 0.5
DEADLINE_SECONDS = 150.0


def test_a_database_restart_mid_ingestion_loses_nothing(pipeline: Pipeline, report: Report) -> None:
    # Slow exports keep the fetcher mid-page too when the database goes away.
    pipeline.drive.fault(200, count=12, path_prefix="/drive/v3/files/", delay_seconds=EXPORT_DELAY_SECONDS)
    docs = create_docs(pipeline.drive, "harbor", 12, sections=4)
    # Stop the database while the first Docs are being indexed and the rest still wait their turn.
    indexed_before = wait_until(lambda: len(pipeline.indexed(list(docs))), lambda: "nothing indexed", 60)
    pipeline.postgres.stop()
    outage_started = time.monotonic()
    try:
        # Changes made meanwhile: the gateway cannot look their channel up and answers 503.
        docs |= create_docs(pipeline.drive, "harbor", 4, sections=4, first=12)
        time.sleep(max(0.0, OUTAGE_SECONDS - (time.monotonic() - outage_started)))  # hold the outage
    finally:
        pipeline.postgres.start()
    assert indexed_before < 12, "the outage must hit Docs still on their way"
    docs |= create_docs(pipeline.drive, "harbor", 4, sections=4, first=16)

    pipeline.wait_indexed(list(docs), DEADLINE_SECONDS)
    pipeline.wait_searchable(docs, 60)
    pipeline.assert_no_dead_letters()
    # Both consumers met the outage mid-work and rode it out; the gateway asked Drive to retry.
    retried = {"outcome": "retried"}
    assert pipeline.metric("fetcher", "drive_index_messages_total", **retried) > 0
    assert pipeline.metric("embedder", "drive_index_messages_total", **retried) > 0
    assert pipeline.metric("webhook-gateway", "drive_index_webhooks_total", outcome="unavailable") > 0
    report(f"{indexed_before} of 12 Docs were indexed when PostgreSQL stopped for {OUTAGE_SECONDS:g}s")
