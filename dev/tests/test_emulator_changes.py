"""The emulator's change log, versions, trash and control API, seen through the real Drive client."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from drive_emulator import EmulatorControl, EmulatorServer
from drive_emulator.client import ControlError
from shared.drive import DriveClient, DriveError, DriveNotFound, DriveSettings


@pytest.fixture
def emulator() -> Iterator[EmulatorServer]:
    with EmulatorServer() as server:
        yield server


@pytest.fixture
def control(emulator: EmulatorServer) -> EmulatorControl:
    return EmulatorControl(emulator.url)


@pytest.fixture
async def client(emulator: EmulatorServer) -> AsyncIterator[DriveClient]:
    settings = DriveSettings(drive_api_endpoint=emulator.api_endpoint, drive_backoff_seconds=0.01)
    async with DriveClient.from_settings(settings) as drive:
        yield drive


async def test_each_file_appears_once_with_its_latest_state(
    client: DriveClient, control: EmulatorControl
) -> None:
    first = control.create_doc("A", "# A\n")["id"]
    second = control.create_doc("B", "# B\n")["id"]
    control.update_file(first, content="# A\n\nedited")

    page = await client.list_changes("1")

    assert [c["fileId"] for c in page.changes] == [second, first]
    assert page.changes[1]["file"]["version"] == "2"


async def test_every_kind_of_change_bumps_version_and_modified_time(
    client: DriveClient, control: EmulatorControl
) -> None:
    folder = control.create_folder("Team")["id"]
    created = control.upload("a.txt", "text/plain", b"one")
    file_id = created["id"]
    control.update_file(file_id, content=b"two")
    control.update_file(file_id, name="b.txt")
    control.update_file(file_id, parents=[folder])
    control.update_file(file_id, permissions=[{"type": "anyone", "role": "reader"}])

    meta = await client.get_file(file_id)

    assert meta["version"] == "5"
    assert meta["modifiedTime"] >= created["modifiedTime"]
    assert (meta["name"], meta["parents"]) == ("b.txt", [folder])
    assert meta["permissions"] == [
        {"kind": "drive#permission", "id": "anyoneWithLink", "type": "anyone", "role": "reader"}
    ]
    assert await client.download(file_id) == b"two"


async def test_trashing_a_folder_trashes_what_is_inside(
    client: DriveClient, control: EmulatorControl
) -> None:
    folder = control.create_folder("Old")["id"]
    inner = control.create_folder("Older", parents=[folder])["id"]
    doc = control.create_doc("Notes", "# n\n", parents=[inner])["id"]
    start = await client.get_start_page_token()

    control.trash(folder)
    page = await client.list_changes(start)
    listed = [f["id"] async for p in client.file_pages() for f in p.files]
    control.untrash(folder)

    assert {c["fileId"]: c["file"]["trashed"] for c in page.changes} == {folder: True, inner: True, doc: True}
    assert all(not c["removed"] for c in page.changes)
    assert not {folder, inner, doc} & set(listed)
    assert (await client.get_file(doc))["trashed"] is False


async def test_deleting_a_folder_removes_what_is_inside(
    client: DriveClient, control: EmulatorControl
) -> None:
    folder = control.create_folder("Gone")["id"]
    doc = control.create_doc("Notes", "# n\n", parents=[folder])["id"]
    start = await client.get_start_page_token()

    control.delete(folder)
    page = await client.list_changes(start)

    assert [(c["fileId"], c["removed"]) for c in page.changes] == [(doc, True), (folder, True)]
    with pytest.raises(DriveNotFound):
        await client.get_file(doc)


async def test_invalid_page_token_is_a_permanent_bad_request(client: DriveClient) -> None:
    with pytest.raises(DriveError) as raised:
        await client.list_changes("not-a-token")

    assert raised.value.status == 400
    assert not raised.value.retriable


def test_control_api_refuses_bad_requests(control: EmulatorControl) -> None:
    with pytest.raises(ControlError, match="404"):
        control.update_file("missing", name="x")
    with pytest.raises(ControlError, match="400"):
        control.create_sheet("Bad", ["not", "tabs"])  # type: ignore[arg-type]  # the wrong shape on purpose
    with pytest.raises(ControlError, match="400"):
        control.fault(500, colour="red")


async def test_fault_filters_by_method_and_can_only_delay(
    client: DriveClient, control: EmulatorControl
) -> None:
    control.fault(500, count=1, path_prefix="/drive/v3/channels", method="POST")
    control.fault(200, count=1, path_prefix="/drive/v3/changes/startPageToken", delay_seconds=0.2)

    token = await client.get_start_page_token()

    assert token == "1"
    assert [f["path_prefix"] for f in control.faults()] == ["/drive/v3/channels"]
    control.clear_faults()
    assert control.faults() == []
