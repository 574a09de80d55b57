"""Adding, listing and removing sources on a real database; channels scoped to a source's identity;
the discovery plan."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import asyncpg
import pytest

from devstack.fakes import RecordingPublisher
from drive import discovery, source_admin, watch
from drive.client import DriveSettings
from drive.clients import DriveClients
from drive.source_admin import Origin
from drive_emulator import EmulatorControl, EmulatorServer, sample_domain
from drive_emulator.auth import service_account_key
from drive_emulator.sample_domain import ALICE, BOB, SampleDomain
from shared import topics
from shared.events import DocFetched, FetchAction


def user() -> str:
    return f"user:u{uuid.uuid4().hex[:8]}@corp.example"


async def show(pool: asyncpg.Pool, source_id: str, *file_ids: str) -> None:
    """Record files as indexed and shown by the source, as the embedder does."""
    for file_id in file_ids:
        await pool.execute(
            """INSERT INTO documents (file_id, source_id, name, mime_type, version)
               VALUES ($1, $2, $1, 'text/plain', 1) ON CONFLICT DO NOTHING""",
            file_id,
            source_id,
        )
        await pool.execute(
            "INSERT INTO document_sources (file_id, source_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            file_id,
            source_id,
        )


async def test_add_list_remove(pool: asyncpg.Pool) -> None:
    source_id, other = user(), user()
    assert await source_admin.add(pool, source_id)
    assert not await source_admin.add(pool, source_id)  # already there
    await source_admin.add(pool, other)
    files = [f"f-{uuid.uuid4().hex[:8]}" for _ in range(3)]
    await show(pool, source_id, *files)
    await show(pool, other, files[0])

    [status] = [s for s in await source_admin.statuses(pool) if s.id == source_id]
    assert (status.kind, status.files, status.last_error, status.channel_expires_at) == (
        "user",
        3,
        None,
        None,
    )

    publisher = RecordingPublisher()
    assert await source_admin.remove(pool, object(), publisher, source_id) == 3  # type: ignore[arg-type]
    removals = publisher.of(DocFetched)
    assert sorted(e.file_id for e in removals) == sorted(files)
    assert {(e.source_id, e.action, e.version) for e in removals} == {
        (source_id, FetchAction.DELETE, source_admin.REMOVED)
    }
    assert {e.topic for e in publisher.events} == {topics.DOC_FETCHED}
    assert source_id not in await source_admin.active(pool)
    assert other in await source_admin.active(pool)
    removed = [s.id for s in await source_admin.statuses(pool, include_removed=True) if s.removed_at]
    assert source_id in removed
    assert await source_admin.add(pool, source_id)  # added again: active once more


def test_the_plan_adds_new_and_removes_gone_discovered_sources_only() -> None:
    followed = {
        "default": Origin.CLI,
        "user:alice@corp.example": Origin.DISCOVERED,
        "user:gone@corp.example": Origin.DISCOVERED,
        "drive:d1?as=bob@corp.example": Origin.DISCOVERED,
    }
    wanted = {
        "user:alice@corp.example",
        "user:new@corp.example",
        "drive:d1?as=carol@corp.example",
        "drive:d2",
    }
    plan = discovery.plan(followed, discovered=wanted, configured=set())
    assert list(plan.add) == ["drive:d2", "user:new@corp.example"]
    assert plan.remove == ["user:gone@corp.example"]  # `default` is the operator's, d1 is followed


def test_the_plan_follows_drive_sources_and_drops_what_it_no_longer_names() -> None:
    followed = {
        "user:kept@corp.example": Origin.SETTING,
        "user:unnamed@corp.example": Origin.SETTING,
        "folder:f1": Origin.CLI,
        "user:by-hand@corp.example": Origin.CLI,
    }
    configured = {"user:kept@corp.example", "drive:d9", "folder:f2?as=ann@corp.example"}
    plan = discovery.plan(followed, discovered=None, configured=configured)
    assert plan.add == {"drive:d9": Origin.SETTING, "folder:f2?as=ann@corp.example": Origin.SETTING}
    # The domain was not read: what was added by hand stays, whatever its kind.
    assert plan.remove == ["user:unnamed@corp.example"]


def test_the_plan_keeps_what_either_the_domain_or_the_settings_want() -> None:
    followed = {
        "user:left@corp.example": Origin.SETTING,  # unnamed now, but the domain has them
        "user:suspended@corp.example": Origin.SETTING,  # gone from the domain, but named
        "user:gone@corp.example": Origin.CLI,  # added by hand, gone from the domain
        "folder:f1": Origin.CLI,  # folders are never discovered, so never found gone
    }
    plan = discovery.plan(
        followed,
        discovered={"user:left@corp.example"},
        configured={"user:suspended@corp.example"},
    )
    assert plan.add == {}
    assert plan.remove == ["user:gone@corp.example"]


@pytest.fixture
def domain_server() -> Iterator[EmulatorServer]:
    with EmulatorServer(require_auth=True) as server:
        yield server


async def test_channels_are_opened_as_the_source_on_its_drive(
    pool: asyncpg.Pool, domain_server: EmulatorServer, tmp_path: Path
) -> None:
    control = EmulatorControl(domain_server.url)
    domain: SampleDomain = sample_domain.build(control)
    key = service_account_key(tmp_path / "key.json", f"{domain_server.url}/token")
    settings = DriveSettings(
        drive_api_endpoint=domain_server.api_endpoint,
        google_application_credentials=str(key),
        google_subject=ALICE,
        drive_backoff_seconds=0.01,
    )
    sales = f"drive:{domain.drives['Sales']}?as={BOB}"
    async with DriveClients(settings) as drives:
        for source_id in (f"user:{BOB}", sales):
            channel = await watch.start(
                pool, drives, source_id, "http://127.0.0.1:9/hook", timedelta(hours=1)
            )
            assert channel.resource_id
        assert len(await watch.renew(pool, drives, within=timedelta(days=1))) >= 2
        for channel in await watch.list_channels(pool, sales):
            await watch.stop(pool, drives, channel)
    assert not await watch.list_channels(pool, sales)
