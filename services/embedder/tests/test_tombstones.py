"""Deletes stay deleted: replayed, late and zombie events never bring a deleted file back."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from embedder.ports import Deletion, SourceShowing, Tombstone
from embedder.tombstones import admits, judge_deletion, tombstone_after
from shared.events import DocFetched, FetchAction

Harness = Any  # the fixture from conftest.py
REMOVED = 2**63 - 1  # the version the fetcher gives a removal (fetcher.files.REMOVED)
T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def _at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def _trash(harness: Harness, file_id: str, version: int, minutes: int) -> DocFetched:
    trash: DocFetched = harness.event(file_id, version, FetchAction.DELETE, fetched_at=_at(minutes))
    return trash


def _removal(harness: Harness, file_id: str, minutes: int, source: str | None = None) -> DocFetched:
    sources = {"source_id": source} if source else {}
    removal: DocFetched = harness.event(
        file_id, REMOVED, FetchAction.DELETE, metadata=None, fetched_at=_at(minutes), **sources
    )
    return removal


@pytest.mark.parametrize(
    ("tombstone", "version", "minutes", "admitted"),
    [
        (None, 1, 0, True),
        (Tombstone(4, _at(2)), 5, 3, True),  # untrashed: newer and fetched later
        (Tombstone(4, _at(2)), 4, 3, False),  # the trashed version itself
        (Tombstone(4, _at(2)), 5, 1, False),  # fetched before the trash
        (Tombstone(0, _at(2)), 5, 3, True),  # shared again after a removal, same version
        (Tombstone(0, _at(2)), 9, 2, False),  # fetched no later than the removal
    ],
)
def test_the_tombstone_rule(tombstone: Tombstone | None, version: int, minutes: int, admitted: bool) -> None:
    assert admits(tombstone, version, _at(minutes)) is admitted


def test_a_tombstone_only_grows() -> None:
    assert tombstone_after(None, REMOVED, _at(2)) == Tombstone(0, _at(2))
    assert tombstone_after(Tombstone(4, _at(2)), REMOVED, _at(1)) == Tombstone(4, _at(2))
    assert tombstone_after(Tombstone(4, _at(2)), 3, _at(5)) == Tombstone(4, _at(5))


@pytest.mark.parametrize(
    ("version", "stored", "showings", "expected"),
    [
        (4, None, [], Deletion.DELETED),
        (4, (5, _at(0)), [], Deletion.STALE),
        (5, (5, _at(0)), [SourceShowing("b", _at(0))], Deletion.DELETED),  # a trash ends every view
        (REMOVED, (5, _at(0)), [SourceShowing("a", _at(0)), SourceShowing("b", _at(0))], Deletion.KEPT),
        (
            REMOVED,
            (5, _at(0)),
            [SourceShowing("a", _at(0)), SourceShowing("b", _at(0), True)],
            Deletion.DELETED,
        ),
        (REMOVED, (5, _at(3)), [SourceShowing("a", _at(3))], Deletion.STALE),  # shown again since
        (REMOVED, (5, _at(3)), [], Deletion.STALE),
        (REMOVED, (5, None), [SourceShowing("a", None)], Deletion.DELETED),  # indexed before 003
    ],
)
def test_what_a_deletion_from_source_a_at_minute_1_does(
    version: int,
    stored: tuple[int, datetime | None] | None,
    showings: list[SourceShowing],
    expected: Deletion,
) -> None:
    assert judge_deletion("a", version, _at(1), stored, showings) == expected


async def _tombstone(harness: Harness, file_id: str) -> tuple[int, datetime] | None:
    row = await harness.pool.fetchrow(
        "SELECT version, fetched_at FROM tombstones WHERE file_id = $1", file_id
    )
    return (row["version"], row["fetched_at"]) if row else None


async def _gone(harness: Harness, file_id: str) -> bool:
    return await harness.document(file_id) is None and await harness.chunks(file_id) == []


async def test_a_replayed_older_upsert_after_a_trash_does_not_resurrect(
    harness: Harness, file_id: str
) -> None:
    upsert = harness.event(file_id, 3, fetched_at=_at(1))
    await harness.handle(upsert)
    await harness.handle(_trash(harness, file_id, 4, minutes=2))

    await harness.handle(upsert)  # a zombie consumer, or a late in-flight copy

    assert await _gone(harness, file_id)
    assert await _tombstone(harness, file_id) == (4, _at(2))
    assert [e.action for e in harness.publisher.events] == ["upsert", "delete"]


async def test_a_dead_letter_replay_after_a_removal_does_not_resurrect(
    harness: Harness, file_id: str
) -> None:
    upsert = harness.event(file_id, 5, fetched_at=_at(1))
    parked = upsert.to_bytes()  # what `drive-index dlq replay` sends back, byte for byte
    await harness.handle(upsert)
    await harness.handle(_removal(harness, file_id, minutes=2))

    await harness.handle(DocFetched.model_validate_json(parked))

    assert await _gone(harness, file_id)
    # A removal carries no version: the tombstone keeps 0, and fetched_at does the guarding.
    assert await _tombstone(harness, file_id) == (0, _at(2))


async def test_an_untrashed_file_comes_back_and_clears_its_tombstone(harness: Harness, file_id: str) -> None:
    await harness.handle(harness.event(file_id, 3, fetched_at=_at(1)))
    await harness.handle(_trash(harness, file_id, 4, minutes=2))

    await harness.handle(harness.event(file_id, 5, fetched_at=_at(3)))

    document = await harness.document(file_id)
    assert document is not None
    assert document["version"] == 5
    assert len(await harness.chunks(file_id)) > 3
    assert await _tombstone(harness, file_id) is None


async def test_a_file_shared_again_at_the_same_version_comes_back(harness: Harness, file_id: str) -> None:
    # Access lost and regained through a group: Drive's version of the file never moved.
    await harness.handle(harness.event(file_id, 5, fetched_at=_at(1)))
    await harness.handle(_removal(harness, file_id, minutes=2))

    await harness.handle(harness.event(file_id, 5, fetched_at=_at(3)))

    document = await harness.document(file_id)
    assert document is not None
    assert document["version"] == 5


async def test_a_replayed_removal_does_not_delete_a_file_shared_again(harness: Harness, file_id: str) -> None:
    removal = _removal(harness, file_id, minutes=2)
    await harness.handle(harness.event(file_id, 5, fetched_at=_at(1)))
    await harness.handle(removal)
    await harness.handle(harness.event(file_id, 6, fetched_at=_at(3)))

    await harness.handle(removal)

    document = await harness.document(file_id)
    assert document is not None
    assert document["version"] == 6
    assert [e.action for e in harness.publisher.events] == ["upsert", "delete", "upsert"]


async def test_deleting_twice_is_idempotent(harness: Harness, file_id: str) -> None:
    await harness.handle(harness.event(file_id, 3, fetched_at=_at(1)))
    trash = _trash(harness, file_id, 4, minutes=2)
    await harness.handle(trash)
    await harness.handle(trash)
    # An older copy of the removal changes nothing either: the tombstone only grows.
    await harness.handle(_removal(harness, file_id, minutes=0))

    assert await _gone(harness, file_id)
    assert await _tombstone(harness, file_id) == (4, _at(2))
    assert [(e.action, e.chunk_count) for e in harness.publisher.events[1:]] == [("delete", 0)] * 3


async def test_metadata_and_skipped_events_after_a_delete_are_ignored(harness: Harness, file_id: str) -> None:
    await harness.handle(harness.event(file_id, 3, fetched_at=_at(1)))
    await harness.handle(_trash(harness, file_id, 4, minutes=3))

    renamed = harness.metadata("Renamed")
    await harness.handle(harness.event(file_id, 4, FetchAction.METADATA, metadata=renamed, fetched_at=_at(4)))
    await harness.handle(harness.event(file_id, 5, FetchAction.METADATA, metadata=renamed, fetched_at=_at(2)))
    await harness.handle(
        harness.event(file_id, 3, FetchAction.SKIPPED, reason="too large", fetched_at=_at(2))
    )

    assert await _gone(harness, file_id)
    assert await _tombstone(harness, file_id) == (4, _at(3))
    assert [e.action for e in harness.publisher.events] == ["upsert", "delete"]


async def test_a_delete_before_the_first_upsert_still_wins(harness: Harness, file_id: str) -> None:
    # The upsert fetched before the trash arrives last (a retry, another partition's replay).
    await harness.handle(_trash(harness, file_id, 4, minutes=2))
    await harness.handle(harness.event(file_id, 3, fetched_at=_at(1)))

    assert await _gone(harness, file_id)
    assert await _tombstone(harness, file_id) == (4, _at(2))


async def test_a_delete_racing_a_stale_upsert_never_leaves_the_file(harness: Harness, file_id: str) -> None:
    # A zombie consumer writes while the partition's new owner deletes: whichever runs first,
    # the file ends deleted, because both take the file's lock before reading the tombstone.
    files = [f"{file_id}-{n}" for n in range(32)]
    for name in files:
        await harness.handle(harness.event(name, 3, fetched_at=_at(1)))

    await asyncio.gather(
        *(harness.handle(harness.event(name, 3, text=f"Stale {name}.", fetched_at=_at(1))) for name in files),
        *(harness.handle(_trash(harness, name, 4, minutes=2)) for name in files),
    )

    assert [await _gone(harness, name) for name in files] == [True] * len(files)


async def test_a_file_seen_through_two_sources_stays_until_neither_shows_it(
    harness: Harness, file_id: str
) -> None:
    mine = harness.event(file_id, 5, fetched_at=_at(1), source_id="source-a")
    await harness.handle(mine)
    await harness.handle(harness.event(file_id, 5, fetched_at=_at(2), source_id="source-b"))

    await harness.handle(_removal(harness, file_id, minutes=3, source="source-a"))
    assert await harness.document(file_id) is not None
    # A replay from the source that lost the file must not count it as showing the file again.
    await harness.handle(mine)
    await harness.handle(_removal(harness, file_id, minutes=4, source="source-b"))

    assert await _gone(harness, file_id)
    assert await _tombstone(harness, file_id) == (0, _at(4))
    assert [e.action for e in harness.publisher.events] == ["upsert", "upsert", "upsert", "delete"]


async def test_a_trash_seen_through_one_source_removes_the_file_for_all(
    harness: Harness, file_id: str
) -> None:
    await harness.handle(harness.event(file_id, 5, fetched_at=_at(1), source_id="source-a"))
    await harness.handle(harness.event(file_id, 5, fetched_at=_at(2), source_id="source-b"))

    await harness.handle(
        harness.event(file_id, 6, FetchAction.DELETE, fetched_at=_at(3), source_id="source-a")
    )

    assert await _gone(harness, file_id)
