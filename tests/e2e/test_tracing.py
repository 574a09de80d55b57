"""One trace follows a Drive change from the webhook through every service to the index."""

from __future__ import annotations

import pytest

from devstack.stack import Stack
from drive_emulator.client import EmulatorControl
from tests.e2e.otlp_receiver import OtlpReceiver, ReceivedSpan
from tests.polling import wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def webhook_trace(otlp: OtlpReceiver, since: int) -> list[ReceivedSpan] | None:
    """The first trace started by a webhook after `since` spans, once it reached the embedder."""
    for span in otlp.snapshot()[since:]:
        if span.service == "webhook-gateway" and not span.parent_span_id:
            spans = otlp.trace(span.trace_id)
            if any(s.service == "embedder" and s.name.endswith("doc.fetched process") for s in spans):
                return spans
    return None


def test_a_change_is_one_trace_from_webhook_to_index(
    stack: Stack, emulator_url: str, otlp: OtlpReceiver
) -> None:
    since = len(otlp.snapshot())
    EmulatorControl(emulator_url).create_doc("Traced doc", "# Traced\n\nA document whose journey is traced.")
    spans = wait_until(
        lambda: webhook_trace(otlp, since), lambda: "no trace went from the webhook to the embedder", 30
    )

    by_id = {s.span_id: s for s in spans}
    services = {s.service for s in spans}
    assert {"webhook-gateway", "fetcher", "embedder"} <= services
    # Every span hangs off another span of the same trace: nothing was cut at a Kafka hop.
    roots = [s for s in spans if not s.parent_span_id]
    assert len(roots) == 1
    assert roots[0].service == "webhook-gateway"
    orphans = [s for s in spans if s.parent_span_id and s.parent_span_id not in by_id]
    assert not orphans, orphans
    fetch = next(s for s in spans if s.service == "fetcher" and s.name.endswith("drive.changed process"))
    assert by_id[fetch.parent_span_id].service == "webhook-gateway"
