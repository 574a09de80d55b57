"""DriveClient through google-api-python-client against the Drive emulator on port 0."""

from __future__ import annotations

import hashlib
import io
from collections.abc import AsyncIterator
from datetime import timedelta

import openpyxl
import pytest
from prometheus_client import REGISTRY

from devstack.servers import free_port
from drive.client import (
    DriveClient,
    DriveError,
    DriveExportTooLarge,
    DriveForbidden,
    DriveNotFound,
    DriveRateLimited,
    DriveSettings,
    DriveUnauthorized,
    DriveUnavailable,
)
from drive_emulator import EmulatorControl, EmulatorServer
from shared import access, mime
from shared.access import Permission


def make_client(endpoint: str, retries: int = 3) -> DriveClient:
    settings = DriveSettings(
        drive_api_endpoint=endpoint, drive_max_retries=retries, drive_backoff_seconds=0.01
    )
    return DriveClient.from_settings(settings)


@pytest.fixture
async def client(drive_server: EmulatorServer) -> AsyncIterator[DriveClient]:
    async with make_client(drive_server.api_endpoint) as drive:
        yield drive


async def test_changes_page_with_next_token_then_new_start_token(
    client: DriveClient, drive_control: EmulatorControl
) -> None:
    drive_control.upload("old.txt", mime.PLAIN_TEXT, b"before the token")
    start = await client.get_start_page_token()
    ids = [drive_control.upload(f"f{i}.txt", mime.PLAIN_TEXT, b"x")["id"] for i in range(5)]

    pages = [page async for page in client.change_pages(start, page_size=2)]

    assert [len(page.changes) for page in pages] == [2, 2, 1]
    assert [page.next_page_token is not None for page in pages] == [True, True, False]
    assert [page.new_start_page_token is not None for page in pages] == [False, False, True]
    assert [c.file_id for page in pages for c in page.changes] == ids
    first = pages[0].changes[0]
    assert first.change_type == "file"
    assert first.removed is False
    assert first.time is not None
    assert first.file is not None
    assert first.file.name == "f0.txt"
    new_start = pages[-1].new_start_page_token
    assert new_start is not None
    assert (await client.list_changes(new_start)).changes == ()
    drive_control.update_file(ids[3], name="renamed.txt")
    later = await client.list_changes(new_start)
    assert [(c.file_id, c.current and c.current.name) for c in later.changes] == [(ids[3], "renamed.txt")]


async def test_removed_file_is_reported_without_metadata(
    client: DriveClient, drive_control: EmulatorControl
) -> None:
    file_id = drive_control.upload("gone.txt", mime.PLAIN_TEXT, b"bye")["id"]
    start = await client.get_start_page_token()
    drive_control.delete(file_id)

    page = await client.list_changes(start)

    assert len(page.changes) == 1
    assert page.changes[0].file_id == file_id
    assert page.changes[0].removed is True
    assert page.changes[0].file is None
    with pytest.raises(DriveNotFound) as raised:
        await client.get_file(file_id)
    assert raised.value.status == 404
    assert raised.value.reason == "notFound"
    assert not raised.value.retriable


async def test_files_list_pages_and_skips_trashed(
    client: DriveClient, drive_control: EmulatorControl
) -> None:
    ids = [drive_control.upload(f"f{i}.txt", mime.PLAIN_TEXT, b"x")["id"] for i in range(5)]
    drive_control.trash(ids[1])

    pages = [page async for page in client.file_pages(page_size=2)]

    assert [len(page.files) for page in pages] == [2, 2]
    assert pages[-1].next_page_token is None
    assert [f.id for page in pages for f in page.files] == [ids[0], *ids[2:]]


