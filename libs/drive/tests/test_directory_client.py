"""DirectoryClient through google-api-python-client against the emulator's Directory API on port 0."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from prometheus_client import REGISTRY

from drive.directory import (
    SCOPES,
    USER_SCOPES,
    DirectoryClient,
    DirectoryError,
    DirectoryForbidden,
    DirectoryNotFound,
    DirectoryRateLimited,
    DirectorySettings,
    DirectoryUnavailable,
    Group,
    Member,
    User,
)
from drive_emulator import EmulatorControl, EmulatorServer
from drive_emulator.auth import service_account_key

DIRECTORY = "/admin/directory/v1/"


def make_client(
    endpoint: str,
    retries: int = 3,
    *,
    credentials: str | None = None,
    subject: str | None = None,
    scopes: list[str] = SCOPES,
) -> DirectoryClient:
    settings = DirectorySettings(
        directory_api_endpoint=endpoint,
        directory_max_retries=retries,
        directory_backoff_seconds=0.01,
        google_application_credentials=credentials,
        google_subject=subject,
    )
    return DirectoryClient.from_settings(settings, scopes)


@pytest.fixture
async def client(drive_server: EmulatorServer) -> AsyncIterator[DirectoryClient]:
    async with make_client(drive_server.directory_endpoint) as directory:
        yield directory


def requests_ok(method: str) -> float:
    value = REGISTRY.get_sample_value(
        "drive_index_directory_requests_total", {"method": method, "outcome": "ok"}
    )
    return value or 0.0


async def test_groups_come_page_by_page_with_lower_case_addresses(
    client: DirectoryClient, drive_control: EmulatorControl
) -> None:
    for i in range(5):
        drive_control.create_group(f"Team-{i}@Example.com", name=f"Team {i}")
    before = requests_ok("groups.list")

    groups = await client.list_groups(page_size=2)

    assert groups == [Group(email=f"team-{i}@example.com", name=f"Team {i}") for i in range(5)]
    assert requests_ok("groups.list") - before == 3


async def test_members_of_every_type_page_by_page(
    client: DirectoryClient, drive_control: EmulatorControl
) -> None:
    drive_control.create_group("eng@example.com")
    drive_control.create_group(
        "all@example.com",
        [
            {"email": "Alice@Example.com", "type": "USER"},
            {"email": "eng@example.com", "type": "GROUP"},
            {"email": "carol@example.com", "type": "USER", "status": "SUSPENDED"},
            {"type": "CUSTOMER"},
            {"email": "dave@example.com", "type": "USER", "role": "OWNER"},
        ],
    )
    before = requests_ok("members.list")

    members = await client.list_members("ALL@example.com", page_size=2)
    empty = await client.list_members("eng@example.com")

    assert members == [
        Member(email="alice@example.com", type="USER", status="ACTIVE"),
        Member(email="eng@example.com", type="GROUP", status="ACTIVE"),
        Member(email="carol@example.com", type="USER", status="SUSPENDED"),
        Member(email=None, type="CUSTOMER", status="ACTIVE"),
        Member(email="dave@example.com", type="USER", status="ACTIVE"),
    ]
    assert empty == []
    assert requests_ok("members.list") - before == 4


async def test_membership_changes_are_read_again(
    client: DirectoryClient, drive_control: EmulatorControl
) -> None:
    drive_control.create_group("eng@example.com", [{"email": "alice@example.com", "type": "USER"}])

    drive_control.set_group_members("eng@example.com", [{"email": "bob@example.com", "type": "USER"}])

    assert [m.email for m in await client.list_members("eng@example.com")] == ["bob@example.com"]


@pytest.mark.parametrize("suffix", ["", "/", "/admin/directory/v1", "/admin/directory/v1/"])
async def test_endpoint_may_name_the_service_path_or_not(
    drive_server: EmulatorServer, drive_control: EmulatorControl, suffix: str
) -> None:
    drive_control.create_group("eng@example.com")

    async with make_client(drive_server.url + suffix) as client:
        groups = await client.list_groups()

    assert [g.email for g in groups] == ["eng@example.com"]


async def test_unknown_group_is_not_found_and_not_retried(
    client: DirectoryClient, drive_control: EmulatorControl
) -> None:
    with pytest.raises(DirectoryNotFound) as raised:
        await client.list_members("nobody@example.com")

    assert (raised.value.status, raised.value.reason) == (404, "notFound")
    assert not raised.value.retriable


async def test_outages_are_retried(client: DirectoryClient, drive_control: EmulatorControl) -> None:
    drive_control.create_group("eng@example.com")
    drive_control.fault(503, count=2, path_prefix=DIRECTORY)
    drive_control.fault(0, count=1, path_prefix=DIRECTORY)  # a dropped connection

    groups = await client.list_groups()

    assert [g.email for g in groups] == ["eng@example.com"]
    assert drive_control.faults() == []


@pytest.mark.parametrize(
    ("status", "reason", "error"),
    [(429, "rateLimitExceeded", DirectoryRateLimited), (503, "backendError", DirectoryUnavailable)],
)
async def test_throttling_that_outlasts_the_retries_raises_retriable(
    drive_server: EmulatorServer,
    drive_control: EmulatorControl,
    status: int,
    reason: str,
    error: type[DirectoryError],
) -> None:
    drive_control.fault(status, count=5, reason=reason, path_prefix=DIRECTORY)

    async with make_client(drive_server.directory_endpoint, retries=2) as client:
        with pytest.raises(error) as raised:
            await client.list_groups()

    assert raised.value.retriable
    assert (raised.value.status, raised.value.reason) == (status, reason)
    assert drive_control.faults()[0]["count"] == 5 - 3


async def test_no_admin_rights_is_forbidden_and_permanent(
    client: DirectoryClient, drive_control: EmulatorControl
) -> None:
    drive_control.fault(
        403,
        count=3,
        reason="forbidden",
        message="Not Authorized to access this resource/api",
        path_prefix=DIRECTORY,
    )

    with pytest.raises(DirectoryForbidden) as raised:
        await client.list_groups()

    assert not raised.value.retriable
    assert "Not Authorized" in str(raised.value)
    assert drive_control.faults()[0]["count"] == 2


@pytest.fixture
def secured() -> Iterator[EmulatorServer]:
    with EmulatorServer(require_auth=True) as server:
        yield server


async def test_without_credentials_a_secured_directory_refuses(secured: EmulatorServer) -> None:
    async with make_client(secured.directory_endpoint) as client:
        with pytest.raises(DirectoryForbidden) as raised:
            await client.list_groups()

    assert (raised.value.status, raised.value.reason) == (401, "authError")


async def test_service_account_with_subject_reads_groups_with_the_group_scope(
    secured: EmulatorServer, tmp_path: Path
) -> None:
    drive_control = EmulatorControl(secured.url)
    drive_control.create_group("eng@example.com", [{"email": "alice@example.com", "type": "USER"}])
    key = service_account_key(tmp_path / "key.json", f"{secured.url}/token")

    async with make_client(
        secured.directory_endpoint,
        credentials=str(key),
        subject="admin@example.com",
    ) as client:
        groups = await client.list_groups()
        members = await client.list_members(groups[0].email)

    assert [m.email for m in members] == ["alice@example.com"]
    [grant] = drive_control.tokens()
    assert grant["subject"] == "admin@example.com"
    assert grant["scope"] == "https://www.googleapis.com/auth/admin.directory.group.readonly"


def add_users(drive_control: EmulatorControl) -> None:
    drive_control.create_user("Alice@Example.com", "Alice Liddell", admin=True)
    drive_control.create_user("bob@example.com")
    drive_control.create_user("sam@example.com", suspended=True)
    drive_control.create_user("olga@example.com", archived=True)
    drive_control.create_user("zed@subsidiary.example")


async def test_active_users_come_page_by_page_without_the_suspended_or_archived(
    client: DirectoryClient, drive_control: EmulatorControl
) -> None:
    add_users(drive_control)
    before = requests_ok("users.list")

    active = await client.list_users(page_size=2)
    everyone = await client.list_users(active_only=False)
    subsidiary = await client.list_users(domain="subsidiary.example")

    assert active == [
        User(email="alice@example.com", name="Alice Liddell"),
        User(email="bob@example.com", name="Bob"),
        User(email="zed@subsidiary.example", name="Zed"),
    ]
    assert requests_ok("users.list") - before == 2 + 1 + 1  # olga is archived: searched, then dropped
    assert [(u.email, u.suspended, u.archived) for u in everyone if u.suspended or u.archived] == [
        ("olga@example.com", False, True),
        ("sam@example.com", True, False),
    ]
    assert [u.email for u in subsidiary] == ["zed@subsidiary.example"]


async def test_no_users_is_an_empty_list(client: DirectoryClient) -> None:
    assert await client.list_users() == []


async def test_listing_users_needs_the_user_scope(secured: EmulatorServer, tmp_path: Path) -> None:
    drive_control = EmulatorControl(secured.url)
    add_users(drive_control)
    key = str(service_account_key(tmp_path / "key.json", f"{secured.url}/token"))

    async with make_client(
        secured.directory_endpoint, credentials=key, subject="alice@example.com"
    ) as groups_only:
        with pytest.raises(DirectoryForbidden) as raised:
            await groups_only.list_users()
    async with make_client(
        secured.directory_endpoint, credentials=key, subject="alice@example.com", scopes=USER_SCOPES
    ) as client:
        users = await client.list_users()

    assert (raised.value.status, raised.value.reason) == (403, "insufficientPermissions")
    assert [u.email for u in users] == ["alice@example.com", "bob@example.com", "zed@subsidiary.example"]
    assert drive_control.tokens()[-1]["scope"] == " ".join(USER_SCOPES)
