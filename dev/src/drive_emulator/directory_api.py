"""The Admin SDK Directory endpoints the indexer calls: users.list, groups.list, members.list."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from aiohttp import web

from drive_emulator import auth
from drive_emulator.drive_api import STORE, decode_offset, encode_offset
from drive_emulator.resources import google_error
from drive_emulator.store import Group, Store, User
from drive_emulator.visibility import domain_of

CUSTOMER_ID = "C00emulator"
MAX_RESULTS = 200  # groups.list and members.list
MAX_USERS = 500  # users.list, which answers 100 unless asked for more
USER_SCOPE = "https://www.googleapis.com/auth/admin.directory.user"
# users.list `query` clauses we understand: field -> how a user answers it.
USER_QUERY_FIELDS: dict[str, Callable[[User], str]] = {
    "issuspended": lambda user: str(user.suspended).lower(),
    "isadmin": lambda user: str(user.admin).lower(),
    "email": lambda user: user.email,
}

routes = web.RouteTableDef()


def group_json(group: Group) -> dict[str, Any]:
    return {
        "kind": "admin#directory#group",
        "id": group.id,
        "email": group.email,
        "name": group.name,
        "directMembersCount": str(len(group.members)),
    }


def member_json(member: dict[str, Any]) -> dict[str, Any]:
    """A member as Google lists it; a CUSTOMER member (everyone in the account) has no e-mail."""
    body: dict[str, Any] = {"kind": "admin#directory#member", "role": member.get("role", "MEMBER")}
    body["type"] = member["type"]
    body["status"] = member.get("status", "ACTIVE")
    if member["type"] == "CUSTOMER":
        body["id"] = CUSTOMER_ID
    else:
        body["email"] = member["email"]
        digest = hashlib.sha256(member["email"].lower().encode()).hexdigest()
        body["id"] = str(int(digest, 16))[:21]
    return body


def find_group(store: Store, key: str) -> Group | None:
    """A group by e-mail (any case) or by id, as groupKey allows."""
    group = store.groups.get(key.lower())
    return group or next((g for g in store.groups.values() if g.id == key), None)


def bad_request(message: str) -> web.Response:
    return google_error(400, "invalid", message)


def user_json(user: User) -> dict[str, Any]:
    given, _, family = user.name.partition(" ")
    return {
        "kind": "admin#directory#user",
        "id": user.id,
        "primaryEmail": user.email,
        "name": {"givenName": given, "familyName": family, "fullName": user.name},
        "isAdmin": user.admin,
        "suspended": user.suspended,
        "archived": user.archived,
        "customerId": CUSTOMER_ID,
        "orgUnitPath": "/",
    }


def user_filter(query: str) -> Callable[[User], bool]:
    """Parse users.list's `query` (clauses like `isSuspended=false`, all must hold)."""
    clauses = []
    for clause in query.split():
        field, _, value = clause.partition("=")
        answer = USER_QUERY_FIELDS.get(field.lower())
        if answer is None or not value:
            raise ValueError(clause)
        clauses.append((answer, value.strip("'\"").lower()))
    return lambda user: all(answer(user).lower() == value for answer, value in clauses)


def paged(
    request: web.Request,
    kind: str,
    key: str,
    items: list[dict[str, Any]],
    *,
    default: int = MAX_RESULTS,
    cap: int = MAX_RESULTS,
) -> web.Response:
    """Answer one page (maxResults, pageToken); like Google, an empty page has no `key` at all."""
    try:
        offset = decode_offset(request.query.get("pageToken"))
        size = min(int(request.query.get("maxResults", default)), cap)
    except ValueError:
        return bad_request("Invalid Input")
    if size < 1:
        return bad_request("Invalid Input: maxResults")
    body: dict[str, Any] = {"kind": kind, "etag": f'"{len(items)}"'}
    if items[offset : offset + size]:
        body[key] = items[offset : offset + size]
    if offset + size < len(items):
        body["nextPageToken"] = encode_offset(offset + size)
    return web.json_response(body)


@routes.get("/admin/directory/v1/users")
async def list_users(request: web.Request) -> web.Response:
    grant = auth.grant_of(request)
    if grant is not None and USER_SCOPE not in grant.scope:
        return google_error(403, "insufficientPermissions", "Request had insufficient authentication scopes.")
    customer, domain = request.query.get("customer"), request.query.get("domain")
    if not (customer or domain):
        return bad_request("Bad Request")
    try:
        wanted = user_filter(request.query.get("query", ""))
    except ValueError as exc:
        return bad_request(f"Invalid Input: {exc}")
    users = sorted(request.app[STORE].users.values(), key=lambda u: u.email)
    if domain:
        users = [u for u in users if domain_of(u.email) == domain.lower()]
    items = [user_json(u) for u in users if wanted(u)]
    return paged(request, "admin#directory#users", "users", items, default=100, cap=MAX_USERS)


@routes.get("/admin/directory/v1/groups")
async def list_groups(request: web.Request) -> web.Response:
    store = request.app[STORE]
    customer, domain = request.query.get("customer"), request.query.get("domain")
    user = (request.query.get("userKey") or "").lower()
    if not (customer or domain or user):
        return bad_request("Bad Request: customer, domain or userKey is required")
    groups = sorted(store.groups.values(), key=lambda g: g.email)
    if domain:
        groups = [g for g in groups if g.email.rpartition("@")[2].lower() == domain.lower()]
    if user:
        groups = [g for g in groups if any(m.get("email", "").lower() == user for m in g.members)]
    return paged(request, "admin#directory#groups", "groups", [group_json(g) for g in groups])


@routes.get("/admin/directory/v1/groups/{group_key}/members")
async def list_members(request: web.Request) -> web.Response:
    group = find_group(request.app[STORE], request.match_info["group_key"])
    if group is None:
        return google_error(404, "notFound", "Resource Not Found: groupKey")
    roles = {r.strip() for r in request.query.get("roles", "").split(",") if r.strip()}
    members = [member_json(m) for m in group.members]
    if roles:
        members = [m for m in members if m["role"] in roles]
    return paged(request, "admin#directory#members", "members", members)