async def test_metadata_of_binary_file_and_shortcut(
    client: DriveClient, drive_control: EmulatorControl
) -> None:
    folder = drive_control.create_folder("Policies")
    permissions = [{"type": "group", "role": "reader", "emailAddress": "eng@example.com"}]
    pdf = drive_control.upload(
        "p.pdf", mime.PDF, b"%PDF-1.4 tiny", parents=[folder["id"]], permissions=permissions
    )
    drive_control.update_file(pdf["id"], name="policy.pdf")
    shortcut = drive_control.create_shortcut("link to policy", pdf["id"])

    meta = await client.get_file(pdf["id"])
    link = await client.get_file(shortcut["id"])

    assert meta.name == "policy.pdf"
    assert meta.version == 2
    assert meta.md5_checksum == hashlib.md5(b"%PDF-1.4 tiny").hexdigest()
    assert meta.size == len(b"%PDF-1.4 tiny")
    assert meta.parents == (folder["id"],)
    assert (meta.web_view_link or "").endswith(f"/file/d/{pdf['id']}/view?usp=drivesdk")
    assert meta.modified_time is not None
    assert meta.modified_time.utcoffset() == timedelta(0)  # Drive writes UTC, with a Z
    assert [p.email_address for p in meta.permissions or ()] == ["eng@example.com"]
    assert link.mime_type == mime.SHORTCUT
    assert (link.target_id, link.target_mime_type) == (pdf["id"], mime.PDF)


async def test_download_binary_and_refuse_google_docs(
    client: DriveClient, drive_control: EmulatorControl
) -> None:
    data = bytes(range(256)) * 10
    binary = drive_control.upload("blob.bin", mime.OCTET_STREAM, data)
    doc = drive_control.create_doc("Doc", "# Title\n")

    assert await client.download(binary["id"]) == data
    with pytest.raises(DriveForbidden) as raised:
        await client.download(doc["id"])
    assert raised.value.reason == "fileNotDownloadable"


async def test_export_doc_as_markdown_html_and_text(
    client: DriveClient, drive_control: EmulatorControl
) -> None:
    doc = drive_control.create_doc(
        "Guide", "# Welcome\n\nSome **bold** words.\n\n## Next steps\n\n- one\n- two\n"
    )

    markdown = (await client.export(doc["id"], mime.MARKDOWN)).decode()
    html = (await client.export(doc["id"], mime.HTML)).decode()
    text = (await client.export(doc["id"], mime.PLAIN_TEXT)).decode("utf-8-sig")

    assert markdown.startswith("# Welcome")
    assert "## Next steps" in markdown
    assert "<h1>Welcome</h1>" in html
    assert "<strong>bold</strong>" in html
    assert "#" not in text
    assert "**" not in text
    assert "Some bold words." in text
    assert "* one" in text


async def test_export_sheet_xlsx_has_every_tab_csv_only_the_first(
    client: DriveClient, drive_control: EmulatorControl
) -> None:
    tabs = {"Budget": [["item", "cost"], ["laptop", 1200]], "Owners": [["item", "owner"], ["laptop", "it"]]}
    sheet = drive_control.create_sheet("Budget 2025", tabs)

    book = openpyxl.load_workbook(io.BytesIO(await client.export(sheet["id"], mime.XLSX)))
    csv_text = (await client.export(sheet["id"], mime.CSV)).decode()

    assert book.sheetnames == ["Budget", "Owners"]
    assert book["Owners"]["B2"].value == "it"
    assert book["Budget"]["B2"].value == 1200
    assert csv_text == "item,cost\r\nlaptop,1200\r\n"


async def test_export_errors_are_typed(client: DriveClient, drive_control: EmulatorControl) -> None:
    doc = drive_control.create_doc("Huge", "# Big\n\n" + "lorem ipsum " * 900_000)
    binary = drive_control.upload("a.txt", mime.PLAIN_TEXT, b"plain")

    with pytest.raises(DriveExportTooLarge) as too_large:
        await client.export(doc["id"], mime.MARKDOWN)
    with pytest.raises(DriveError) as unsupported:
        await client.export(doc["id"], "application/x-unknown")
    with pytest.raises(DriveForbidden) as not_exportable:
        await client.export(binary["id"], mime.PLAIN_TEXT)

    assert too_large.value.reason == "exportSizeLimitExceeded"
    assert not too_large.value.retriable
    assert (unsupported.value.status, unsupported.value.reason) == (400, "badRequest")
    assert not unsupported.value.retriable
    assert not_exportable.value.reason == "fileNotExportable"


