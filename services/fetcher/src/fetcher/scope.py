"""What the operator lets into the index: owners' domains, excluded folders and drives, MIME types.

A file is judged on the metadata changes.list and files.list already carry, and on the folders
above it (fetcher.ancestry) when an excluded folder or a `folder:` source asks for them, before
anything is fetched. One that is not admitted gets a removal from the source that saw it, so a
file that falls out of scope leaves the index (unless another source still admits it).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

from drive.models import DriveFile
from drive.sources import SourceKind, SourceRef


@dataclass(frozen=True)
class Scope:
    """The admission rules; empty sets admit everything."""

    allowed_domains: frozenset[str] = frozenset()
    exclude_folders: frozenset[str] = frozenset()
    exclude_drives: frozenset[str] = frozenset()
    mime_types: frozenset[str] = frozenset()
    # A `folder:` source keeps only this folder and what is below it.
    within: str | None = None

    @classmethod
    def of(
        cls,
        *,
        allowed_domains: Iterable[str] = (),
        exclude_folders: Iterable[str] = (),
        exclude_drives: Iterable[str] = (),
        mime_types: Iterable[str] = (),
    ) -> Scope:
        """Build a scope; domains compare case-insensitively."""
        return cls(
            frozenset(d.lower().lstrip("@") for d in allowed_domains),
            frozenset(exclude_folders),
            frozenset(exclude_drives),
            frozenset(mime_types),
        )

    def for_source(self, source_id: str) -> Scope:
        """The scope one source reads with: a `folder:` source's adds its folder's subtree."""
        ref = SourceRef.parse(source_id)
        return replace(self, within=ref.folder_id) if ref.kind is SourceKind.FOLDER else self

    @property
    def needs_ancestors(self) -> bool:
        """Whether judging a file needs every folder above it, not just its parents."""
        return bool(self.exclude_folders) or self.within is not None

    def admits(self, file: DriveFile, ancestors: frozenset[str] = frozenset()) -> str | None:
        """Return why the file is out of scope, or None when it may be indexed.

        `ancestors` are the ids of every folder above the file (needed when `needs_ancestors`).
        """
        drive_id = file.drive_id
        if drive_id and drive_id in self.exclude_drives:
            return f"in excluded shared drive {drive_id}"
        excluded = self.exclude_folders.intersection({file.id, *file.parents, *ancestors})
        if excluded:
            return f"in excluded folder {min(excluded)}"
        if self.within is not None and file.id != self.within and self.within not in ancestors:
            return f"outside folder {self.within}"
        if self.mime_types and file.mime_type not in self.mime_types:
            return f"type {file.mime_type} is not in DRIVE_MIME_TYPES"
        if self.allowed_domains and not drive_id and not self._owned_inside(file):
            return "owned outside DRIVE_ALLOWED_DOMAINS"
        return None

    def _owned_inside(self, file: DriveFile) -> bool:
        """Whether some owner's address is in an allowed domain (shared-drive files have no owners)."""
        # `owners` when Drive sent it, else the owner's grant among the file's permissions.
        owners = file.owner_emails or [
            p.email_address or "" for p in file.permissions or () if p.role == "owner"
        ]
        for email in owners:
            _, _, domain = email.rpartition("@")
            if domain.lower() in self.allowed_domains:
                return True
        return False
