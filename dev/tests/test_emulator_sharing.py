"""Sharing in the emulator, seen through the real Google client: grants, shared drives, drive changes."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import httplib2
import pytest
from googleapiclient.discovery import build
from googleapiclient.errors import HttpError

from drive.client import DriveClient
from drive_emulator import EmulatorControl, EmulatorServer
from drive_emulator.client import ControlError

ALICE = {"type": "user", "role": "writer", "emailAddress": "alice@example.com"}
BOB = {"type": "user", "role": "commenter", "emailAddress": "bob@example.com"}
ENG = {"type": "group", "role": "reader", "emailAddress": "eng@example.com"}
LINK_ONLY = {"type": "anyone", "role": "reader"}
PUBLIC = {"type": "anyone", "role": "reader", "allowFileDiscovery": True}
DOMAIN = {"type": "domain", "role": "reader", "domain": "example.com", "allowFileDiscovery": True}
FINANCE = {"type": "group", "role": "organizer", "emailAddress": "finance@example.com"}
ALICE_READS = {"type": "user", "role": "reader", "emailAddress": "alice@example.com"}


@pytest.fixture
def drive_service(drive_server: EmulatorServer) -> Iterator[Any]:
    """google-api-python-client's Drive v3 on the emulator, for calls DriveClient does not expose."""
    http = httplib2.Http()
    yield build(
        "drive",
        "v3",
        http=http,
        static_discovery=True,
        client_options={"api_endpoint": drive_server.api_endpoint},
    )
    http.close()


