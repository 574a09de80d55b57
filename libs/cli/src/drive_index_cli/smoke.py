"""`drive-index smoke`: the post-deploy check: services ready, a replayed webhook queued, a search hit."""

from __future__ import annotations

import argparse
import secrets
import uuid
from datetime import UTC, datetime, timedelta

from drive import source_admin, watch
from drive_index_cli import checks
from drive_index_cli.connections import open_pool


async def smoke_command(args: argparse.Namespace) -> int:
    print("services:")
    names = ("webhook-gateway", "fetcher", "embedder", "search")
    urls = (args.gateway, args.fetcher, args.embedder, args.search)
    ready = [await checks.service_ready(name, url.rstrip("/")) for name, url in zip(names, urls, strict=True)]
    if not all(ready):
        raise checks.CheckFailedError("some services are not ready; see their /readyz above")
    print("webhook:")
    await _replay_webhook(args.gateway.rstrip("/"), args.source)
    if args.query:
        print("search:")
        hit = await checks.wait_for_hit(args.search.rstrip("/"), args.query, args.expect or "", args.timeout)
        checks.ok(f"{args.query!r} finds {hit['title']!r}", f"score {hit['score']:.3f}")
    print("smoke test passed")
    return 0


# How long the smoke test's throw-away channel would be accepted, were it left behind.
THROW_AWAY = timedelta(minutes=10)


async def _replay_webhook(gateway: str, source_id: str) -> None:
    """Send a signed `change` notification through a throw-away channel, as Google would."""
    channel_id, token = f"smoke-{uuid.uuid4()}", secrets.token_urlsafe(24)
    async with open_pool() as pool:
        await source_admin.ensure(pool, source_id)
        expires_at = datetime.now(UTC) + THROW_AWAY
        await watch.record(
            pool, channel_id, source_id=source_id, address=gateway, token=token, expires_at=expires_at
        )
        try:
            headers = {
                "X-Goog-Channel-ID": channel_id,
                "X-Goog-Channel-Token": token,
                "X-Goog-Message-Number": "1",
                "X-Goog-Resource-ID": "smoke",
                "X-Goog-Resource-State": "change",
                "X-Goog-Resource-URI": "https://www.googleapis.com/drive/v3/changes",
            }
            status, body = checks.http_json(
                f"{gateway}/webhooks/google-drive", method="POST", body=b"", headers=headers
            )
        finally:
            await watch.forget(pool, channel_id)
    if status != 200:
        raise checks.CheckFailedError(f"the gateway answered {status} to a replayed webhook: {body}")
    checks.ok("replayed webhook queued", f"source {source_id}")
