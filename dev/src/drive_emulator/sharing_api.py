"""Drive v3 sharing endpoints: permissions.list (with shared-drive inheritance) and drives.list."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from drive_emulator.drive_api import STORE, decode_offset, encode_offset, flag, invalid, live_file, who
from drive_emulator.resources import drive_json, google_error, not_found, permission_json
from drive_emulator.store import DriveFile, SharedDrive
from drive_emulator.visibility import member_of

MAX_PERMISSIONS_PAGE = 100  # Drive coerces larger pageSize values down to 100
MAX_DRIVES_PAGE = 100
# The stronger role wins when a drive member also holds a grant on the file itself.
ROLE_RANK = {"reader": 0, "commenter": 1, "writer": 2, "fileOrganizer": 3, "organizer": 4, "owner": 5}

routes = web.RouteTableDef()


def detailed(permission: dict[str, Any], kind: str, inherited_from: str | None) -> dict[str, Any]:
    """A shared-drive item's grant with Drive's permissionDetails (member of the drive, or file)."""
    detail: dict[str, Any] = {"permissionType": kind, "role": permission["role"]}
    detail["inherited"] = inherited_from is not None
    if inherited_from is not None:
        detail["inheritedFrom"] = inherited_from
    return {**permission_json(permission), "permissionDetails": [detail]}


def merge(grants: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One permission per principal, as Drive lists them: highest role, every detail kept."""
    merged: dict[str, dict[str, Any]] = {}
    for grant in grants:
        seen = merged.get(grant["id"])
        if seen is None:
            merged[grant["id"]] = grant
            continue
        seen["permissionDetails"] = [*seen["permissionDetails"], *grant["permissionDetails"]]
        if ROLE_RANK.get(grant["role"], -1) > ROLE_RANK.get(seen["role"], -1):
            seen["role"] = grant["role"]
    return list(merged.values())


def shared_drive_permissions(drive: SharedDrive, file: DriveFile | None) -> list[dict[str, Any]]:
    """A shared-drive item's permissions: the drive's members (inherited) and the file's own."""
    if file is None:  # the drive itself: its members, not inherited from anything
        return merge([detailed(m, "member", None) for m in drive.members])
    inherited = [detailed(m, "member", drive.id) for m in drive.members]
    return merge(inherited + [detailed(p, "file", None) for p in file.permissions])


def page(request: web.Request, items: list[Any], default: int, cap: int) -> tuple[list[Any], str | None]:
    """Cut one page out of `items`; return it and the token of the next one."""
    offset = decode_offset(request.query.get("pageToken"))
    size = min(int(request.query.get("pageSize", default)), cap)
    if size < 1:
        raise ValueError("pageSize must be positive")
    rest = offset + size < len(items)
    return items[offset : offset + size], encode_offset(offset + size) if rest else None


def drive_grants(request: web.Request, file: DriveFile | None) -> list[dict[str, Any]] | None:
    """A shared drive's (or its item's) grants, or None where the caller may not see them."""
    drive_id = request.match_info["file_id"] if file is None else file.drive_id
    drive = request.app[STORE].drives.get(drive_id or "")
    if drive is None or not flag(request, "supportsAllDrives"):
        return None  # shared-drive items exist only for callers that support them
    viewer = who(request)
    admin = viewer is not None and viewer.admin and flag(request, "useDomainAdminAccess")
    if file is None and viewer is not None and not (admin or member_of(viewer, drive)):
        return None
    return shared_drive_permissions(drive, file)


@routes.get("/drive/v3/files/{file_id}/permissions")
async def list_permissions(request: web.Request) -> web.Response:
    file_id = request.match_info["file_id"]
    file = live_file(request)
    if file is None and file_id in request.app[STORE].files:
        return not_found(file_id)  # a file the caller may not open
    if file is not None and file.drive_id is None:
        grants = [permission_json(p) for p in file.permissions]
        default = len(grants) or 1  # My Drive answers the whole list unless asked for pages
    else:
        found = drive_grants(request, file)
        if found is None:
            return not_found(file_id)
        grants, default = found, MAX_PERMISSIONS_PAGE
    try:
        items, token = page(request, grants, default, MAX_PERMISSIONS_PAGE)
    except ValueError as exc:
        return invalid(f"Invalid Value: {exc}", "pageToken")
    body: dict[str, Any] = {"kind": "drive#permissionList", "permissions": items}
    if token:
        body["nextPageToken"] = token
    return web.json_response(body)


@routes.get("/drive/v3/drives")
async def list_drives(request: web.Request) -> web.Response:
    """drives.list: the caller's drives; every drive for a domain admin with useDomainAdminAccess."""
    viewer = who(request)
    drives = list(request.app[STORE].drives.values())
    if viewer is not None and flag(request, "useDomainAdminAccess"):
        if not viewer.admin:
            return google_error(
                403,
                "insufficientAdministratorPrivileges",
                "The user does not have sufficient administrator privileges for this operation.",
            )
    elif viewer is not None:
        drives = [d for d in drives if member_of(viewer, d)]
    try:
        items, token = page(request, [drive_json(d) for d in drives], 10, MAX_DRIVES_PAGE)
    except ValueError as exc:
        return invalid(f"Invalid Value: {exc}", "pageToken")
    body: dict[str, Any] = {"kind": "drive#driveList", "drives": items}
    if token:
        body["nextPageToken"] = token
    return web.json_response(body)
