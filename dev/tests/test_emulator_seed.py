"""`python -m drive_emulator --seed` serves sample documents that real parsers can read."""

from __future__ import annotations

import io
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator

import docx
import openpyxl
import pypdf
import pytest

from devstack.servers import free_port, wait_for_port
from shared.drive import DriveClient, DriveSettings

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture(scope="module")
def seeded_url() -> Iterator[str]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "drive_emulator", "--port", str(port), "--seed"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(10)


@pytest.fixture
async def client(seeded_url: str) -> AsyncIterator[DriveClient]:
    async with DriveClient.from_settings(DriveSettings(drive_api_endpoint=f"{seeded_url}/drive/v3")) as drive:
        yield drive


async def test_seed_has_every_kind_of_document_in_one_folder(client: DriveClient) -> None:
    files = [f async for page in client.file_pages() for f in page.files]

    folders = [f for f in files if f["mimeType"] == "application/vnd.google-apps.folder"]
    assert len(folders) == 1
    documents = [f for f in files if f not in folders]
    assert all(f["parents"] == [folders[0]["id"]] for f in documents)
    assert {f["mimeType"] for f in documents} == {
        "application/vnd.google-apps.document",
        "application/vnd.google-apps.spreadsheet",
        "application/vnd.google-apps.presentation",
        "application/pdf",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "text/html",
        "text/markdown",
        "text/plain",
    }
    assert all(f["permissions"] for f in files)


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
