"""The emulator as a Workspace domain, through the real Google client acting as its users."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from googleapiclient.discovery import build
from googleapiclient.errors import HttpError

from drive.http import http_factory, load_credentials
from drive_emulator import EmulatorControl, EmulatorServer, sample_domain
from drive_emulator.auth import service_account_key
from drive_emulator.client import ControlError
from drive_emulator.sample_domain import ALICE, BOB, CAROL, SampleDomain

ROOT = "root@example.com"
ALL_DRIVES = {"supportsAllDrives": True, "includeItemsFromAllDrives": True}


@pytest.fixture
def emulator() -> Iterator[EmulatorServer]:
    with EmulatorServer(require_auth=True, notify_backoff_seconds=0.02) as server:
        yield server


@pytest.fixture
def control(emulator: EmulatorServer) -> EmulatorControl:
    return EmulatorControl(emulator.url)


@pytest.fixture
def domain(control: EmulatorControl) -> SampleDomain:
    built = sample_domain.build(control)
    control.create_user(ROOT, "Root Admin", admin=True)
    return built


@pytest.fixture
def drive_as(emulator: EmulatorServer, tmp_path: Path) -> Iterator[Callable[[str], Any]]:
    """google-api-python-client's Drive v3 acting as a user, for calls DriveClient does not make."""
    key = str(service_account_key(tmp_path / "key.json", f"{emulator.url}/token"))
    opened: list[Any] = []

    def service(subject: str) -> Any:
        http = http_factory(load_credentials(key, subject, emulator.api_endpoint), 10)()
        opened.append(http)
        return build(
            "drive",
            "v3",
            http=http,
            static_discovery=True,
            client_options={"api_endpoint": emulator.api_endpoint},
        )

    yield service
    for http in opened:
        http.close()


def status_of(request: Any) -> int:
    with pytest.raises(HttpError) as raised:
        request.execute()
    return int(raised.value.resp.status)


def names(domain: SampleDomain, files: list[dict[str, Any]]) -> set[str]:
    return domain.names({f["id"] for f in files})


def test_a_drive_feed_holds_that_drive_only(
    drive_as: Callable[[str], Any], control: EmulatorControl, domain: SampleDomain
) -> None:
    sales, engineering = domain.drives["Sales"], domain.drives["Engineering"]
    changes = drive_as(BOB).changes()
    token = changes.getStartPageToken(driveId=sales, supportsAllDrives=True).execute()["startPageToken"]
    mine = changes.getStartPageToken(supportsAllDrives=True).execute()["startPageToken"]

    deal = control.create_doc("deal", "# d\n", drive_id=sales)["id"]
    control.create_doc("infra", "# i\n", drive_id=engineering)
    memo = control.create_doc("memo", "# m\n", permissions=[sample_domain.owner(BOB)])["id"]
    in_drive = changes.list(pageToken=token, driveId=sales, **ALL_DRIVES).execute()["changes"]
    in_my_drive = changes.list(pageToken=mine, supportsAllDrives=True).execute()["changes"]
    listed = drive_as(BOB).files().list(corpora="drive", driveId=sales, **ALL_DRIVES).execute()["files"]

    assert [(c["fileId"], c["file"]["driveId"]) for c in in_drive] == [(deal, sales)]
    assert [c["fileId"] for c in in_my_drive] == [memo]  # shared-drive items only when asked for
    assert {f["id"] for f in listed} == {deal, domain.files["pricing"]}


def test_a_drive_feed_of_a_drive_one_does_not_belong_to_is_not_found(
    drive_as: Callable[[str], Any], domain: SampleDomain
) -> None:
    alice, sales = drive_as(ALICE), domain.drives["Sales"]

    assert status_of(alice.changes().getStartPageToken(driveId=sales, supportsAllDrives=True)) == 404
    assert status_of(alice.changes().list(pageToken="1", driveId=sales, **ALL_DRIVES)) == 404
    assert status_of(alice.files().list(corpora="drive", driveId=sales, **ALL_DRIVES)) == 404
    assert status_of(alice.permissions().list(fileId=sales, supportsAllDrives=True)) == 404
    members = (
        drive_as(ROOT).permissions().list(fileId=sales, supportsAllDrives=True, useDomainAdminAccess=True)
    )
    assert {p["emailAddress"] for p in members.execute()["permissions"]} == {BOB, CAROL}


def test_drives_are_listed_to_members_and_to_admins(
    drive_as: Callable[[str], Any], domain: SampleDomain
) -> None:
    def drives(user: str, **options: Any) -> list[str]:
        return [d["name"] for d in drive_as(user).drives().list(**options).execute()["drives"]]

    assert drives(ALICE) == ["Engineering"]
    assert drives(CAROL) == ["Sales"]
    assert drives(ROOT) == []
    assert drives(ROOT, useDomainAdminAccess=True) == ["Engineering", "Sales"]
    assert status_of(drive_as(ALICE).drives().list(useDomainAdminAccess=True)) == 403


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({}, {"alice-notes", "outsider-tip", "eng-design"}),
        ({"corpora": "user", **ALL_DRIVES}, {"alice-notes", "outsider-tip", "eng-design"}),
        ({"corpora": "allDrives", **ALL_DRIVES}, {"alice-notes", "outsider-tip", "eng-design", "runbook"}),
        ({"corpora": "domain"}, {"alice-notes", "outsider-tip", "eng-design", "press-kit"}),
    ],
)
def test_corpora_a_user_can_list(
    drive_as: Callable[[str], Any], domain: SampleDomain, options: dict[str, Any], expected: set[str]
) -> None:
    files = drive_as(ALICE).files().list(**options).execute()["files"]

    assert names(domain, files) == expected


