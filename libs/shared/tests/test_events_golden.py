"""The golden examples are the event contract: each model reads its examples and writes them back
exactly, so renaming, retyping or dropping a field without a new schema_version fails here."""

from __future__ import annotations

import json

import pytest

from devstack import golden
from shared import topics
from shared.events import ChunksEmbedded, DocFetched, DriveChanged, Event

KINDS: list[type[Event]] = [DriveChanged, DocFetched, ChunksEmbedded]


def test_every_topic_has_examples_and_every_example_a_topic() -> None:
    assert {kind.topic for kind in KINDS} == set(topics.ALL)
    files = {path.name for path in golden.GOLDEN.glob("*.json")}
    named = {f"{kind.topic}.{name}.json" for kind in KINDS for name in golden.raw(kind)}
    assert files == named
    assert all(golden.raw(kind) for kind in KINDS)


@pytest.mark.parametrize("kind", KINDS, ids=lambda kind: kind.topic)
def test_examples_read_and_write_back_exactly(kind: type[Event]) -> None:
    for name, value in golden.raw(kind).items():
        event = kind.model_validate_json(json.dumps(value))
        assert event.model_dump(mode="json") == value, name
        assert event.schema_version == 1, name


def test_each_event_is_keyed_by_its_entity() -> None:
    for event in golden.examples(DriveChanged).values():
        assert event.key == event.source_id
    for file_event in [*golden.examples(DocFetched).values(), *golden.examples(ChunksEmbedded).values()]:
        assert file_event.key == file_event.file_id
