"""The fetcher handles every golden drive.changed example (the event contract, libs/shared/tests/golden)."""

from __future__ import annotations

import pytest

from devstack import golden
from fetcher.handlers import Options, handle_drive_changed
from shared.events import DocFetched, DriveChanged

from .test_handlers import FakeDrive, FakePublisher, FakeStore


@pytest.mark.parametrize("name", sorted(golden.examples(DriveChanged)))
async def test_every_golden_drive_changed_is_read_and_published(name: str) -> None:
    event = golden.examples(DriveChanged)[name]
    drive, store, publisher = FakeDrive(), FakeStore(), FakePublisher()
    for file_id in "abcd":
        drive.put(file_id)
    store.tokens[event.source_id] = "0"
    await handle_drive_changed(
        event, drive=drive, store=store, publisher=publisher, options=Options(page_size=2)
    )
    published = publisher.of(DocFetched)
    assert published, f"{name}: nothing published"
    assert {e.source_id for e in published} == {event.source_id}
    assert {e.file_id for e in published} <= set("abcd")
