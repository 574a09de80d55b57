"""Assemble the emulator: Drive v3 and Directory routes, control API, token endpoint, faults, notifier."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
from aiohttp import web

from drive_emulator import (
    auth,
    changes_api,
    control,
    control_sharing,
    control_users,
    directory_api,
    drive_api,
    seed,
    sharing_api,
)
from drive_emulator.faults import FAULTS, inject_faults
from drive_emulator.feeds import Feeds
from drive_emulator.notifier import Notifier
from drive_emulator.store import Store
from drive_emulator.visibility import may_sign_in

MAX_UPLOAD_BYTES = 64 * 1024 * 1024  # control uploads may exceed the 10 MB export limit on purpose


def create_app(
    *,
    seed_samples: bool = False,
    require_auth: bool = False,
    notify_attempts: int = 5,
    notify_backoff_seconds: float = 0.2,
) -> web.Application:
    """Make the emulator app with an empty (or seeded) Drive."""
    middlewares = [auth.require_bearer, inject_faults]
    app = web.Application(middlewares=middlewares, client_max_size=MAX_UPLOAD_BYTES)
    store = Store()
    feeds = Feeds(store)
    app[drive_api.STORE] = store
    app[drive_api.FEEDS] = feeds
    app[FAULTS] = []
    app[auth.TOKENS] = auth.Tokens(required=require_auth, admits=lambda email: may_sign_in(store, email))

    async def notifier(app: web.Application) -> AsyncIterator[None]:
        timeout = aiohttp.ClientTimeout(total=10)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            app[drive_api.NOTIFIER] = Notifier(store, feeds, session, notify_attempts, notify_backoff_seconds)
            yield
            await app[drive_api.NOTIFIER].close()

    app.cleanup_ctx.append(notifier)
    app.add_routes(drive_api.routes)
    app.add_routes(changes_api.routes)
    app.add_routes(sharing_api.routes)
    app.add_routes(directory_api.routes)
    app.add_routes(control.routes)
    app.add_routes(control_sharing.routes)
    app.add_routes(control_users.routes)
    app.add_routes(auth.routes)
    app.router.add_get("/healthz", healthz)
    if seed_samples:
        seed.seed(store)
    return app


async def healthz(_: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})
