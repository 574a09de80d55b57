"""What the operator lets into the index: owners' domains, excluded folders and drives, MIME types.

A file is judged on the metadata changes.list and files.list already carry, before anything is
fetched. One that is not admitted gets a removal from the source that saw it, so a file that falls
out of scope leaves the index (unless another source still admits it).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Scope:
    """The admission rules; empty sets admit everything."""

    allowed_domains: frozenset[str] = frozenset()
    exclude_folders: frozenset[str] = frozenset()
    exclude_drives: frozenset[str] = frozenset()
    mime_types: frozenset[str] = frozenset()

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

    def admits(self, file: dict[str, Any]) -> str | None:
        """Return why the file is out of scope, or None when it may be indexed."""
        drive_id = file.get("driveId")
        if drive_id and drive_id in self.exclude_drives:
            return f"in excluded shared drive {drive_id}"
        excluded = self.exclude_folders.intersection(file.get("parents") or ())
        if excluded:
            return f"in excluded folder {min(excluded)}"
        if self.mime_types and file.get("mimeType") not in self.mime_types:
            return f"type {file.get('mimeType')} is not in DRIVE_MIME_TYPES"
        if self.allowed_domains and not drive_id and not self._owned_inside(file):
            return "owned outside DRIVE_ALLOWED_DOMAINS"
        return None

    def _owned_inside(self, file: dict[str, Any]) -> bool:
        """Whether some owner's address is in an allowed domain (shared-drive files have no owners)."""
        # `owners` when Drive sent it, else the owner's grant among the file's permissions.
        owners = file.get("owners") or [p for p in file.get("permissions") or () if p.get("role") == "owner"]
        for owner in owners:
            _, _, domain = str(owner.get("emailAddress") or "").rpartition("@")
            if domain.lower() in self.allowed_domains:
                return True
        return False
