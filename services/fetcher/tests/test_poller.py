"""The timed poll: changes whose push notification never arrived are still fetched."""

from __future__ import annotations

from typing import Any

from drive_emulator import EmulatorControl

# The types of conftest.py's fixtures; test modules cannot import conftest (importlib mode).
Pipeline = Any
ServiceFactory = Any


async def test_a_change_nobody_announced_is_fetched_by_the_next_poll(
    start_service: ServiceFactory, pipeline: Pipeline, drive_control: EmulatorControl
) -> None:
    await pipeline.start_cursor()  # the source is known; no channel tells the fetcher anything
    doc = drive_control.create_doc("Unannounced", "# Unannounced\n\nThis change sent no notification.")

    async with start_service(FETCHER_POLL_SECONDS="0.2"):
        await pipeline.caught_up()
    # The poll covers every source in the (shared) database; this test's source is the one to check.
    events = [e for e in await pipeline.fetched() if e.source_id == pipeline.source_id]

    assert [(e.file_id, e.metadata.name) for e in events if e.metadata] == [(doc["id"], "Unannounced")]
