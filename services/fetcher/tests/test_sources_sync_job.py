"""The fetcher syncs the sources on its own: with DRIVE_SCOPE=domain every user and shared drive is
followed and backfilled without an operator, and with several replicas only one of them syncs."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest

from drive.client import DRIVE_REQUESTS
from drive_emulator import EmulatorControl, EmulatorServer, sample_domain
from drive_emulator.auth import service_account_key
from drive_emulator.sample_domain import ALICE, BOB, CAROL, DOMAIN

from .conftest import DEADLINE_SECONDS, Pipeline, ServiceFactory

ADMIN = f"admin@{DOMAIN}"
USERS = {f"user:{email}" for email in (ALICE, BOB, CAROL, ADMIN)}


@pytest.fixture
def drive_server() -> Iterator[EmulatorServer]:
    with EmulatorServer(require_auth=True) as server:
        yield server


def drive_lists() -> float:
    """drives.list calls made by this process so far: one per sync that read the domain."""
    return sum(
        sample.value
        for metric in DRIVE_REQUESTS.collect()
        for sample in metric.samples
        if sample.name.endswith("_total") and sample.labels["method"] == "drives.list"
    )


async def followed(pool: asyncpg.Pool, wanted: set[str]) -> dict[str, str]:
    """Wait until every wanted source is followed; return their origins."""
    deadline = time.monotonic() + DEADLINE_SECONDS
    while True:
        rows = await pool.fetch(
            "SELECT id, origin FROM sources WHERE removed_at IS NULL AND id = ANY($1)", list(wanted)
        )
        if len(rows) == len(wanted):
            return {row["id"]: row["origin"] for row in rows}
        assert time.monotonic() < deadline, f"not followed: {wanted - {row['id'] for row in rows}}"
        await asyncio.sleep(0.1)


async def test_two_replicas_follow_the_domain_once_and_backfill_every_user(
    start_service: ServiceFactory, pipeline: Pipeline, drive_server: EmulatorServer, tmp_path: Path
) -> None:
    control = EmulatorControl(drive_server.url)
    domain = sample_domain.build(control)
    control.create_user(ADMIN, admin=True)
    drives = {f"drive:{domain.drives['Engineering']}", f"drive:{domain.drives['Sales']}?as={BOB}"}
    # The sample domain's addresses are fixed: another test may have followed them already.
    await pipeline.pool.execute("UPDATE sources SET removed_at = now() WHERE id LIKE 'user:%@example.com'")
    await pipeline.pool.execute("UPDATE sources SET removed_at = now() WHERE id LIKE 'drive:%'")
    await pipeline.pool.execute("DELETE FROM background_runs")
    key = service_account_key(tmp_path / "key.json", f"{drive_server.url}/token")
    settings = {
        "GOOGLE_APPLICATION_CREDENTIALS": str(key),
        "GOOGLE_SUBJECT": ADMIN,
        "DIRECTORY_API_ENDPOINT": drive_server.directory_endpoint,
        "DRIVE_SCOPE": "domain",
        "FETCHER_POLL_SECONDS": "0",
        "GROUPS_SYNC_SECONDS": "0",
    }
    lists_before = drive_lists()

    async with contextlib.AsyncExitStack() as replicas:
        await asyncio.gather(*(replicas.enter_async_context(start_service(**settings)) for _ in range(2)))
        origins = await followed(pipeline.pool, USERS | drives)
        files = domain.files
        expected = {(f"user:{ALICE}", files["alice-notes"]), (f"user:{CAROL}", files["salaries"])}
        events = await pipeline.fetched_at_least(1)
        deadline = time.monotonic() + DEADLINE_SECONDS
        while not expected <= {(e.source_id, e.file_id) for e in events}:
            assert time.monotonic() < deadline, "some user's files were never backfilled"
            events += await pipeline.fetched()
            await asyncio.sleep(0.1)

    assert set(origins.values()) == {"discovered"}
    # Both replicas started together; the advisory lock let one of them read the domain.
    assert drive_lists() - lists_before == 1

    # A replica started soon after, with the same settings, does not read it again ...
    async with start_service(**settings):
        await asyncio.sleep(1.0)
    assert drive_lists() - lists_before == 1
    # ... but one whose settings changed (a rollout with new DRIVE_SOURCES) syncs at once.
    async with start_service(**settings, DRIVE_SOURCES=f"user:{ALICE}"):
        deadline = time.monotonic() + DEADLINE_SECONDS
        while drive_lists() - lists_before < 2:
            assert time.monotonic() < deadline, "the new settings were never synced"
            await asyncio.sleep(0.1)