async def test_rate_limited_twice_then_success(client: DriveClient, drive_control: EmulatorControl) -> None:
    file_id = drive_control.upload("a.txt", mime.PLAIN_TEXT, b"x")["id"]
    drive_control.fault(429, count=2, path_prefix="/drive/v3/files")

    meta = await client.get_file(file_id)

    assert meta.id == file_id
    assert drive_control.faults() == []


async def test_dropped_connections_are_retried(client: DriveClient, drive_control: EmulatorControl) -> None:
    drive_control.fault(0, count=3, path_prefix="/drive/v3/changes")

    token = await client.get_start_page_token()

    assert token == "1"
    assert drive_control.faults() == []


@pytest.mark.parametrize(
    ("status", "reason", "error"),
    [
        (403, "rateLimitExceeded", DriveRateLimited),
        (403, "userRateLimitExceeded", DriveRateLimited),
        (429, "rateLimitExceeded", DriveRateLimited),
        (503, "backendError", DriveUnavailable),
    ],
)
async def test_throttling_that_outlasts_the_retries_raises_retriable(
    drive_server: EmulatorServer,
    drive_control: EmulatorControl,
    status: int,
    reason: str,
    error: type[DriveError],
) -> None:
    drive_control.fault(status, count=5, reason=reason)

    async with make_client(drive_server.api_endpoint, retries=2) as client:
        with pytest.raises(error) as raised:
            await client.get_start_page_token()

    assert raised.value.retriable
    assert isinstance(raised.value, DriveRateLimited)
    assert (raised.value.status, raised.value.reason) == (status, reason)
    assert drive_control.faults()[0]["count"] == 5 - 3  # one try and two retries


async def test_forbidden_is_permanent_and_not_retried(
    client: DriveClient, drive_control: EmulatorControl
) -> None:
    drive_control.fault(403, count=3, reason="insufficientFilePermissions")

    with pytest.raises(DriveForbidden) as raised:
        await client.get_file("any")

    assert not raised.value.retriable
    assert drive_control.faults()[0]["count"] == 2


async def test_refused_credentials_are_not_retried(
    client: DriveClient, drive_control: EmulatorControl
) -> None:
    drive_control.fault(401, count=3, reason="authError")

    with pytest.raises(DriveUnauthorized):
        await client.get_start_page_token()

    assert drive_control.faults()[0]["count"] == 2, "one try: the consume loop waits credentials out, slowly"


def _attempts(method: str, outcome: str) -> float:
    return (
        REGISTRY.get_sample_value("drive_index_drive_requests_total", {"method": method, "outcome": outcome})
        or 0
    )


class CountingBudget:
    """A call budget that never waits and records who spent it."""

    def __init__(self) -> None:
        self.spent: list[str] = []

    async def spend(self, user: str) -> None:
        self.spent.append(user)


async def test_every_attempt_spends_the_budget_and_is_counted_by_outcome(
    drive_server: EmulatorServer, drive_control: EmulatorControl
) -> None:
    drive_control.fault(429, count=2, path_prefix="/drive/v3/changes")
    method = "changes.getStartPageToken"
    before = {outcome: _attempts(method, outcome) for outcome in ("ok", "retried", "DriveRateLimited")}
    settings = DriveSettings(
        drive_api_endpoint=drive_server.api_endpoint, drive_max_retries=3, drive_backoff_seconds=0.01
    )
    budget = CountingBudget()

    async with DriveClient.from_settings(settings, budget=budget) as drive:
        await drive.get_start_page_token()
        drive_control.fault(429, count=5, path_prefix="/drive/v3/changes")
        with pytest.raises(DriveRateLimited):
            await drive.get_start_page_token()

    # Google counts retries too: 3 tries, then 1 + 3 retries that all failed.
    assert len(budget.spent) == 3 + 4
    counted = {outcome: _attempts(method, outcome) - before[outcome] for outcome in before}
    assert counted == {"ok": 1, "retried": 2 + 3, "DriveRateLimited": 1}


