"""`drive-index groups sync`: copy Google Groups membership from the Directory API now."""

from __future__ import annotations

import argparse

from drive_index_cli import checks
from drive_index_cli.connections import open_pool
from shared.settings import load


async def groups_command(args: argparse.Namespace) -> int:
    from drive.directory import DirectoryClient, DirectoryForbidden, DirectorySettings
    from drive.groups import sync_groups

    async with open_pool() as pool, DirectoryClient.from_settings(load(DirectorySettings)) as directory:
        try:
            synced = await sync_groups(directory, pool)
        except DirectoryForbidden as exc:
            raise checks.CheckFailedError(
                f"the Directory API refused: {exc}. Grant the service account domain-wide delegation for "
                "https://www.googleapis.com/auth/admin.directory.group.readonly and set GOOGLE_SUBJECT "
                "to an admin allowed to read groups"
            ) from None
    print(f"groups synced: {synced.groups} groups, {synced.edges} memberships in {synced.seconds}s")
    return 0
