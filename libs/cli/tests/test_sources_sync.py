"""`drive-index sources sync` against the emulator as a domain: new users and drives are added, a
suspended user's source is removed with its files."""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest

from drive import source_admin, watch
from drive_emulator import EmulatorControl, EmulatorServer, sample_domain
from drive_emulator.auth import service_account_key
from drive_emulator.sample_domain import ALICE, BOB, CAROL, DOMAIN, ENG, SampleDomain
from drive_index_cli.sources import sources_command
from shared.settings import SettingsError

ADMIN = f"admin@{DOMAIN}"


@pytest.fixture
def domain_server() -> Iterator[EmulatorServer]:
    with EmulatorServer(require_auth=True) as server:
        yield server


@pytest.fixture
def domain(domain_server: EmulatorServer) -> SampleDomain:
    control = EmulatorControl(domain_server.url)
    built = sample_domain.build(control)
    control.create_user(ADMIN, admin=True)
    organizer = {"type": "user", "role": "organizer", "emailAddress": ADMIN}
    control.set_drive_members(
        built.drives["Engineering"], [{"type": "group", "role": "organizer", "emailAddress": ENG}, organizer]
    )
    return built  # the admin is no member of Sales: it is read as a member (bob, its writer)


@pytest.fixture
def env(
    monkeypatch: pytest.MonkeyPatch,
    service_env: dict[str, str],
    topics_created: str,
    domain_server: EmulatorServer,
    tmp_path: Path,
) -> None:
    key = service_account_key(tmp_path / "key.json", f"{domain_server.url}/token")
    for name, value in {
        **service_env,
        "DRIVE_API_ENDPOINT": domain_server.api_endpoint,
        "DIRECTORY_API_ENDPOINT": domain_server.directory_endpoint,
        "GOOGLE_APPLICATION_CREDENTIALS": str(key),
        "GOOGLE_SUBJECT": ADMIN,
        "DRIVE_SCOPE": "domain",
        "DRIVE_BACKOFF_SECONDS": "0.01",
        "DRIVE_WEBHOOK_URL": "http://127.0.0.1:9/hook",
    }.items():
        monkeypatch.setenv(name, value)


async def sync() -> None:
    assert await sources_command(argparse.Namespace(action="sync")) == 0


@pytest.mark.usefixtures("env")
async def test_sync_follows_the_domain_as_it_changes(
    pool: asyncpg.Pool,
    domain: SampleDomain,
    domain_server: EmulatorServer,
    capsys: pytest.CaptureFixture[str],
) -> None:
    control = EmulatorControl(domain_server.url)
    drives = {f"drive:{domain.drives['Engineering']}", f"drive:{domain.drives['Sales']}?as={BOB}"}
    users = {f"user:{email}" for email in (ALICE, BOB, CAROL, ADMIN)}

    # The sample domain's addresses are fixed: another test may have followed them already.
    await pool.execute("UPDATE sources SET removed_at = now() WHERE id LIKE 'user:%@example.com'")
    await sync()
    assert users | drives <= set(await source_admin.active(pool))
    for source_id in users | drives:  # each with a channel opened as its identity, on its drive
        assert await watch.list_channels(pool, source_id), source_id

    # carol shows one file nobody else does; then she is suspended, and erin joins.
    file_id = domain.files["salaries"]
    await pool.execute(
        """INSERT INTO documents (file_id, source_id, name, mime_type, version)
           VALUES ($1, $2, 'salaries', 'text/plain', 1) ON CONFLICT DO NOTHING""",
        file_id,
        f"user:{CAROL}",
    )
    await pool.execute(
        "INSERT INTO document_sources (file_id, source_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        file_id,
        f"user:{CAROL}",
    )
    control.update_user(CAROL, suspended=True)
    control.create_user(f"erin@{DOMAIN}")
    capsys.readouterr()

    await sync()

    out = capsys.readouterr().out
    active = set(await source_admin.active(pool))
    assert f"user:erin@{DOMAIN}" in active
    assert f"user:{CAROL}" not in active
    assert f"added user:erin@{DOMAIN}; its backfill is queued" in out
    assert f"removed user:{CAROL} (gone from the domain): 1 file(s)" in out
    assert (users - {f"user:{CAROL}"}) | drives <= active
    assert not await watch.list_channels(pool, f"user:{CAROL}")
    assert await watch.list_channels(pool, f"user:erin@{DOMAIN}")


@pytest.mark.usefixtures("env")
async def test_drive_sources_are_followed_and_dropped_as_the_setting_changes(
    pool: asyncpg.Pool,
    domain: SampleDomain,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    engineering = f"drive:{domain.drives['Engineering']}"
    await pool.execute("UPDATE sources SET removed_at = now() WHERE id LIKE 'user:%@example.com'")
    await pool.execute("UPDATE sources SET removed_at = now() WHERE id = $1", engineering)
    monkeypatch.setenv("DRIVE_SCOPE", "sources")
    monkeypatch.setenv("DRIVE_SOURCES", f" user:{BOB.upper()} , {engineering}")
    await sync()
    active = await source_admin.active(pool)
    assert active[f"user:{BOB}"] == source_admin.Origin.SETTING  # one spelling per user
    assert active[engineering] == source_admin.Origin.SETTING
    assert f"user:{ALICE}" not in active  # the domain is not read with DRIVE_SCOPE=sources

    monkeypatch.setenv("DRIVE_SOURCES", f"user:{BOB}")
    capsys.readouterr()
    await sync()
    assert f"removed {engineering} (no longer in DRIVE_SOURCES)" in capsys.readouterr().out
    assert set(await source_admin.active(pool)) >= {f"user:{BOB}"}
    assert engineering not in await source_admin.active(pool)


@pytest.mark.usefixtures("env")
async def test_a_malformed_drive_sources_entry_stops_the_sync_saying_what_was_expected(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DRIVE_SOURCES", "user:not-an-address")
    with pytest.raises(SettingsError, match="expected user:<email>"):
        await sync()
