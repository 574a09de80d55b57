"""The Drive v3 endpoints the indexer calls, answered as Google answers them."""

from __future__ import annotations

import base64
import binascii
import time
from typing import Any

from aiohttp import web

from drive_emulator import exports
from drive_emulator.notifier import Notifier
from drive_emulator.resources import change_json, google_error, not_found, render
from drive_emulator.store import Channel, DriveFile, Store, new_id

STORE = web.AppKey("store", Store)
NOTIFIER = web.AppKey("notifier", Notifier)

MAX_PAGE_SIZE = 1000
# Drive caps a changes channel at one week; without an expiration we give it an hour.
MAX_CHANNEL_SECONDS = 7 * 24 * 3600
DEFAULT_CHANNEL_SECONDS = 3600

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


def live_file(request: web.Request) -> DriveFile | None:
    return request.app[STORE].files.get(request.match_info["file_id"])


@routes.get("/drive/v3/changes/startPageToken")
async def start_page_token(request: web.Request) -> web.Response:
    token = request.app[STORE].start_page_token()
    return web.json_response({"kind": "drive#startPageToken", "startPageToken": token})


@routes.get("/drive/v3/changes")
async def list_changes(request: web.Request) -> web.Response:
    store = request.app[STORE]
    token = request.query.get("pageToken")
    if not token:
        return google_error(400, "required", "Required parameter: pageToken", location="pageToken")
    try:
        start, size = int(token), page_size(request)
    except ValueError as exc:
        return invalid(f"Invalid Value: {exc}", "pageToken")
    changes = store.changes_since(start)
    if request.query.get("includeRemoved", "true") == "false":
        changes = [c for c in changes if not c.removed and (c.file_id is None or c.file_id in store.files)]
    page, rest = changes[:size], changes[size:]
    body: dict[str, Any] = {
        "kind": "drive#changeList",
        "changes": [change_json(change, store, base_url(request)) for change in page],
    }
    if rest:
        body["nextPageToken"] = str(rest[0].id)
    else:
        body["newStartPageToken"] = store.start_page_token()
    return web.json_response(body)


@routes.post("/drive/v3/changes/watch")
async def watch_changes(request: web.Request) -> web.Response:
    store = request.app[STORE]
    body = await request.json()
    token = request.query.get("pageToken")
    if not token:
        return google_error(400, "required", "Required parameter: pageToken", location="pageToken")
    if body.get("type") not in ("web_hook", "webhook") or not body.get("address") or not body.get("id"):
        return google_error(400, "invalid", "Channel needs id, type web_hook and address")
    if body["id"] in store.channels:
        return google_error(400, "channelIdNotUnique", f"Channel id {body['id']} not unique")
    now_ms = int(time.time() * 1000)
    wanted = int(body.get("expiration") or now_ms + DEFAULT_CHANNEL_SECONDS * 1000)
    channel = Channel(
        id=body["id"],
        resource_id=base64.urlsafe_b64encode(new_id().encode()).decode()[:27],
        resource_uri=f"{base_url(request)}/drive/v3/changes?alt=json&pageToken={token}",
        address=body["address"],
        token=body.get("token"),
        expiration_ms=min(wanted, now_ms + MAX_CHANNEL_SECONDS * 1000),
    )
    store.channels[channel.id] = channel
    request.app[NOTIFIER].watch(channel)
    answer = {
        "kind": "api#channel",
        "id": channel.id,
        "resourceId": channel.resource_id,
        "resourceUri": channel.resource_uri,
        "expiration": str(channel.expiration_ms),
    }
    if channel.token:
        answer["token"] = channel.token
    return web.json_response(answer)


@routes.post("/drive/v3/channels/stop")
async def stop_channel(request: web.Request) -> web.Response:
    store = request.app[STORE]
    body = await request.json()
    channel = store.channels.get(body.get("id", ""))
    if channel is None or channel.resource_id != body.get("resourceId"):
        return google_error(404, "notFound", f"Channel '{body.get('id')}' not found for project")
    del store.channels[channel.id]
    request.app[NOTIFIER].stop(channel.id)
    return web.Response(status=204)


@routes.get("/drive/v3/files")
async def list_files(request: web.Request) -> web.Response:
    store = request.app[STORE]
    query = request.query.get("q", "").replace(" ", "")
    try:
        offset, size = decode_offset(request.query.get("pageToken")), page_size(request)
    except ValueError as exc:
        return invalid(f"Invalid Value: {exc}", "pageToken")
    files = [f for f in store.files.values() if "trashed=false" not in query or not f.trashed]
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
