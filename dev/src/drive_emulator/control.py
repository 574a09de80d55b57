"""The control API that tests and `make dev` use to change the emulated Drive."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Awaitable, Callable
from dataclasses import asdict
from typing import Any, cast

from aiohttp import web

from drive_emulator import seed
from drive_emulator.drive_api import FEEDS, STORE, base_url
from drive_emulator.faults import FAULTS, Fault
from drive_emulator.resources import render
from drive_emulator.store import Content, DriveFile, Store, checked_permissions, new_id
from shared.mime import DOCUMENT, FOLDER, OCTET_STREAM, PRESENTATION, SHORTCUT, SPREADSHEET

routes = web.RouteTableDef()
# Which X-Goog-Changed value each editable field produces.
CHANGED = {"content": "content", "name": "properties", "parents": "parents", "permissions": "permissions"}


def decode_content(mime_type: str, body: dict[str, Any]) -> Content:
    """Read `content` (or `content_base64`) in the form the file's type keeps it."""
    if "content_base64" in body:
        return base64.b64decode(body["content_base64"], validate=True)
    if mime_type in (FOLDER, SHORTCUT):
        return None
    content: Any = body.get("content")
    expected: type = {SPREADSHEET: dict, PRESENTATION: list}.get(mime_type, str)
    if content is None:
        content = expected()
    if not isinstance(content, expected):
        raise ValueError(f"content of {mime_type} must be a {expected.__name__}")
    if isinstance(content, str) and mime_type != DOCUMENT:
        return content.encode()  # text given for a binary file
    return cast(Content, content)  # a dict of tabs, a list of slides, or a Doc's Markdown


def descendants(store: Store, folder_id: str) -> list[str]:
    """Every file below a folder, depth first."""
    found: list[str] = []
    for file in list(store.files.values()):
        if folder_id in file.parents:
            found.append(file.id)
            found.extend(descendants(store, file.id))
    return found


def create(store: Store, body: dict[str, Any]) -> DriveFile:
    """Create a file from a control request body."""
    if not isinstance(body.get("name"), str):
        raise ValueError("name is required")
    mime_type = body.get("mimeType", OCTET_STREAM)
    file = DriveFile(
        id=body.get("id") or new_id(),
        name=body["name"],
        mime_type=mime_type,
        parents=list(body.get("parents", [])),
        content=decode_content(mime_type, body),
        drive_id=body.get("driveId"),
        target_id=body.get("targetId") if mime_type == SHORTCUT else None,
    )
    if file.drive_id is not None and file.drive_id not in store.drives:
        raise ValueError(f"no shared drive {file.drive_id}: create it with POST /control/drives")
    if "permissions" in body:
        file.permissions = checked_permissions(body["permissions"])
    elif file.drive_id:
        file.permissions = []  # a shared drive owns its files: access comes from its members
    return store.add(file)


def with_errors(handler: Callable[[web.Request], Awaitable[web.Response]]) -> Any:
    """Answer 404 for unknown files and 400 for bad bodies, as JSON."""

    async def wrapped(request: web.Request) -> web.Response:
        try:
            return await handler(request)
        except KeyError as exc:
            return web.json_response({"error": f"not found: {exc.args[0]}"}, status=404)
        except (ValueError, TypeError, binascii.Error) as exc:
            return web.json_response({"error": str(exc)}, status=400)

    return wrapped


@routes.post("/control/files")
@with_errors
async def create_file(request: web.Request) -> web.Response:
    file = create(request.app[STORE], await request.json())
    return web.json_response(render(file, request.app[STORE], base_url(request)), status=201)


@routes.get("/control/files")
async def all_files(request: web.Request) -> web.Response:
    store = request.app[STORE]
    return web.json_response([render(file, store, base_url(request)) for file in store.files.values()])


@routes.patch("/control/files/{file_id}")
@with_errors
async def update_file(request: web.Request) -> web.Response:
    store = request.app[STORE]
    file = store.files[request.match_info["file_id"]]
    body = await request.json()
    unknown = set(body) - {*CHANGED, "content_base64"}
    if unknown:
        raise ValueError(f"cannot change {sorted(unknown)}")
    values: dict[str, Any] = {k: body[k] for k in ("name", "parents") if k in body}
    if "permissions" in body:
        values["permissions"] = checked_permissions(body["permissions"])
    if "content" in body or "content_base64" in body:
        values["content"] = decode_content(file.mime_type, body)
    what = ",".join(sorted({CHANGED[name] for name in values}))
    file = store.update(file.id, what or "properties", **values)
    return web.json_response(render(file, store, base_url(request)))


@routes.post("/control/files/{file_id}/trash")
@with_errors
async def trash_file(request: web.Request) -> web.Response:
    return set_trashed(request, trashed=True)


@routes.post("/control/files/{file_id}/untrash")
@with_errors
async def untrash_file(request: web.Request) -> web.Response:
    return set_trashed(request, trashed=False)


def set_trashed(request: web.Request, *, trashed: bool) -> web.Response:
    """(Un)trash a file and, like Drive, everything inside it."""
    store = request.app[STORE]
    file_id = request.match_info["file_id"]
    for target in [file_id, *descendants(store, file_id)]:
        store.update(target, "properties", trashed=trashed)
    return web.json_response(render(store.files[file_id], store, base_url(request)))


@routes.delete("/control/files/{file_id}")
@with_errors
async def delete_file(request: web.Request) -> web.Response:
    store = request.app[STORE]
    file_id = request.match_info["file_id"]
    if file_id not in store.files:
        raise KeyError(file_id)
    for target in [*reversed(descendants(store, file_id)), file_id]:
        store.delete(target)
    return web.Response(status=204)


@routes.post("/control/faults")
@with_errors
async def add_fault(request: web.Request) -> web.Response:
    fault = Fault.from_json(await request.json())
    request.app[FAULTS].append(fault)
    return web.json_response(fault.as_json(), status=201)


@routes.get("/control/faults")
async def list_faults(request: web.Request) -> web.Response:
    return web.json_response([fault.as_json() for fault in request.app[FAULTS] if fault.count > 0])


@routes.delete("/control/faults")
async def clear_faults(request: web.Request) -> web.Response:
    request.app[FAULTS].clear()
    return web.Response(status=204)


@routes.get("/control/channels")
async def list_channels(request: web.Request) -> web.Response:
    channels = request.app[STORE].channels.values()
    return web.json_response([{**asdict(c), "expired": c.expired()} for c in channels])


@routes.post("/control/seed")
async def seed_files(request: web.Request) -> web.Response:
    store = request.app[STORE]
    files = seed.seed(store)
    request.app[FEEDS].settle()  # the sample groups and users arrived beside the files
    return web.json_response([render(file, store, base_url(request)) for file in files], status=201)
