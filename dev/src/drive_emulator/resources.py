"""Drive v3 JSON shapes: file and change resources, and Google's error body."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from aiohttp import web

from drive_emulator.exports import export_formats
from drive_emulator.store import (
    DOCUMENT,
    FOLDER,
    PRESENTATION,
    SPREADSHEET,
    Change,
    DriveFile,
    Store,
    md5_hex,
    rfc3339,
)

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


def permission_json(permission: dict[str, Any], index: int) -> dict[str, Any]:
    body = {"kind": "drive#permission", "id": permission.get("id") or f"perm{index}", **permission}
    if body["type"] == "anyone":
        body["id"] = "anyoneWithLink"
    return body


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
        "permissions": [permission_json(p, i) for i, p in enumerate(file.permissions)],
    }
    if file.drive_id:
        body["driveId"] = file.drive_id
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
        "targetMimeType": target.mime_type if target else "application/octet-stream",
    }
    return body


def render(file: DriveFile, store: Store, base_url: str) -> dict[str, Any]:
    """Render any file resource."""
    return shortcut_json(file, store, base_url) if file.target_id is not None else file_json(file, base_url)


def change_json(change: Change, store: Store, base_url: str) -> dict[str, Any]:
    """Render a change; removed files carry no file resource."""
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
