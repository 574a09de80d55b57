"""Which events may still change a file's row: version order, and tombstones after a deletion.

A deletion leaves a tombstone `(version, fetched_at)`, written in the transaction that deletes the
row. An upsert, metadata or skipped event for the file is then applied only if

    event.version > tombstone.version  AND  event.fetched_at > tombstone.fetched_at

and applying it clears the tombstone. A trash keeps its own version: the file comes back only
untrashed, which Drive gives a new version, fetched later. A removal (the file left one source's
view: no version is known, the fetcher sends 2**63-1) keeps version 0, because the sentinel would
block the file forever and the deleted row's version would block a file shared again at the same
version (access regained through a group does not move the file's version); fetched_at guards
instead: an event fetched before the removal (a dead-letter replay, a zombie consumer after a
rebalance, a message in flight) is stale, a file shared again is fetched after it. A second
deletion keeps the larger of each field, so deleting twice, or an old copy of a deletion, changes
nothing.

A deletion is itself stale, and ignored, when the stored row is newer: a trash whose version is
below the stored one, or a removal fetched before its source last showed the file (a replayed
removal of a file shared again since). A removal deletes the file only when no other source
still shows it; otherwise it only marks its own source as no longer showing it.

Every write of a file takes the file's lock first (see the index store), so reading the tombstone
and acting on it cannot interleave with a concurrent delete or upsert of the same file.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from embedder.ports import Deletion, FileState, SourceShowing, Tombstone
from shared.events import DocFetched, FetchAction

# The fetcher's version for a removal (fetcher.files.REMOVED): the largest bigint.
REMOVED = 2**63 - 1


def is_removal(version: int) -> bool:
    """Tell whether a deletion's version is the removal sentinel rather than Drive's version."""
    return version == REMOVED


def admits(tombstone: Tombstone | None, version: int, fetched_at: datetime) -> bool:
    """Tell whether an upsert, metadata or skipped event is newer than the file's deletion."""
    if tombstone is None:
        return True
    return version > tombstone.version and fetched_at > tombstone.fetched_at


def tombstone_after(previous: Tombstone | None, version: int, fetched_at: datetime) -> Tombstone:
    """Return the tombstone a deletion at `version`, fetched at `fetched_at`, leaves."""
    laid = Tombstone(0 if is_removal(version) else version, fetched_at)
    if previous is None:
        return laid
    return Tombstone(max(previous.version, laid.version), max(previous.fetched_at, laid.fetched_at))


def judge_deletion(
    source_id: str,
    version: int,
    fetched_at: datetime,
    stored: tuple[int, datetime | None] | None,
    showings: Sequence[SourceShowing],
) -> Deletion:
    """Decide what a deletion does to a file stored at `stored` (version, fetched_at), if at all."""
    if stored is None:
        return Deletion.DELETED  # already gone: a replay, which may still grow the tombstone
    stored_version, stored_fetched_at = stored
    if not is_removal(version):
        return Deletion.STALE if stored_version > version else Deletion.DELETED
    mine = next((s for s in showings if s.source_id == source_id), None)
    seen_at = mine.fetched_at if mine else stored_fetched_at
    if seen_at is not None and seen_at > fetched_at:
        return Deletion.STALE
    if any(not s.removed and s.source_id != source_id for s in showings):
        return Deletion.KEPT
    return Deletion.DELETED


def applies(event: DocFetched, state: FileState) -> bool:
    """Tell whether the event may be newer than what the index holds of its file.

    Deletions are judged by the store alone, under the file's lock: which sources still show
    the file is not part of `state`.
    """
    if event.action == FetchAction.DELETE:
        return True
    if not admits(state.tombstone, event.version, event.fetched_at):
        return False
    stored = state.document
    return stored is None or stored.version <= event.version