async def test_unreachable_drive_raises_unavailable_after_retries() -> None:
    async with make_client(f"http://127.0.0.1:{free_port()}/drive/v3/", retries=1) as client:
        with pytest.raises(DriveUnavailable) as raised:
            await client.get_start_page_token()

    assert raised.value.retriable
    assert isinstance(raised.value.__cause__, ConnectionError)


ALICE = {"type": "user", "role": "writer", "emailAddress": "alice@example.com"}
DOMAIN_LINK = {"type": "domain", "role": "reader", "domain": "example.com"}
PUBLIC = {"type": "anyone", "role": "reader", "allowFileDiscovery": True}
GONE = {"type": "group", "role": "reader", "emailAddress": "old@example.com", "deleted": True}


async def test_link_only_and_discoverable_grants_round_trip(
    client: DriveClient, drive_control: EmulatorControl
) -> None:
    file_id = drive_control.upload(
        "a.txt", mime.PLAIN_TEXT, b"x", permissions=[ALICE, DOMAIN_LINK, PUBLIC, GONE]
    )["id"]

    listed = await client.list_permissions(file_id)
    embedded = (await client.get_file(file_id)).permissions

    assert (
        tuple(listed)
        == embedded
        == (
            Permission(type="user", role="writer", email_address="alice@example.com"),
            Permission(type="domain", role="reader", domain="example.com", allow_file_discovery=False),
            Permission(type="anyone", role="reader", allow_file_discovery=True),
            Permission(type="group", role="reader", email_address="old@example.com", deleted=True),
        )
    )
    # "people in the domain with the link" and a deleted group let nobody find the file
    assert access.readers(listed) == ["anyone", "user:alice@example.com"]


async def test_shared_drive_file_permissions_come_from_permissions_list(
    client: DriveClient, drive_control: EmulatorControl
) -> None:
    members = [{"type": "group", "role": "fileOrganizer", "emailAddress": "Finance@Example.com"}]
    drive = drive_control.create_drive("Finance", members)
    file_id = drive_control.create_doc("Budget", "# B\n", drive_id=drive["id"], permissions=[ALICE])["id"]

    meta = await client.get_file(file_id)
    permissions = await client.list_permissions(file_id)

    assert meta.permissions is None  # absent, not empty: only permissions.list tells
    assert access.readers(permissions) == ["group:finance@example.com", "user:alice@example.com"]


async def test_list_permissions_reads_every_page(client: DriveClient, drive_control: EmulatorControl) -> None:
    grants = [{"type": "user", "role": "reader", "emailAddress": f"u{i}@example.com"} for i in range(150)]
    drive = drive_control.create_drive("Big", grants[:120])
    file_id = drive_control.create_doc("Everyone", "# E\n", drive_id=drive["id"], permissions=grants[100:])[
        "id"
    ]

    permissions = await client.list_permissions(file_id)

    assert sorted(p.email_address or "" for p in permissions) == sorted(g["emailAddress"] for g in grants)


async def test_list_permissions_retries_outages_and_types_errors(
    client: DriveClient, drive_control: EmulatorControl
) -> None:
    file_id = drive_control.upload("a.txt", mime.PLAIN_TEXT, b"x", permissions=[ALICE])["id"]
    drive_control.fault(503, count=2, path_prefix=f"/drive/v3/files/{file_id}/permissions")

    permissions = await client.list_permissions(file_id)

    assert [p.email_address for p in permissions] == ["alice@example.com"]
    assert drive_control.faults() == []
    with pytest.raises(DriveNotFound):
        await client.list_permissions("missing")
