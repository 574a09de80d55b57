"""Drive's resources as the indexer reads them: frozen models, parsed once from Drive's JSON.

Each model's `from_api` reads Drive's camelCase JSON; only the Drive client (drive.client) calls
it, so no other code indexes Drive's keys.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from shared.access import Permission

# One resource of Drive's JSON answer.
Resource = Mapping[str, Any]

PERMISSION_TYPES = frozenset({"user", "group", "domain", "anyone"})
# The fields the client asks Drive for: those `from_api` reads.
PERMISSION_FIELDS = "type,role,emailAddress,domain,allowFileDiscovery,deleted"
FILE_FIELDS = (
    "id,name,mimeType,webViewLink,parents,modifiedTime,version,md5Checksum,size,trashed,driveId,"
    f"shortcutDetails,permissions({PERMISSION_FIELDS}),exportLinks,owners(emailAddress)"
)
CHANGE_FIELDS = f"kind,changeType,removed,fileId,time,driveId,drive(id,name),file({FILE_FIELDS})"


def permissions_from_api(resources: Iterable[Resource] | None) -> tuple[Permission, ...]:
    """Parse grants; those of a type Drive adds later are skipped: they grant nothing until understood."""
    return tuple(_permission(p) for p in resources or () if p.get("type") in PERMISSION_TYPES)


def _permission(resource: Resource) -> Permission:
    return Permission(
        type=resource["type"],
        role=resource.get("role", ""),  # no role grants nothing (access.READ_ROLES)
        email_address=resource.get("emailAddress"),
        domain=resource.get("domain"),
        allow_file_discovery=bool(resource.get("allowFileDiscovery", False)),
        deleted=bool(resource.get("deleted", False)),
    )


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class DriveFile(_Model):
    """One file's metadata at one version (FILE_FIELDS)."""

    id: str
    mime_type: str
    # Grows with every change of the file, its sharing included.
    version: int
    name: str = ""
    parents: tuple[str, ...] = ()
    modified_time: datetime | None = None
    md5_checksum: str | None = None
    size: int | None = None  # Drive reports none for its own (native) files
    trashed: bool = False
    drive_id: str | None = None
    web_view_link: str | None = None
    # Shortcuts only: the file they point at.
    target_id: str | None = None
    target_mime_type: str | None = None
    # None when Drive did not send them, which is not the same as shared with nobody: Drive leaves
    # them out for shared-drive files and when the caller may not see the sharing, and then only
    # permissions.list tells who may read the file.
    permissions: tuple[Permission, ...] | None = None
    owner_emails: tuple[str, ...] = ()
    export_links: Mapping[str, str] = Field(default_factory=dict)

    @classmethod
    def from_api(cls, resource: Resource) -> DriveFile:
        """Parse a file resource."""
        size = resource.get("size")
        shortcut = resource.get("shortcutDetails") or {}
        has_permissions = "permissions" in resource
        return cls(
            id=resource["id"],
            mime_type=resource["mimeType"],
            version=int(resource["version"]),  # an int64, which Drive sends as a string
            name=resource.get("name", ""),
            parents=tuple(resource.get("parents") or ()),
            modified_time=resource.get("modifiedTime"),
            md5_checksum=resource.get("md5Checksum"),
            size=int(size) if size is not None else None,
            trashed=bool(resource.get("trashed", False)),
            drive_id=resource.get("driveId"),
            web_view_link=resource.get("webViewLink"),
            target_id=shortcut.get("targetId"),
            target_mime_type=shortcut.get("targetMimeType"),
            permissions=permissions_from_api(resource["permissions"]) if has_permissions else None,
            owner_emails=tuple(str(o.get("emailAddress") or "") for o in resource.get("owners") or ()),
            export_links=dict(resource.get("exportLinks") or {}),
        )


class Change(_Model):
    """One entry of changes.list: a file changed or went away, or a shared drive itself changed."""

    change_type: str = "file"  # "file", or "drive" for a shared drive's name or members
    file_id: str | None = None  # set on every change of a file
    drive_id: str | None = None
    removed: bool = False
    time: datetime | None = None
    file: DriveFile | None = None

    @classmethod
    def from_api(cls, resource: Resource) -> Change:
        """Parse a change resource."""
        change_type = resource.get("changeType", "file")
        file = resource.get("file")
        return cls(
            change_type=change_type,
            file_id=resource["fileId"] if change_type == "file" else resource.get("fileId"),
            drive_id=resource.get("driveId"),
            removed=bool(resource.get("removed", False)),
            time=resource.get("time"),
            file=DriveFile.from_api(file) if file is not None else None,
        )

    @property
    def current(self) -> DriveFile | None:
        """The changed file as it is now; None when it is gone from the caller's view."""
        return None if self.removed else self.file


@dataclass(frozen=True)
class ChangesPage:
    """One page of changes.list; exactly one of the two tokens is set."""

    changes: tuple[Change, ...]
    next_page_token: str | None
    new_start_page_token: str | None


@dataclass(frozen=True)
class FilesPage:
    """One page of files.list."""

    files: tuple[DriveFile, ...]
    next_page_token: str | None
    # Drive could not search every corpus: a file missing from this listing may still exist.
    incomplete_search: bool = False


class Channel(_Model):
    """A push channel Drive opened for changes.watch."""

    id: str
    resource_id: str | None = None
    resource_uri: str | None = None
    expiration: datetime | None = None

    @classmethod
    def from_api(cls, resource: Resource) -> Channel:
        """Parse a channel resource; its expiration is milliseconds since the epoch, as a string."""
        expiration = resource.get("expiration")
        return cls(
            id=resource["id"],
            resource_id=resource.get("resourceId"),
            resource_uri=resource.get("resourceUri"),
            expiration=datetime.fromtimestamp(int(str(expiration)) / 1000, UTC) if expiration else None,
        )


class SharedDrive(_Model):
    """A shared drive, as drives.list names it."""

    id: str
    name: str = ""

    @classmethod
    def from_api(cls, resource: Resource) -> SharedDrive:
        """Parse a drive resource."""
        return cls(id=resource["id"], name=resource.get("name", ""))
