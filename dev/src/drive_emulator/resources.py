"""Drive v3 JSON shapes: file, permission, drive and change resources, and Google's error body."""

from __future__ import annotations

import hashlib
from typing import Any
from urllib.parse import quote

from aiohttp import web

from drive_emulator.exports import export_formats
from drive_emulator.store import Change, DriveFile, SharedDrive, Store, md5_hex, rfc3339
from shared.mime import DOCUMENT, FOLDER, OCTET_STREAM, PRESENTATION, SPREADSHEET

# The paths that answer as Google's APIs: bearer tokens are checked and faults injected only here.
API_PREFIXES = ("/drive/v3/", "/admin/")
_EDITOR_PATHS = {DOCUMENT: "document", SPREADSHEET: "spreadsheets", PRESENTATION: "presentation"}
_DOMAINS = {429: "usageLimits", 403: "usageLimits"}
_RATE_REASONS = {"rateLimitExceeded", "userRateLimitExceeded", "dailyLimitExceeded"}


def web_view_link(file: DriveFile) -> str:
    """The link a person opens, shaped like Drive's for each kind of file."""
    if file.mime_type in _EDITOR_PATHS:
        return f"https://docs.google.com/{_EDITOR_PATHS[file.mime_type]}/d/{file.id}/edit?usp=drivesdk"
    if file.mime_type == FOLDER:
        return f"https://drive.google.com/drive/folders/{file.id}"
    return f"https://drive.google.com/file/d/{file.id}/view?usp=drivesdk"


def permission_id(permission: dict[str, Any]) -> str:
    """A grant's id, stable across edits of the list: derived from whom it names, as Drive's is."""
    if permission.get("id"):
        return str(permission["id"])
    kind = permission["type"]
    if kind == "anyone":
        return "anyone" if permission.get("allowFileDiscovery") else "anyoneWithLink"
    who = permission.get("domain") if kind == "domain" else permission.get("emailAddress")
    digest = hashlib.sha256(f"{kind}:{str(who).lower()}".encode()).hexdigest()
    return str(int(digest, 16))[:20]


def permission_json(permission: dict[str, Any]) -> dict[str, Any]:
    """Render a stored grant: discovery only on anyone/domain grants, `deleted` only when set."""
    body = {"kind": "drive#permission", "id": permission_id(permission), **permission}
    body.pop("deleted", None)
    if body["type"] in ("anyone", "domain"):
        body["allowFileDiscovery"] = bool(permission.get("allowFileDiscovery", False))
    else:
        body.pop("allowFileDiscovery", None)
    if permission.get("deleted"):
        body["deleted"] = True
    return body


def drive_json(drive: SharedDrive) -> dict[str, Any]:
    return {
        "kind": "drive#drive",
        "id": drive.id,
        "name": drive.name,
        "createdTime": rfc3339(drive.created_time),
        "hidden": False,
    }


def file_json(file: DriveFile, base_url: str) -> dict[str, Any]:
    """Render a file resource with every field the indexer asks for."""
    body: dict[str, Any] = {
        "kind": "drive#file",
        "id": file.id,
        "name": file.name,
        "mimeType": file.mime_type,
        "parents": list(file.parents),
        "webViewLink": web_view_link(file),
        "createdTime": rfc3339(file.created_time),
        "modifiedTime": rfc3339(file.modified_time),
        "version": str(file.version),  # Drive sends int64 values as strings
        "trashed": file.trashed,
    }
    if file.drive_id:
        body["driveId"] = file.drive_id  # and no `permissions`: Drive sends them only for My Drive
    else:
        body["permissions"] = [permission_json(p) for p in file.permissions]
    if isinstance(file.content, bytes) and not file.is_google_native:
        body["md5Checksum"] = md5_hex(file.content)
        body["size"] = str(len(file.content))
    formats = export_formats(file.mime_type)
    if formats:
        body["exportLinks"] = {
            target: f"{base_url}/drive/v3/files/{file.id}/export?mimeType={quote(target, safe='')}"
            for target in formats
        }
    return body


def shortcut_json(file: DriveFile, store: Store, base_url: str) -> dict[str, Any]:
    """Render a shortcut, whose target type comes from the target file."""
    body = file_json(file, base_url)
    target = store.files.get(file.target_id or "")
    body["shortcutDetails"] = {
        "targetId": file.target_id,
        "targetMimeType": target.mime_type if target else OCTET_STREAM,
    }
    return body


def render(file: DriveFile, store: Store, base_url: str) -> dict[str, Any]:
    """Render any file resource."""
    return shortcut_json(file, store, base_url) if file.target_id is not None else file_json(file, base_url)


def change_json(change: Change, store: Store, base_url: str) -> dict[str, Any]:
    """Render a change; removed files carry no file resource."""
    if change.file_id is None:
        return drive_change_json(change, store)
    body: dict[str, Any] = {
        "kind": "drive#change",
        "changeType": "file",
        "fileId": change.file_id,
        "removed": change.removed,
        "time": rfc3339(change.time),
    }
    file = store.files.get(change.file_id)
    if change.removed or file is None:
        body["removed"] = True
    else:
        body["file"] = render(file, store, base_url)
    return body


def drive_change_json(change: Change, store: Store) -> dict[str, Any]:
    """Render a change of a shared drive itself (its name or its members)."""
    drive = store.drives.get(change.drive_id or "")
    body: dict[str, Any] = {
        "kind": "drive#change",
        "changeType": "drive",
        "driveId": change.drive_id,
        "removed": change.removed or drive is None,
        "time": rfc3339(change.time),
    }
    if drive is not None and not change.removed:
        body["drive"] = drive_json(drive)
    return body


def google_error(status: int, reason: str, message: str, **extra: str) -> web.Response:
    """Answer in Google's JSON error format."""
    domain = _DOMAINS.get(status, "global") if reason in _RATE_REASONS else "global"
    error = {"message": message, "domain": domain, "reason": reason, **extra}
    body = {"error": {"code": status, "message": message, "errors": [error]}}
    return web.json_response(body, status=status)


def not_found(file_id: str) -> web.Response:
    return google_error(
        404, "notFound", f"File not found: {file_id}.", location="fileId", locationType="parameter"
    )
