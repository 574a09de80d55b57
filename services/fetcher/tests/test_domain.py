"""The fetcher indexing a whole domain: a source per user and per shared drive, each read as its own
identity (a service-account key whose token_uri is the emulator), within the operator's scope."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from drive import source_admin
from drive_emulator import EmulatorControl, EmulatorServer, sample_domain
from drive_emulator.auth import service_account_key
from drive_emulator.sample_domain import ALICE, BOB, CAROL, DOMAIN, EXPECTED, SampleDomain, owner
from shared import mime
from shared.events import DocFetched, DriveChanged, FetchAction

from .conftest import DEADLINE_SECONDS, Pipeline, ServiceFactory

UNKNOWN = f"dave@{DOMAIN}"  # no such user: impersonating them is refused


@pytest.fixture
def drive_server() -> Iterator[EmulatorServer]:
    """The emulator as a domain: every call acts as the user its token was granted for."""
    with EmulatorServer(require_auth=True) as server:
        yield server


async def backfill(pipeline: Pipeline, source_id: str) -> None:
    await source_admin.add(pipeline.pool, source_id)
    event = DriveChanged(source_id=source_id, resource_state="backfill", received_at=datetime.now(UTC))
    await pipeline.publisher.publish(event)


def shown(events: list[DocFetched]) -> set[tuple[str, str]]:
    """(source, file) pairs published as showing the file: with its content or metadata only."""
    kept = (FetchAction.UPSERT, FetchAction.METADATA)
    return {(e.source_id, e.file_id) for e in events if e.action in kept}


async def fetched_until(
    pipeline: Pipeline, indexed: set[tuple[str, str]], removed: set[tuple[str, str]]
) -> list[DocFetched]:
    """Read doc.fetched until every pair shown and every removal arrived; return all read."""
    events: list[DocFetched] = []
    deadline = time.monotonic() + DEADLINE_SECONDS
    while not (indexed <= shown(events) and removed <= {(e.source_id, e.file_id) for e in events}):
        missing = (indexed - shown(events)) | (removed - {(e.source_id, e.file_id) for e in events})
        assert time.monotonic() < deadline, f"never published: {sorted(missing)}"
        events += await pipeline.fetched()
        await asyncio.sleep(0.1)
    return events


async def test_every_user_and_shared_drive_is_indexed_once_within_the_scope(
    start_service: ServiceFactory, pipeline: Pipeline, drive_server: EmulatorServer, tmp_path: Path
) -> None:
    control = EmulatorControl(drive_server.url)
    domain: SampleDomain = sample_domain.build(control)
    private = control.create_file("private", mime.FOLDER, permissions=[owner(ALICE)])["id"]
    hidden = control.create_doc("hidden", "# hidden\n", parents=[private], permissions=[owner(ALICE)])["id"]
    key = service_account_key(tmp_path / "key.json", f"{drive_server.url}/token")
    engineering = f"drive:{domain.drives['Engineering']}"  # read as GOOGLE_SUBJECT (alice, a member)
    sales = f"drive:{domain.drives['Sales']}?as={BOB}"
    users = {ALICE: "user:alice@example.com", BOB: "user:bob@example.com", CAROL: "user:carol@example.com"}
    files = domain.files
    indexed = {(users[u], files[name]) for u, names in EXPECTED.items() for name in names}
    indexed |= {(engineering, files["runbook"]), (sales, files["pricing"])}
    indexed -= {(users[ALICE], files["outsider-tip"])}
    removed = {(users[ALICE], files["outsider-tip"]), (users[ALICE], hidden)}

    async with start_service(
        GOOGLE_APPLICATION_CREDENTIALS=str(key),
        GOOGLE_SUBJECT=ALICE,
        DRIVE_ALLOWED_DOMAINS=DOMAIN,
        DRIVE_EXCLUDE_FOLDERS=private,
        FETCHER_POLL_SECONDS="0",
    ):
        for source_id in [f"user:{UNKNOWN}", *users.values(), engineering, sales]:
            await backfill(pipeline, source_id)
        events = await fetched_until(pipeline, indexed, removed)
        await asyncio.sleep(0.5)
        events += await pipeline.fetched()
        error = await pipeline.pool.fetchval(
            "SELECT last_error FROM sources WHERE id = $1", f"user:{UNKNOWN}"
        )

    named = {*files.values(), hidden}
    # Each source published exactly the files it shows and that are in scope ...
    assert {(s, f) for s, f in shown(events) if f in named} == indexed
    assert removed <= {(e.source_id, e.file_id) for e in events if e.action is FetchAction.DELETE}
    # ... and each file's content was fetched once, however many sources show it.
    upserts = Counter(e.file_id for e in events if e.action is FetchAction.UPSERT and e.file_id in named)
    assert upserts == dict.fromkeys({f for _, f in indexed}, 1)
    # A source refused its identity is recorded and blocks no other.
    assert error
    assert "RefreshError" in error
    assert not [e for e in events if e.source_id == f"user:{UNKNOWN}"]
