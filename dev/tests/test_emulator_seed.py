"""`python -m drive_emulator --seed` serves sample documents that real parsers can read."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import docx
import openpyxl
import pypdf
import pytest

from devstack import stack
from drive.client import DriveClient, DriveSettings
from drive.directory import USER_SCOPES, DirectoryClient, DirectorySettings
from drive_emulator.auth import service_account_key

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture(scope="module")
def seeded_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with stack.emulator(tmp_path_factory.mktemp("emulator") / "drive-emulator.log", "--seed") as url:
        yield url


@pytest.fixture
async def client(seeded_url: str) -> AsyncIterator[DriveClient]:
    async with DriveClient.from_settings(DriveSettings(drive_api_endpoint=f"{seeded_url}/drive/v3")) as drive:
        yield drive


async def test_seed_has_every_kind_of_document_in_one_folder(client: DriveClient) -> None:
    files = [f async for page in client.file_pages() for f in page.files]

    folders = [f for f in files if f.mime_type == "application/vnd.google-apps.folder"]
    assert len(folders) == 1
    handbook = [f for f in files if f.parents == (folders[0].id,)]
    assert {f.mime_type for f in handbook} == {
        "application/vnd.google-apps.document",
        "application/vnd.google-apps.spreadsheet",
        "application/vnd.google-apps.presentation",
        "application/pdf",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "text/html",
        "text/markdown",
        "text/plain",
    }
    assert all(f.permissions for f in files if f.drive_id is None)


async def test_seed_shares_files_differently_with_each_sample_user(client: DriveClient) -> None:
    """Signing in as another sample user must change what search shows."""
    from drive_emulator import samples
    from shared.access import may_read

    files = [f async for page in client.file_pages() for f in page.files]
    documents = [f for f in files if f.mime_type != "application/vnd.google-apps.folder"]

    def groups_of(email: str) -> set[str]:
        held, grew = set(), True
        while grew:
            found = {
                g for g, members in samples.GROUPS.items() for m in members if m["email"] in {email, *held}
            }
            grew, held = not found <= held, held | found
        return held

    def readable(email: str) -> set[str]:
        return {f.name for f in documents if may_read(permissions[f.id], email, groups_of(email))}

    permissions = {f.id: await client.list_permissions(f.id) for f in documents}
    alice, bob, carol = (readable(user) for user in samples.USERS)
    assert {"On-call Runbook.html", "Deploy Checklist.md"} <= alice - bob - carol  # nested group
    assert alice & bob & carol >= {"Employee Onboarding Guide", "Press Kit"}
    assert "Sales Playbook" in bob - alice - carol  # the shared drive's members
    assert {"Salary Bands 2025", "Reorganisation Draft"} <= carol - alice - bob
    assert "Reorganisation Draft" not in readable("dave@example.com")  # link-only: not findable


async def test_seeded_binaries_parse_with_real_libraries(client: DriveClient) -> None:
    pdf = pypdf.PdfReader(io.BytesIO(await client.download("seed-travel-pdf")))
    word = docx.Document(io.BytesIO(await client.download("seed-security-docx")))
    html = (await client.download("seed-oncall-html")).decode()

    assert "Economy class is the default" in pdf.pages[0].extract_text()
    assert any("password manager" in p.text for p in word.paragraphs)
    assert "<h2>Escalation</h2>" in html


async def test_seeded_google_files_export(client: DriveClient) -> None:
    doc = (await client.export("seed-onboarding-doc", "text/markdown")).decode()
    book = openpyxl.load_workbook(io.BytesIO(await client.export("seed-expense-sheet", XLSX)))
    slides = (await client.export("seed-allhands-slides", "text/plain")).decode()

    assert doc.startswith("# Employee Onboarding Guide")
    assert "## Benefits and time off" in doc
    assert book.sheetnames == ["Limits", "Approvers"]
    assert "Revenue up 18%" in slides


async def test_seed_users_are_in_the_directory_and_each_has_a_drive_of_their_own(
    seeded_url: str, tmp_path: Path
) -> None:
    from drive_emulator import samples

    key = str(service_account_key(tmp_path / "key.json", f"{seeded_url}/token"))
    directory = DirectorySettings(directory_api_endpoint=seeded_url, google_application_credentials=key)
    async with DirectoryClient.from_settings(directory, USER_SCOPES) as admin:
        users = await admin.list_users()
    mine: dict[str, set[str]] = {}
    for user in samples.USERS:
        settings = DriveSettings(
            drive_api_endpoint=f"{seeded_url}/drive/v3",
            google_application_credentials=key,
            google_subject=user,
        )
        async with DriveClient.from_settings(settings) as drive:
            mine[user] = {f.name async for page in drive.file_pages() for f in page.files}

    assert [u.email for u in users] == list(samples.USERS)
    alice, bob, carol = (mine[user] for user in samples.USERS)
    handbook = {"Company Handbook", "Employee Onboarding Guide", "Q3 All-Hands", "Travel Policy.pdf"}
    assert alice == {"On-call Runbook.html", "Deploy Checklist.md"}  # hers (and her groups')
    assert bob == {"Sales Playbook"}  # the Sales shared drive
    assert carol >= {*handbook, "Salary Bands 2025", "Reorganisation Draft", "Press Kit"}  # her own
    assert not carol & alice  # the handbook is shared with the domain: in nobody else's Drive
