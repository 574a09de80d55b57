"""Text extraction per file type, on small files built with the same libraries people use."""

from __future__ import annotations

from datetime import date
from io import BytesIO

import docx
import openpyxl
import pytest
from reportlab.pdfgen import canvas

from fetcher.extract import DOCX, XLSX, UnparsableFile, extract_text, supports


def _pdf(*pages: str) -> bytes:
    buffer = BytesIO()
    pdf = canvas.Canvas(buffer)
    for text in pages:
        if text:
            pdf.drawString(72, 720, text)
        pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def _docx() -> bytes:
    document = docx.Document()
    document.add_heading("Quarterly plan", level=1)
    document.add_paragraph("We ship the index in March.")
    document.add_heading("Risks", level=2)
    document.add_paragraph("Rate limits", style="List Bullet")
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).text, table.cell(0, 1).text = "Owner", "Task"
    table.cell(1, 0).text, table.cell(1, 1).text = "Ada", "Fetcher"
    buffer = BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _xlsx() -> bytes:
    workbook = openpyxl.Workbook()
    budget = workbook.active
    budget.title = "Budget"
    budget.append(["Item", "Cost", "Due"])
    budget.append(["Servers", 1200.0, date(2025, 3, 1)])
    workbook.create_sheet("Empty")
    people = workbook.create_sheet("People")
    people.append(["Ada", None, "Lovelace", None])
    people.append([None, None])
    people.append(["Alan", "M.", "Turing"])
    buffer = BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def test_plain_text_and_markdown_keep_their_lines() -> None:
    assert extract_text("text/plain", b"\xef\xbb\xbfhello\r\nworld\n\n\n\nbye  \n") == "hello\nworld\n\nbye"
    assert extract_text("text/markdown", "# Title\n\nCaf\u00e9".encode()) == "# Title\n\nCaf\u00e9"


def test_markdown_loses_embedded_images_but_keeps_alt_text() -> None:
    exported = (
        "# Report\n\n![][image1]\n\nSee ![the chart](data:image/png;base64,iVBORw0KGgo=) above.\n\n"
        "[image1]: <data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAA>\n"
    )
    assert extract_text("text/markdown", exported.encode()) == "# Report\n\nSee the chart above."
    html = b'<h1>Logo</h1><img alt="" src="data:image/gif;base64,R0lGOD"><p>Welcome</p>'
    assert extract_text("text/html", html) == "# Logo\n\nWelcome"


def test_text_in_a_legacy_encoding_is_still_read() -> None:
    assert extract_text("text/plain", "na\u00efve caf\u00e9".encode("cp1252")) == "na\u00efve caf\u00e9"
    assert extract_text("text/plain", "\u00fcber".encode("utf-16")) == "\u00fcber"


def test_binary_bytes_labelled_as_text_are_unparsable() -> None:
    with pytest.raises(UnparsableFile, match="binary"):
        extract_text("text/plain", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")


def test_html_becomes_markdown_with_headings_and_without_scripts() -> None:
    html = b"""<html><head><title>t</title><style>p{color:red}</style></head><body>
        <h1>Onboarding</h1><p>Read the <b>wiki</b>.</p><script>alert(1)</script>
        <h2>Accounts</h2><ul><li>Email</li><li>Chat</li></ul></body></html>"""
    text = extract_text("text/html", html)
    assert text.startswith("# Onboarding\n\nRead the **wiki**.")
    assert "## Accounts" in text
    assert "- Email\n- Chat" in text
    assert "alert" not in text
    assert "color" not in text


def test_pdf_text_layer_of_every_page() -> None:
    text = extract_text("application/pdf", _pdf("First page words", "", "Third page words"))
    assert text == "First page words\n\nThird page words"


def test_pdf_without_text_or_broken_is_unparsable() -> None:
    with pytest.raises(UnparsableFile, match="no text layer"):
        extract_text("application/pdf", _pdf(""))
    with pytest.raises(UnparsableFile, match="unparsable PDF"):
        extract_text("application/pdf", b"%PDF-1.4\nthis is not really a pdf")


def test_docx_headings_lists_and_tables() -> None:
    assert extract_text(DOCX, _docx()) == (
        "# Quarterly plan\n\nWe ship the index in March.\n\n## Risks\n\n- Rate limits\n\n"
        "Owner | Task\nAda | Fetcher"
    )


def test_broken_docx_is_unparsable() -> None:
    with pytest.raises(UnparsableFile, match="unparsable DOCX"):
        extract_text(DOCX, b"PK\x03\x04 not a zip at all")


def test_xlsx_gives_every_tab_with_a_heading() -> None:
    assert extract_text(XLSX, _xlsx()) == (
        "## Budget\n\nItem | Cost | Due\nServers | 1200 | 2025-03-01T00:00:00\n\n"
        "## People\n\nAda |  | Lovelace\nAlan | M. | Turing"
    )


def test_broken_xlsx_is_unparsable() -> None:
    with pytest.raises(UnparsableFile, match="unparsable spreadsheet"):
        extract_text(XLSX, b"garbage")


def test_unsupported_types() -> None:
    assert not supports("image/png")
    assert supports("application/pdf")
    with pytest.raises(UnparsableFile, match="unsupported type image/png"):
        extract_text("image/png", b"\x89PNG")
