"""Control API for sharing beyond one file: shared drives and their members, Directory groups."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from drive_emulator.control import with_errors
from drive_emulator.directory_api import group_json, member_json
from drive_emulator.drive_api import FEEDS, STORE
from drive_emulator.resources import drive_json, permission_json
from drive_emulator.store import (
    DRIVE_ROLES,
    Group,
    SharedDrive,
    checked_members,
    checked_permissions,
    new_id,
)

# Shared drives have no "anyone" members.
MEMBER_TYPES = frozenset({"user", "group", "domain"})

routes = web.RouteTableDef()


def drive_members(value: Any) -> list[dict[str, Any]]:
    return checked_permissions(value, MEMBER_TYPES, DRIVE_ROLES)


def shared_drive_json(drive: SharedDrive) -> dict[str, Any]:
    return {**drive_json(drive), "members": [permission_json(m) for m in drive.members]}


def directory_group_json(group: Group) -> dict[str, Any]:
    return {**group_json(group), "members": [member_json(m) for m in group.members]}


@routes.post("/control/drives")
@with_errors
async def create_drive(request: web.Request) -> web.Response:
    body = await request.json()
    if not isinstance(body.get("name"), str):
        raise ValueError("name is required")
    drive = SharedDrive(
        body.get("id") or "0A" + new_id()[2:], body["name"], drive_members(body.get("members", []))
    )
    request.app[STORE].add_drive(drive)
    return web.json_response(shared_drive_json(drive), status=201)


@routes.get("/control/drives")
async def all_drives(request: web.Request) -> web.Response:
    return web.json_response([shared_drive_json(d) for d in request.app[STORE].drives.values()])


@routes.patch("/control/drives/{drive_id}")
@with_errors
async def update_drive(request: web.Request) -> web.Response:
    store = request.app[STORE]
    drive = store.drives[request.match_info["drive_id"]]
    body = await request.json()
    unknown = set(body) - {"members", "name"}
    if unknown or not body:
        raise ValueError(f"a drive's name and members can change, not {sorted(unknown)}")
    values: dict[str, Any] = {"name": str(body["name"])} if "name" in body else {}
    if "members" in body:
        values["members"] = drive_members(body["members"])
    store.update_drive(drive.id, "permissions" if "members" in body else "properties", **values)
    return web.json_response(shared_drive_json(drive))


@routes.post("/control/groups")
@with_errors
async def create_group(request: web.Request) -> web.Response:
    store = request.app[STORE]
    body = await request.json()
    if not isinstance(body.get("email"), str) or "@" not in body["email"]:
        raise ValueError("email is required")
    if body["email"].lower() in store.groups:
        raise ValueError(f"group {body['email']} exists")
    group = Group(body["email"], str(body.get("name") or body["email"]))
    group.members = checked_members(body.get("members", []))
    store.groups[group.email.lower()] = group
    request.app[FEEDS].settle()  # its members may now see what is shared with it
    return web.json_response(directory_group_json(group), status=201)


@routes.get("/control/groups")
async def all_groups(request: web.Request) -> web.Response:
    return web.json_response([directory_group_json(g) for g in request.app[STORE].groups.values()])


@routes.patch("/control/groups/{email}")
@with_errors
async def update_group(request: web.Request) -> web.Response:
    group = request.app[STORE].groups[request.match_info["email"].lower()]
    body = await request.json()
    unknown = set(body) - {"members", "name"}
    if unknown:
        raise ValueError(f"cannot change {sorted(unknown)}")
    if "members" in body:
        group.members = checked_members(body["members"])
        request.app[FEEDS].settle()  # who sees what is shared with the group changed
    if "name" in body:
        group.name = str(body["name"])
    return web.json_response(directory_group_json(group))
