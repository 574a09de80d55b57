"""The emulator's change log, versions, trash and control API, seen through the real Drive client."""

from __future__ import annotations

import asyncio
from datetime import datetime

import pytest

from drive.client import DriveClient, DriveError, DriveNotFound
from drive_emulator import EmulatorControl
from drive_emulator.client import ControlError


async def test_each_file_appears_once_with_its_latest_state(
    drive_client: DriveClient, drive_control: EmulatorControl
) -> None:
    first = drive_control.create_doc("A", "# A\n")["id"]
    second = drive_control.create_doc("B", "# B\n")["id"]
    drive_control.update_file(first, content="# A\n\nedited")

    page = await drive_client.list_changes("1")

    assert [c.file_id for c in page.changes] == [second, first]
    assert [c.file.version for c in page.changes if c.file] == [1, 2]


async def test_content_name_and_parent_changes_bump_version_and_modified_time(
    drive_client: DriveClient, drive_control: EmulatorControl
) -> None:
    folder = drive_control.create_folder("Team")["id"]
    created = drive_control.upload("a.txt", "text/plain", b"one")
    file_id = created["id"]
    times = [created["modifiedTime"]]
    for change in ({"content": b"two"}, {"name": "b.txt"}, {"parents": [folder]}):
        await asyncio.sleep(0.002)  # modifiedTime has millisecond resolution
        times.append(drive_control.update_file(file_id, **change)["modifiedTime"])

    meta = await drive_client.get_file(file_id)

    assert meta.version == 4
    assert times == sorted(set(times))  # each change moved modifiedTime on
    assert meta.modified_time == datetime.fromisoformat(times[-1])
    assert (meta.name, meta.parents) == ("b.txt", (folder,))
    assert await drive_client.download(file_id) == b"two"


async def test_trashing_a_folder_trashes_what_is_inside(
    drive_client: DriveClient, drive_control: EmulatorControl
) -> None:
    folder = drive_control.create_folder("Old")["id"]
    inner = drive_control.create_folder("Older", parents=[folder])["id"]
    doc = drive_control.create_doc("Notes", "# n\n", parents=[inner])["id"]
    start = await drive_client.get_start_page_token()

    drive_control.trash(folder)
    page = await drive_client.list_changes(start)
    listed = [f.id async for p in drive_client.file_pages() for f in p.files]
    drive_control.untrash(folder)

    assert {c.file_id: c.file and c.file.trashed for c in page.changes} == {
        folder: True,
        inner: True,
        doc: True,
    }
    assert all(not c.removed for c in page.changes)
    assert not {folder, inner, doc} & set(listed)
    assert (await drive_client.get_file(doc)).trashed is False


async def test_deleting_a_folder_removes_what_is_inside(
    drive_client: DriveClient, drive_control: EmulatorControl
) -> None:
    folder = drive_control.create_folder("Gone")["id"]
    doc = drive_control.create_doc("Notes", "# n\n", parents=[folder])["id"]
    start = await drive_client.get_start_page_token()

    drive_control.delete(folder)
    page = await drive_client.list_changes(start)

    assert [(c.file_id, c.removed) for c in page.changes] == [(doc, True), (folder, True)]
    with pytest.raises(DriveNotFound):
        await drive_client.get_file(doc)


async def test_invalid_page_token_is_a_permanent_bad_request(drive_client: DriveClient) -> None:
    with pytest.raises(DriveError) as raised:
        await drive_client.list_changes("not-a-token")

    assert raised.value.status == 400
    assert not raised.value.retriable


def test_control_api_refuses_bad_requests(drive_control: EmulatorControl) -> None:
    with pytest.raises(ControlError, match="404"):
        drive_control.update_file("missing", name="x")
    with pytest.raises(ControlError, match="400"):
        drive_control.create_sheet("Bad", ["not", "tabs"])  # type: ignore[arg-type]  # the wrong shape on purpose
    with pytest.raises(ControlError, match="400"):
        drive_control.fault(500, colour="red")


async def test_fault_filters_by_method_and_can_only_delay(
    drive_client: DriveClient, drive_control: EmulatorControl
) -> None:
    drive_control.fault(500, count=1, path_prefix="/drive/v3/channels", method="POST")
    drive_control.fault(200, count=1, path_prefix="/drive/v3/changes/startPageToken", delay_seconds=0.2)

    token = await drive_client.get_start_page_token()

    assert token == "1"
    assert [f["path_prefix"] for f in drive_control.faults()] == ["/drive/v3/channels"]
    drive_control.clear_faults()
    assert drive_control.faults() == []
