"""Which indexed files a reconcile may delete: only those Drive confirms are gone, and not too many.

A listing is weak evidence: Drive may answer `incompleteSearch`, a page may be missing, a
permission may be in flux. So a file absent from the listing is only a candidate; it is deleted
when `files.get` says it is gone (404) or trashed, and a pass that would delete more than a set
share of the index stops unless forced. The fetcher acts on the plan; `drive-index reconcile
--dry-run` prints it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Protocol

from drive.client import DriveNotFound
from drive.models import DriveFile, FilesPage

# Without --force, a reconcile deletes at most this share of the source's indexed files.
DEFAULT_MAX_DELETE_SHARE = 0.1


class Listing(Protocol):
    """The Drive calls a reconcile makes."""

    async def list_files(self, page_token: str | None = None, page_size: int = 100) -> FilesPage: ...

    async def get_file(self, file_id: str) -> DriveFile: ...


@dataclass
class Plan:
    """What a reconcile found and may do."""

    indexed: int
    listed: set[str] = field(default_factory=set)
    files: list[DriveFile] = field(default_factory=list)
    incomplete: bool = False
    gone: list[str] = field(default_factory=list)  # confirmed by files.get
    kept: list[str] = field(default_factory=list)  # missing from the listing, but files.get found them
    refusal: str | None = None

    @property
    def may_delete(self) -> bool:
        return self.refusal is None and bool(self.gone)


async def list_all(drive: Listing, page_size: int = 100) -> tuple[list[DriveFile], bool]:
    """Every file of a full listing, and whether Drive said the listing may be incomplete."""
    files: list[DriveFile] = []
    incomplete, token = False, None
    while True:
        page = await drive.list_files(token, page_size)
        files += page.files
        incomplete = incomplete or page.incomplete_search
        token = page.next_page_token
        if not token:
            return files, incomplete


async def confirm_gone(drive: Listing, candidates: Iterable[str]) -> tuple[list[str], list[str]]:
    """Split candidates into those Drive says are gone (404 or trashed) and those it still has."""
    gone: list[str] = []
    kept: list[str] = []
    for file_id in sorted(candidates):
        try:
            file = await drive.get_file(file_id)
        except DriveNotFound:
            gone.append(file_id)
            continue
        (gone if file.trashed else kept).append(file_id)
    return gone, kept


async def plan(
    drive: Listing, indexed: set[str], *, max_delete_share: float, force: bool, page_size: int = 100
) -> Plan:
    """List the source, confirm each missing file with Drive, and decide what may be deleted."""
    files, incomplete = await list_all(drive, page_size)
    result = Plan(len(indexed), {f.id for f in files}, files, incomplete)
    if incomplete:
        result.refusal = "Drive marked the listing incompleteSearch: nothing is deleted on it"
        return result
    result.gone, result.kept = await confirm_gone(drive, indexed - result.listed)
    limit = int(max_delete_share * len(indexed))
    if len(result.gone) > limit and not force:
        result.refusal = (
            f"would delete {len(result.gone)} of {len(indexed)} indexed files, more than the "
            f"{max_delete_share:.0%} allowed in one pass; check Drive access, then run "
            "`drive-index reconcile --force` if this is right"
        )
    return result
