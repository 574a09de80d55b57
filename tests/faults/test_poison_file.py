"""Broken files among good ones under load: each is recorded with a skip reason, nothing is lost."""

from __future__ import annotations

from io import BytesIO

import pytest
from reportlab.pdfgen import canvas

from tests.faults.corpus import create_docs, marker
from tests.faults.pipeline import Pipeline
from tests.polling import wait_until

pytestmark = [pytest.mark.fault, pytest.mark.slow]

PDF = "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
GOOD_DOCS = 32
DEADLINE_SECONDS = 150.0


def pdf(*lines: str) -> bytes:
    """A one-page PDF with a text layer holding `lines`."""
    buffer = BytesIO()
    page = canvas.Canvas(buffer)
    for number, line in enumerate(lines):
        page.drawString(72, 760 - 16 * number, line)
    page.showPage()
    page.save()
    return buffer.getvalue()


def poison() -> dict[str, tuple[str, bytes, str]]:
    """Broken files: {name: (mime type, bytes, how the skip reason starts)}."""
    whole = pdf("Quarterly report", "Revenue grew in every region.")
    return {
        "garbage.pdf": (PDF, b"%PDF-1.7\n" + bytes(range(256)) * 40, "unparsable PDF"),
        "truncated.pdf": (PDF, whole[: len(whole) // 2], "unparsable PDF"),
        "scan.pdf": (PDF, pdf(), "PDF has no text layer"),
        "broken.docx": (DOCX, b"PK\x03\x04 this is no zip archive", "unparsable DOCX"),
    }


def skipped(pipeline: Pipeline, file_ids: list[str]) -> dict[str, tuple[str, int]]:
    """Return the skip reason and chunk count of each of these files that has a row."""
    rows = pipeline.postgres.fetch(
        """SELECT d.file_id, d.skip_reason, count(c.position) AS chunks FROM documents d
           LEFT JOIN chunks c ON c.file_id = d.file_id WHERE d.file_id = ANY($1::text[])
           GROUP BY d.file_id, d.skip_reason""",
        file_ids,
    )
    return {row["file_id"]: (row["skip_reason"] or "", row["chunks"]) for row in rows}


def good_pdf(pipeline: Pipeline, word: str) -> dict[str, str]:
    """Upload a PDF that parses; return {file id: marker word}."""
    uploaded = pipeline.drive.upload(f"{word}.pdf", PDF, pdf(f"The {word} checklist", "Lock the doors."))
    return {uploaded["id"]: word}


def test_poison_files_are_skipped_with_a_reason_and_the_rest_indexed(pipeline: Pipeline) -> None:
    good: dict[str, str] = {}
    broken: dict[str, str] = {}  # file id: how its skip reason must start
    per_batch = GOOD_DOCS // len(poison())
    for batch, (name, (mime_type, data, reason)) in enumerate(poison().items()):
        good |= create_docs(pipeline.drive, "orchard", per_batch, first=batch * per_batch)
        broken[pipeline.drive.upload(name, mime_type, data)["id"]] = reason
        good |= good_pdf(pipeline, marker("orchardpdf", batch))

    pipeline.wait_indexed(list(good), DEADLINE_SECONDS)
    pipeline.wait_searchable(good, 60)

    def all_recorded() -> dict[str, tuple[str, int]]:
        found = skipped(pipeline, list(broken))
        return found if found.keys() == broken.keys() else {}

    recorded = wait_until(all_recorded, lambda: f"{skipped(pipeline, list(broken))} of {broken}", 30)
    for file_id, reason in broken.items():
        skip_reason, chunks = recorded[file_id]
        assert skip_reason.startswith(reason), (file_id, skip_reason)
        assert chunks == 0
    pipeline.assert_no_dead_letters()
