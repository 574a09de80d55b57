"""Control API for the users of the emulated domain: add, suspend or archive, remove, list."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from drive_emulator.control import with_errors
from drive_emulator.directory_api import user_json
from drive_emulator.drive_api import FEEDS, STORE
from drive_emulator.store import User

FLAGS = ("suspended", "archived", "admin")

routes = web.RouteTableDef()


def flags(body: dict[str, Any]) -> dict[str, bool]:
    """The boolean fields of a request body, checked."""
    values = {name: body[name] for name in FLAGS if name in body}
    if not all(isinstance(value, bool) for value in values.values()):
        raise ValueError(f"{', '.join(FLAGS)} must be booleans")
    return values


def user_of(request: web.Request) -> User:
    return request.app[STORE].users[request.match_info["email"].lower()]


@routes.post("/control/users")
@with_errors
async def create_user(request: web.Request) -> web.Response:
    store = request.app[STORE]
    body = await request.json()
    unknown = set(body) - {"email", "name", *FLAGS}
    if unknown:
        raise ValueError(f"a user has email, name, {', '.join(FLAGS)}; not {sorted(unknown)}")
    email = body.get("email")
    if not isinstance(email, str) or "@" not in email:
        raise ValueError("email is required")
    if email.lower() in store.users:
        raise ValueError(f"user {email} exists")
    default_name = email.partition("@")[0].replace(".", " ").title()
    user = User(email.lower(), str(body.get("name") or default_name))
    for name, value in flags(body).items():
        setattr(user, name, value)
    store.users[user.email] = user
    request.app[FEEDS].users_changed(user.email)  # their feed starts with what is shared now
    return web.json_response(user_json(user), status=201)


@routes.get("/control/users")
async def all_users(request: web.Request) -> web.Response:
    return web.json_response([user_json(u) for u in request.app[STORE].users.values()])


@routes.patch("/control/users/{email}")
@with_errors
async def update_user(request: web.Request) -> web.Response:
    user = user_of(request)
    body = await request.json()
    unknown = set(body) - {"name", *FLAGS}
    if unknown or not body:
        raise ValueError(f"a user's name, {', '.join(FLAGS)} can change, not {sorted(unknown)}")
    for name, value in flags(body).items():
        setattr(user, name, value)
    if "name" in body:
        user.name = str(body["name"])
    return web.json_response(user_json(user))


@routes.delete("/control/users/{email}")
@with_errors
async def delete_user(request: web.Request) -> web.Response:
    user = user_of(request)
    del request.app[STORE].users[user.email]
    request.app[FEEDS].users_changed(user.email)
    return web.Response(status=204)
