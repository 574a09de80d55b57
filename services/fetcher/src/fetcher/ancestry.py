"""The folders above a file, for excluded folders and `folder:` sources that cover whole subtrees.

Drive gives a file's parents only, so the walk up reads each folder with files.get. Folders are
few and change rarely, so each identity's answers are kept for a few minutes, and a folder seen in
the change feed updates its entry at once: a moved folder is judged by where it is now.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from drive.client import DriveForbidden, DriveNotFound
from drive.models import DriveFile
from fetcher.ports import Drive
from shared.mime import FOLDER

# How long a folder's parents are trusted without a change saying otherwise.
TTL_SECONDS = 300.0
# Drive nests folders at most 100 deep; past this many folders the walk is cut (a cycle, say).
MAX_FOLDERS = 1000


class FolderTree:
    """Every identity's known folders: (which Drive client, folder id) → (parents, read at)."""

    def __init__(self, ttl_seconds: float = TTL_SECONDS, clock: Callable[[], float] = time.monotonic) -> None:
        self._ttl = ttl_seconds
        self._clock = clock
        self._parents: dict[tuple[int, str], tuple[tuple[str, ...], float]] = {}

    def ancestry(self, drive: Drive) -> Ancestry:
        """The view of the tree one Drive client (one identity) has."""
        return Ancestry(self, drive)

    def get(self, drive: Drive, folder_id: str) -> tuple[str, ...] | None:
        entry = self._parents.get((id(drive), folder_id))
        if entry is None or self._clock() - entry[1] > self._ttl:
            return None
        return entry[0]

    def put(self, drive: Drive, folder_id: str, parents: tuple[str, ...]) -> None:
        self._parents[(id(drive), folder_id)] = (parents, self._clock())


class Ancestry:
    """Walk up from files to the root, as one identity sees the tree."""

    def __init__(self, tree: FolderTree, drive: Drive) -> None:
        self._tree = tree
        self._drive = drive

    def saw(self, file: DriveFile) -> None:
        """Remember where a folder from the change feed or a listing now is."""
        if file.mime_type == FOLDER and not file.trashed:
            self._tree.put(self._drive, file.id, file.parents)

    async def of(self, file: DriveFile) -> frozenset[str]:
        """Return the ids of every folder above `file` that its identity can see."""
        seen: set[str] = set()
        frontier = list(file.parents)
        while frontier and len(seen) < MAX_FOLDERS:
            folder_id = frontier.pop()
            if folder_id not in seen:
                seen.add(folder_id)
                frontier += await self._parents(folder_id)
        return frozenset(seen)

    async def _parents(self, folder_id: str) -> tuple[str, ...]:
        parents = self._tree.get(self._drive, folder_id)
        if parents is None:
            try:
                parents = (await self._drive.get_file(folder_id)).parents
            except (DriveNotFound, DriveForbidden):
                parents = ()  # a folder this identity cannot open: the walk stops there
            self._tree.put(self._drive, folder_id, parents)
        return parents