def test_drive_id_goes_with_the_drive_corpus_only(
    drive_as: Callable[[str], Any], domain: SampleDomain
) -> None:
    files = drive_as(BOB).files()

    assert status_of(files.list(corpora="allDrives", driveId=domain.drives["Sales"], **ALL_DRIVES)) == 400
    assert status_of(files.list(corpora="drive", **ALL_DRIVES)) == 400
    assert status_of(files.list(corpora="everything")) == 400


class Receiver:
    """A webhook that answers 200 and counts what each channel received."""

    def __init__(self) -> None:
        self.received: list[str] = []
        self.url = ""

    async def handle(self, request: web.Request) -> web.Response:
        self.received.append(request.headers["X-Goog-Channel-ID"])
        return web.Response()


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    hook = Receiver()
    app = web.Application()
    app.router.add_post("/hook", hook.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    hook.url = f"http://127.0.0.1:{runner.addresses[0][1]}/hook"
    yield hook
    await runner.cleanup()


async def test_a_channel_hears_only_changes_in_the_feed_it_watches(
    drive_as: Callable[[str], Any], control: EmulatorControl, domain: SampleDomain, receiver: Receiver
) -> None:
    sales = domain.drives["Sales"]
    for user, channel, scope in ((ALICE, "alice-feed", {}), (BOB, "bob-sales", {"driveId": sales})):
        changes = drive_as(user).changes()
        token = changes.getStartPageToken(supportsAllDrives=True, **scope).execute()["startPageToken"]
        body = {"id": channel, "type": "web_hook", "address": receiver.url}
        changes.watch(pageToken=token, body=body, **ALL_DRIVES, **scope).execute()

    control.update_file(domain.files["salaries"], content="# s\n\nv2")  # carol's alone: nobody hears
    control.update_file(domain.files["runbook"], content="# r\n\nv2")  # alice
    control.update_file(domain.files["bob-plan"], content="# p\n\nv2")  # bob's, not in his Sales feed
    control.update_file(domain.files["pricing"], content="# p\n\nv2")  # bob's Sales feed
    control.set_group_members(sample_domain.PLATFORM, [])  # alice loses eng-design and runbook

    channels = {c["id"]: c for c in control.channels()}
    assert {name: c["message_number"] for name, c in channels.items()} == {"alice-feed": 3, "bob-sales": 2}
    assert (channels["alice-feed"]["subject"], channels["alice-feed"]["drive_id"]) == (ALICE, None)
    assert (channels["bob-sales"]["subject"], channels["bob-sales"]["drive_id"]) == (BOB, sales)
    deadline = time.monotonic() + 10
    while sorted(receiver.received) != ["alice-feed"] * 3 + ["bob-sales"] * 2:
        assert time.monotonic() < deadline, receiver.received
        await asyncio.sleep(0.02)


def test_users_are_added_changed_listed_and_removed(control: EmulatorControl) -> None:
    created = control.create_user("Dave@Example.com", "Dave Doe")
    control.create_user("erin@example.com", admin=True)
    suspended = control.update_user("dave@example.com", suspended=True)

    assert (created["primaryEmail"], created["name"]["fullName"]) == ("dave@example.com", "Dave Doe")
    assert (suspended["suspended"], suspended["archived"], suspended["isAdmin"]) == (True, False, False)
    assert [(u["primaryEmail"], u["isAdmin"]) for u in control.users()] == [
        ("dave@example.com", False),
        ("erin@example.com", True),
    ]
    control.delete_user("DAVE@example.com")
    assert [u["primaryEmail"] for u in control.users()] == ["erin@example.com"]


@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [
        ("POST", "/control/users", {"email": "erin@example.com"}, "400"),  # exists
        ("POST", "/control/users", {"name": "No address"}, "400"),
        ("POST", "/control/users", {"email": "x@example.com", "suspended": "yes"}, "400"),
        ("POST", "/control/users", {"email": "x@example.com", "role": "boss"}, "400"),
        ("PATCH", "/control/users/erin@example.com", {"email": "new@example.com"}, "400"),
        ("PATCH", "/control/users/nobody@example.com", {"suspended": True}, "404"),
        ("DELETE", "/control/users/nobody@example.com", None, "404"),
    ],
)
def test_control_api_refuses_bad_user_requests(
    control: EmulatorControl, method: str, path: str, body: Any, status: str
) -> None:
    control.create_user("erin@example.com")

    with pytest.raises(ControlError, match=status):
        control._request(method, path, body)


def test_users_list_filters_and_refuses_what_it_does_not_understand() -> None:
    with EmulatorServer() as open_emulator:
        control = EmulatorControl(open_emulator.url)
        control.create_user("erin@example.com")
        control.create_user("sam@example.com", suspended=True)
        control.create_user("olga@other.example", archived=True)
        http = http_factory(None, 10)()
        options = {"api_endpoint": open_emulator.url}
        users = build(
            "admin", "directory_v1", http=http, static_discovery=True, client_options=options
        ).users()
        try:
            active = users.list(customer="my_customer", query="isSuspended=false").execute()["users"]
            other = users.list(domain="other.example").execute()["users"]
            assert status_of(users.list()) == 400
            assert status_of(users.list(customer="my_customer", query="shoeSize=42")) == 400
        finally:
            http.close()

    assert [u["primaryEmail"] for u in active] == ["erin@example.com", "olga@other.example"]
    assert [(u["primaryEmail"], u["archived"]) for u in other] == [("olga@other.example", True)]
    assert active[0]["kind"] == "admin#directory#user"
