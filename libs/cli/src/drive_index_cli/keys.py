"""`drive-index apikey create|list|revoke`: API keys for search's service callers."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from typing import Any

from drive_index_cli import checks
from drive_index_cli.connections import open_pool
from drive_index_cli.output import print_rows
from shared import apikeys


async def apikey_command(args: argparse.Namespace) -> int:
    async with open_pool() as pool:
        if args.action == "create":
            try:
                key, token = await apikeys.create(
                    pool,
                    args.email,
                    args.groups.split(","),
                    expires_at=args.expires,
                    description=args.description,
                )
            except ValueError as exc:
                raise checks.CheckFailedError(str(exc)) from None
            until = f", expires {key.expires_at.isoformat(timespec='minutes')}" if key.expires_at else ""
            print(f"API key {key.id} for {key.email}{until}; shown once, keep it in a secret store:\n{token}")
            print("Callers send it as `Authorization: Bearer <key>`; the CLI reads DRIVE_INDEX_API_KEY.")
        elif args.action == "list":
            keys = await apikeys.list_keys(pool, include_inactive=args.all)
            print_rows([_apikey_row(key) for key in keys])
        elif not await apikeys.revoke(pool, args.id):
            raise checks.CheckFailedError(
                f"no active API key {args.id!r}; see `drive-index apikey list --all`"
            )
        else:
            print(f"API key {args.id} revoked; requests with it are refused from now on")
    return 0


def _apikey_row(key: Any) -> dict[str, object]:
    def when(value: datetime | None) -> str:
        return value.isoformat(timespec="minutes") if value else "-"

    return {
        "id": key.id,
        "email": key.email,
        "groups": ",".join(key.groups) or "-",
        "state": key.state(datetime.now(UTC)),
        "created": when(key.created_at),
        "expires": when(key.expires_at),
        "last used": when(key.last_used_at),
        "description": key.description or "-",
    }