def by_email(permissions: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {p["emailAddress"]: p for p in permissions if "emailAddress" in p}


async def test_sharing_change_bumps_version_and_keeps_modified_time(
    drive_client: DriveClient, drive_control: EmulatorControl
) -> None:
    created = drive_control.create_doc("Plan", "# Plan\n", permissions=[ALICE])
    start = await drive_client.get_start_page_token()
    await asyncio.sleep(0.002)  # modifiedTime has millisecond resolution

    drive_control.share(created["id"], [ALICE, ENG])
    [change] = (await drive_client.list_changes(start)).changes
    await asyncio.sleep(0.002)
    edited = drive_control.update_file(created["id"], content="# Plan\n\nv2")

    assert change.file is not None
    assert change.file.version == 2
    assert change.file.modified_time == datetime.fromisoformat(created["modifiedTime"])
    assert [p.type for p in change.file.permissions or ()] == ["user", "group"]
    assert edited["version"] == "3"
    assert edited["modifiedTime"] > created["modifiedTime"]


def test_grants_render_discovery_and_deletion_with_stable_ids(
    drive_service: Any, drive_control: EmulatorControl
) -> None:
    file_id = drive_control.upload("a.txt", "text/plain", b"x", permissions=[ALICE, LINK_ONLY])["id"]
    before = {p["type"]: p for p in drive_service.files().get(fileId=file_id).execute()["permissions"]}
    drive_control.share(file_id, [DOMAIN, PUBLIC, {**ENG, "deleted": True}, ALICE])
    after = {p["type"]: p for p in drive_service.files().get(fileId=file_id).execute()["permissions"]}

    assert before["anyone"] == {
        "kind": "drive#permission",
        "id": "anyoneWithLink",
        "type": "anyone",
        "role": "reader",
        "allowFileDiscovery": False,
    }
    assert (after["anyone"]["id"], after["anyone"]["allowFileDiscovery"]) == ("anyone", True)
    assert after["user"] == before["user"]  # the id follows the grantee, not its place in the list
    assert "allowFileDiscovery" not in after["user"]
    assert "deleted" not in after["user"]
    assert after["group"]["deleted"] is True
    assert after["domain"]["allowFileDiscovery"] is True
    assert after["domain"]["domain"] == "example.com"


def test_permissions_list_pages_and_refuses_unknown_files(
    drive_service: Any, drive_control: EmulatorControl
) -> None:
    grants = [{"type": "user", "role": "reader", "emailAddress": f"u{i}@example.com"} for i in range(5)]
    file_id = drive_control.upload("a.txt", "text/plain", b"x", permissions=grants)["id"]
    permissions = drive_service.permissions()

    pages: list[list[str]] = []
    request = permissions.list(fileId=file_id, pageSize=2)
    while request is not None:
        answer = request.execute()
        pages.append([p["emailAddress"] for p in answer["permissions"]])
        request = permissions.list_next(request, answer)
    whole = permissions.list(fileId=file_id).execute()

    assert pages == [
        ["u0@example.com", "u1@example.com"],
        ["u2@example.com", "u3@example.com"],
        ["u4@example.com"],
    ]
    assert len(whole["permissions"]) == 5  # unpaged, a My Drive file's whole list, as Drive does
    assert "nextPageToken" not in whole
    with pytest.raises(HttpError) as raised:
        permissions.list(fileId="missing").execute()
    assert raised.value.resp.status == 404


async def test_shared_drive_files_list_inherited_members_and_carry_no_permissions(
    drive_client: DriveClient, drive_service: Any, drive_control: EmulatorControl
) -> None:
    drive = drive_control.create_drive("Finance", [FINANCE, ALICE_READS])
    file_id = drive_control.create_doc("Budget", "# B\n", drive_id=drive["id"], permissions=[ALICE, BOB])[
        "id"
    ]
    permissions = drive_service.permissions()

    meta = await drive_client.get_file(file_id)
    [listed] = [f async for page in drive_client.file_pages() for f in page.files if f.id == file_id]
    [change] = [c for c in (await drive_client.list_changes("1")).changes if c.file_id == file_id]
    answer = permissions.list(fileId=file_id, supportsAllDrives=True).execute()

    assert meta.drive_id == drive["id"]
    assert change.file is not None
    assert all(resource.permissions is None for resource in (meta, listed, change.file))
    granted = by_email(answer["permissions"])
    assert set(granted) == {"finance@example.com", "alice@example.com", "bob@example.com"}
    assert granted["finance@example.com"]["permissionDetails"] == [
        {"permissionType": "member", "role": "organizer", "inherited": True, "inheritedFrom": drive["id"]}
    ]
    assert granted["bob@example.com"]["permissionDetails"] == [
        {"permissionType": "file", "role": "commenter", "inherited": False}
    ]
    alice = granted["alice@example.com"]  # a member with a grant of her own: one entry, the higher role
    assert alice["role"] == "writer"
    assert [d["permissionType"] for d in alice["permissionDetails"]] == ["member", "file"]
    with pytest.raises(HttpError) as raised:  # without supportsAllDrives a shared-drive item is unknown
        permissions.list(fileId=file_id).execute()
    assert raised.value.resp.status == 404


def test_a_shared_drive_lists_its_members(drive_service: Any, drive_control: EmulatorControl) -> None:
    drive = drive_control.create_drive("Legal", [FINANCE])

    answer = drive_service.permissions().list(fileId=drive["id"], supportsAllDrives=True).execute()

    [member] = answer["permissions"]
    assert (member["emailAddress"], member["role"]) == ("finance@example.com", "organizer")
    assert member["permissionDetails"][0]["inherited"] is False


async def test_membership_change_is_one_drive_change(
    drive_client: DriveClient, drive_service: Any, drive_control: EmulatorControl
) -> None:
    drive = drive_control.create_drive("Legal", [ALICE_READS])
    drive_control.create_doc("Contract", "# C\n", drive_id=drive["id"])
    start = await drive_client.get_start_page_token()

    drive_control.set_drive_members(drive["id"], [FINANCE])
    drive_control.set_drive_members(drive["id"], [FINANCE, ALICE_READS])
    changes = drive_service.changes().list(
        pageToken=start, includeItemsFromAllDrives=True, supportsAllDrives=True, includeRemoved=True
    )
    [change] = changes.execute()["changes"]

    assert change["kind"] == "drive#change"
    assert change["changeType"] == "drive"
    assert change["driveId"] == drive["id"]
    assert change["removed"] is False
    assert (change["drive"]["id"], change["drive"]["name"]) == (drive["id"], "Legal")
    assert change["time"].endswith("Z")
    assert "fileId" not in change
    assert [m["emailAddress"] for m in drive_control.drives()[0]["members"]] == [
        "finance@example.com",
        "alice@example.com",
    ]


async def test_drives_list_pages(drive_client: DriveClient, drive_control: EmulatorControl) -> None:
    ids = [drive_control.create_drive(f"Team {i}")["id"] for i in range(3)]

    drives = await drive_client.list_drives(page_size=2)
    as_admin = await drive_client.list_drives(domain_admin=True)

    assert [d.id for d in drives] == ids
    assert [d.name for d in as_admin] == ["Team 0", "Team 1", "Team 2"]


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/control/files", {"name": "x", "driveId": "no-such-drive"}),
        ("/control/files", {"name": "x", "permissions": [{"type": "robot", "role": "reader"}]}),
        ("/control/files", {"name": "x", "permissions": [{"type": "user", "role": "reader"}]}),
        ("/control/files", {"name": "x", "permissions": [{**LINK_ONLY, "allowFileDiscovery": "yes"}]}),
        ("/control/drives", {"name": "x", "members": [{**ALICE, "role": "owner"}]}),
        ("/control/drives", {"name": "x", "members": [{**PUBLIC, "role": "reader"}]}),
        ("/control/groups", {"email": "g@example.com", "members": [{"email": "a@example.com"}]}),
        ("/control/groups", {"email": "g@example.com", "members": [{"type": "USER"}]}),
        ("/control/groups", {"name": "no address"}),
    ],
)
def test_control_api_refuses_malformed_sharing(
    drive_control: EmulatorControl, path: str, body: dict[str, Any]
) -> None:
    with pytest.raises(ControlError, match="400"):
        drive_control._request("POST", path, body)


def test_control_api_refuses_unknown_drives_and_groups(drive_control: EmulatorControl) -> None:
    drive_control.create_group("g@example.com")
    with pytest.raises(ControlError, match="404"):
        drive_control.set_drive_members("missing", [])
    with pytest.raises(ControlError, match="404"):
        drive_control.set_group_members("missing@example.com", [])
    with pytest.raises(ControlError, match="400"):
        drive_control.create_group("G@example.com")  # addresses are case-insensitive
