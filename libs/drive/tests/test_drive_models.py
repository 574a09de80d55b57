"""Drive's JSON parsed into models: what each field becomes, and what a missing one means."""

from __future__ import annotations

from datetime import UTC, datetime

from drive.models import Change, Channel, DriveFile, SharedDrive
from shared import mime
from shared.access import Permission

FILE = {"id": "f1", "mimeType": mime.PLAIN_TEXT, "version": "7"}


def test_absent_permissions_differ_from_none_and_unknown_types_are_skipped() -> None:
    grants = [{"type": "audience", "role": "reader"}, {"type": "anyone", "role": "reader"}]

    assert DriveFile.from_api(FILE).permissions is None  # only permissions.list can tell
    assert DriveFile.from_api({**FILE, "permissions": []}).permissions == ()
    assert DriveFile.from_api({**FILE, "permissions": None}).permissions == ()
    assert DriveFile.from_api({**FILE, "permissions": grants}).permissions == (
        Permission(type="anyone", role="reader", allow_file_discovery=False),
    )


def test_a_file_resource_becomes_typed_fields() -> None:
    resource = {
        **FILE,
        "kind": "drive#file",
        "name": "notes.txt",
        "parents": ["folder"],
        "modifiedTime": "2025-03-01T12:00:00.000Z",
        "md5Checksum": "abc",
        "size": "1024",
        "trashed": True,
        "driveId": "d1",
        "webViewLink": "https://drive.google.com/file/d/f1/view",
        "owners": [{"emailAddress": "a@corp.example"}, {}],
        "permissions": [
            {"type": "domain", "role": "reader", "domain": "corp.example", "allowFileDiscovery": True}
        ],
        "exportLinks": {mime.PDF: "https://export"},
    }

    file = DriveFile.from_api(resource)

    assert file == DriveFile(
        id="f1",
        mime_type=mime.PLAIN_TEXT,
        version=7,
        name="notes.txt",
        parents=("folder",),
        modified_time=datetime(2025, 3, 1, 12, tzinfo=UTC),
        md5_checksum="abc",
        size=1024,
        trashed=True,
        drive_id="d1",
        web_view_link="https://drive.google.com/file/d/f1/view",
        permissions=(
            Permission(type="domain", role="reader", domain="corp.example", allow_file_discovery=True),
        ),
        owner_emails=("a@corp.example", ""),
        export_links={mime.PDF: "https://export"},
    )
    bare = DriveFile.from_api(FILE)
    assert (bare.name, bare.parents, bare.size, bare.trashed, bare.owner_emails) == ("", (), None, False, ())


def test_a_shortcut_names_its_target() -> None:
    shortcut = {
        **FILE,
        "mimeType": mime.SHORTCUT,
        "shortcutDetails": {"targetId": "t", "targetMimeType": mime.PDF},
    }

    file = DriveFile.from_api(shortcut)

    assert (file.target_id, file.target_mime_type) == ("t", mime.PDF)
    assert DriveFile.from_api(FILE).target_id is None


def test_changes_of_files_and_of_shared_drives() -> None:
    changed = Change.from_api({"changeType": "file", "fileId": "f1", "removed": False, "file": FILE})
    removed = Change.from_api({"changeType": "file", "fileId": "f1", "removed": True})
    drive = Change.from_api({"changeType": "drive", "driveId": "d1", "time": "2025-03-01T12:00:00.000Z"})

    assert changed.current == DriveFile.from_api(FILE)
    assert (removed.file_id, removed.removed, removed.current) == ("f1", True, None)
    assert (drive.change_type, drive.drive_id, drive.file_id) == ("drive", "d1", None)
    assert drive.time == datetime(2025, 3, 1, 12, tzinfo=UTC)
    assert Change.from_api({"fileId": "f2"}).change_type == "file"  # Drive's default


def test_a_channel_expires_at_its_milliseconds() -> None:
    resource = {"kind": "api#channel", "id": "c1", "resourceId": "r1", "resourceUri": "https://u"}

    opened = Channel.from_api({**resource, "expiration": "1767225600000"})

    assert opened == Channel(
        id="c1", resource_id="r1", resource_uri="https://u", expiration=datetime(2026, 1, 1, tzinfo=UTC)
    )
    assert Channel.from_api(resource).expiration is None


def test_a_shared_drive_is_its_id_and_name() -> None:
    assert SharedDrive.from_api({"kind": "drive#drive", "id": "d1", "name": "Sales"}) == SharedDrive(
        id="d1", name="Sales"
    )
