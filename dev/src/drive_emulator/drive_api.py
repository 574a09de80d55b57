"""The Drive v3 file endpoints the indexer calls, answered as Google answers the caller."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from aiohttp import web

from drive_emulator import auth, exports
from drive_emulator.feeds import Feeds
from drive_emulator.notifier import Notifier
from drive_emulator.resources import google_error, not_found, render
from drive_emulator.store import DriveFile, Store
from drive_emulator.visibility import Viewer, can_open, discoverable, member_of, shared_with

STORE = web.AppKey("store", Store)
FEEDS = web.AppKey("feeds", Feeds)
NOTIFIER = web.AppKey("notifier", Notifier)

MAX_PAGE_SIZE = 1000
CORPORA = frozenset({"user", "domain", "drive", "allDrives"})
ONLY_WITH_DRIVE_CORPUS = "The driveId parameter must be specified if and only if corpora is set to drive."

routes = web.RouteTableDef()


def base_url(request: web.Request) -> str:
    return f"{request.scheme}://{request.host}"


def page_size(request: web.Request, default: int = 100) -> int:
    value = int(request.query.get("pageSize", default))
    if not 1 <= value <= MAX_PAGE_SIZE:
        raise ValueError(f"pageSize must be between 1 and {MAX_PAGE_SIZE}")
    return value


def encode_offset(offset: int) -> str:
    """An opaque files.list page token, so callers cannot build their own."""
    return base64.urlsafe_b64encode(f"offset:{offset}".encode()).decode()


def decode_offset(token: str | None) -> int:
    if not token:
        return 0
    try:
        kind, _, value = base64.urlsafe_b64decode(token).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise ValueError("malformed page token") from exc
    if kind != "offset":
        raise ValueError("malformed page token")
    return int(value)


def invalid(message: str, location: str) -> web.Response:
    return google_error(400, "invalid", message, location=location, locationType="parameter")


def flag(request: web.Request, name: str) -> bool:
    return request.query.get(name, "false").lower() == "true"


def who(request: web.Request) -> Viewer | None:
    """The user the request acts as; None for the all-seeing caller."""
    email = auth.caller(request)
    return None if email is None else request.app[FEEDS].viewer(email)


def drive_refused(request: web.Request, viewer: Viewer | None, drive_id: str) -> web.Response | None:
    """404 unless the shared drive exists and the caller is a member of it (or administers it)."""
    drive = request.app[STORE].drives.get(drive_id)
    admin = viewer is not None and viewer.admin and flag(request, "useDomainAdminAccess")
    if drive is not None and (viewer is None or admin or member_of(viewer, drive)):
        return None
    return google_error(
        404, "notFound", f"Shared drive not found: {drive_id}", location="driveId", locationType="parameter"
    )


def live_file(request: web.Request) -> DriveFile | None:
    """The file named in the path, if it exists and the caller may open it."""
    store = request.app[STORE]
    file = store.files.get(request.match_info["file_id"])
    viewer = who(request)
    if file is None or (viewer is not None and not can_open(viewer, file, store.drives)):
        return None
    return file


def listed(store: Store, viewer: Viewer, corpora: str, all_drives: bool) -> list[DriveFile]:
    """The files a user's files.list covers (corpora=drive is answered before this)."""

    def wanted(file: DriveFile) -> bool:
        if file.drive_id and not all_drives:
            return False  # shared-drive items only for callers that ask for them
        mine = shared_with(viewer, file.permissions)
        if corpora == "allDrives":
            drive = store.drives.get(file.drive_id or "")
            return mine or (drive is not None and member_of(viewer, drive))
        if corpora == "domain":
            return mine or discoverable(viewer, file.permissions)
        return mine

    return [file for file in store.files.values() if wanted(file)]


def files_of(request: web.Request) -> list[DriveFile] | web.Response:
    """The files files.list answers with, before paging, or the error that refuses the call."""
    store, viewer = request.app[STORE], who(request)
    corpora, drive_id = request.query.get("corpora", "user"), request.query.get("driveId")
    if corpora not in CORPORA:
        return invalid(f"Invalid Value: {corpora}", "corpora")
    if (corpora == "drive") != (drive_id is not None):
        return invalid(ONLY_WITH_DRIVE_CORPUS, "driveId")
    if drive_id is not None:
        refused = drive_refused(request, viewer, drive_id)
        return refused or [f for f in store.files.values() if f.drive_id == drive_id]
    if viewer is None:
        return list(store.files.values())
    return listed(store, viewer, corpora, flag(request, "includeItemsFromAllDrives"))


@routes.get("/drive/v3/files")
async def list_files(request: web.Request) -> web.Response:
    store = request.app[STORE]
    query = request.query.get("q", "").replace(" ", "")
    try:
        offset, size = decode_offset(request.query.get("pageToken")), page_size(request)
    except ValueError as exc:
        return invalid(f"Invalid Value: {exc}", "pageToken")
    found = files_of(request)
    if isinstance(found, web.Response):
        return found
    files = [f for f in found if "trashed=false" not in query or not f.trashed]
    body: dict[str, Any] = {
        "kind": "drive#fileList",
        "incompleteSearch": False,
        "files": [render(f, store, base_url(request)) for f in files[offset : offset + size]],
    }
    if offset + size < len(files):
        body["nextPageToken"] = encode_offset(offset + size)
    return web.json_response(body)


@routes.get("/drive/v3/files/{file_id}")
async def get_file(request: web.Request) -> web.Response:
    file = live_file(request)
    if file is None:
        return not_found(request.match_info["file_id"])
    if request.query.get("alt") != "media":
        return web.json_response(render(file, request.app[STORE], base_url(request)))
    if file.is_google_native or not isinstance(file.content, bytes):
        return google_error(
            403,
            "fileNotDownloadable",
            "Only files with binary content can be downloaded. Use Export with Docs Editors files.",
        )
    return web.Response(body=file.content, content_type=file.mime_type)


@routes.get("/drive/v3/files/{file_id}/export")
async def export_file(request: web.Request) -> web.Response:
    file = live_file(request)
    if file is None:
        return not_found(request.match_info["file_id"])
    target = request.query.get("mimeType")
    if not target:
        return google_error(400, "required", "Required parameter: mimeType", location="mimeType")
    if not exports.export_formats(file.mime_type):
        return google_error(403, "fileNotExportable", "Export only supports Docs Editors files.")
    try:
        data = exports.export(file, target)
    except exports.UnsupportedExport:
        return google_error(400, "badRequest", "The requested conversion is not supported.")
    if len(data) > exports.EXPORT_LIMIT_BYTES:
        return google_error(403, "exportSizeLimitExceeded", "This file is too large to be exported.")
    return web.Response(body=data, content_type=target)
