"""Google Groups membership copied from the Directory API (the emulator's) into PostgreSQL."""

from __future__ import annotations

import uuid

import asyncpg
import pytest

from drive.directory import DirectoryClient, DirectoryForbidden, DirectorySettings
from drive.groups import sync_groups
from drive_emulator import EmulatorControl, EmulatorServer


@pytest.fixture
async def directory(drive_server: EmulatorServer):  # type: ignore[no-untyped-def]
    settings = DirectorySettings(
        directory_api_endpoint=drive_server.directory_endpoint, directory_backoff_seconds=0.01
    )
    async with DirectoryClient.from_settings(settings) as client:
        yield client


async def edges(pool: asyncpg.Pool, suffix: str) -> set[tuple[str, str, str]]:
    rows = await pool.fetch("SELECT * FROM group_members WHERE group_email LIKE '%' || $1", suffix)
    return {(r["group_email"], r["member_email"], r["member_type"]) for r in rows}


async def test_sync_copies_direct_memberships_and_replaces_them_whole(
    drive_control: EmulatorControl, directory: DirectoryClient, pool: asyncpg.Pool
) -> None:
    domain = f"{uuid.uuid4().hex[:6]}.example"
    eng, platform = f"eng@{domain}", f"platform@{domain}"
    drive_control.create_group(platform, [{"email": f"Ada@{domain}", "type": "USER"}])
    drive_control.create_group(
        eng,
        [
            {"email": f"bob@{domain}", "type": "USER"},
            {"email": platform, "type": "GROUP"},
            {"type": "CUSTOMER"},  # everyone in the account: the domain grant says that already
        ],
    )
    synced = await sync_groups(directory, pool)
    assert (synced.groups, synced.edges) == (2, 3)
    assert await edges(pool, domain) == {
        (eng, f"bob@{domain}", "USER"),
        (eng, platform, "GROUP"),
        (platform, f"ada@{domain}", "USER"),
    }

    drive_control.set_group_members(eng, [{"email": platform, "type": "GROUP"}])  # bob leaves
    await sync_groups(directory, pool)
    assert await edges(pool, domain) == {(eng, platform, "GROUP"), (platform, f"ada@{domain}", "USER")}


async def test_a_failing_directory_changes_nothing(
    drive_control: EmulatorControl, directory: DirectoryClient, pool: asyncpg.Pool
) -> None:
    domain = f"{uuid.uuid4().hex[:6]}.example"
    drive_control.create_group(f"ops@{domain}", [{"email": f"cy@{domain}", "type": "USER"}])
    await sync_groups(directory, pool)
    drive_control.fault(403, count=100, path_prefix="/admin/directory/v1/", reason="forbidden")
    with pytest.raises(DirectoryForbidden):
        await sync_groups(directory, pool)
    assert await edges(pool, domain) == {(f"ops@{domain}", f"cy@{domain}", "USER")}
