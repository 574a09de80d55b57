"""Drive v3 change feeds: the caller's own (as a user), one shared drive's, or everything's.

`driveId` narrows a feed to one shared drive (its files and its own drive changes);
`includeItemsFromAllDrives=true` lets a user's feed carry items of the shared drives they belong
to. A request without a token reads the whole log, as one all-seeing caller.
"""

from __future__ import annotations

import base64
import time
from typing import Any

from aiohttp import web

from drive_emulator.drive_api import (
    FEEDS,
    NOTIFIER,
    STORE,
    base_url,
    drive_refused,
    flag,
    invalid,
    page_size,
    who,
)
from drive_emulator.feeds import in_scope
from drive_emulator.resources import change_json, google_error
from drive_emulator.store import Change, Channel, new_id

# Drive caps a changes channel at one week; without an expiration we give it an hour.
MAX_CHANNEL_SECONDS = 7 * 24 * 3600
DEFAULT_CHANNEL_SECONDS = 3600

routes = web.RouteTableDef()


def refused(request: web.Request) -> web.Response | None:
    """Refuse a feed of a shared drive the caller does not belong to; open the caller's feed."""
    viewer, drive_id = who(request), request.query.get("driveId")
    if viewer is not None:
        request.app[FEEDS].feed(viewer.email)  # a feed counts from its first use
    return None if drive_id is None else drive_refused(request, viewer, drive_id)


def feed_since(request: web.Request, token: int) -> list[Change]:
    """The latest entry of each item in the caller's feed from `token` on, narrowed as asked."""
    store, viewer = request.app[STORE], who(request)
    drive_id = request.query.get("driveId")
    if viewer is None:  # the all-seeing caller reads the store's own log
        return [c for c in store.changes_since(token) if in_scope(c, drive_id, all_drives=True)]
    feed = request.app[FEEDS].feed(viewer.email)
    all_drives = flag(request, "includeItemsFromAllDrives")
    return [c for c in feed.since(token) if in_scope(c, drive_id, all_drives)]


@routes.get("/drive/v3/changes/startPageToken")
async def start_page_token(request: web.Request) -> web.Response:
    refusal = refused(request)
    if refusal is not None:
        return refusal
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
    refusal = refused(request)
    if refusal is not None:
        return refusal
    changes = feed_since(request, start)
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


def new_channel(request: web.Request, body: dict[str, Any], token: str) -> Channel:
    """A channel on the feed the request names: its caller's, narrowed as the request asks."""
    viewer = who(request)
    now_ms = int(time.time() * 1000)
    wanted = int(body.get("expiration") or now_ms + DEFAULT_CHANNEL_SECONDS * 1000)
    return Channel(
        id=body["id"],
        resource_id=base64.urlsafe_b64encode(new_id().encode()).decode()[:27],
        resource_uri=f"{base_url(request)}/drive/v3/changes?alt=json&pageToken={token}",
        address=body["address"],
        token=body.get("token"),
        expiration_ms=min(wanted, now_ms + MAX_CHANNEL_SECONDS * 1000),
        subject=viewer.email if viewer is not None else None,
        drive_id=request.query.get("driveId"),
        all_drives=viewer is None or flag(request, "includeItemsFromAllDrives"),
    )


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
    refusal = refused(request)
    if refusal is not None:
        return refusal
    channel = new_channel(request, body, token)
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
