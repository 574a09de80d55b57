"""Text extraction per file type, on small files built with the same libraries people use."""

from __future__ import annotations

import codecs
import random
from datetime import date
from io import BytesIO

import docx
import openpyxl
import pytest
from reportlab.pdfgen import canvas

from fetcher.extract import Extracted, UnparsableFile, extract, extract_text, supports
from fetcher.extract.normalize import clean
from shared import mime


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
    assert (
        extract_text(mime.PLAIN_TEXT, b"\xef\xbb\xbfhello\r\nworld\n\n\n\nbye  \n") == "hello\nworld\n\nbye"
    )
    assert extract_text(mime.MARKDOWN, "# Title\n\nCaf\u00e9".encode()) == "# Title\n\nCaf\u00e9"


def test_markdown_loses_embedded_images_but_keeps_alt_text() -> None:
    exported = (
        "# Report\n\n![][image1]\n\nSee ![the chart](data:image/png;base64,iVBORw0KGgo=) above.\n\n"
        "[image1]: <data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAA>\n"
    )
    assert extract_text(mime.MARKDOWN, exported.encode()) == "# Report\n\nSee the chart above."
    html = b'<h1>Logo</h1><img alt="" src="data:image/gif;base64,R0lGOD"><p>Welcome</p>'
    assert extract_text(mime.HTML, html) == "# Logo\n\nWelcome"


def test_text_in_a_legacy_encoding_is_still_read() -> None:
    assert extract_text(mime.PLAIN_TEXT, "na\u00efve caf\u00e9".encode("cp1252")) == "na\u00efve caf\u00e9"
    assert extract_text(mime.PLAIN_TEXT, "\u00fcber".encode("utf-16")) == "\u00fcber"


@pytest.mark.parametrize(
    ("data", "text"),
    [
        (codecs.BOM_UTF8 + "caf\u00e9".encode(), "caf\u00e9"),
        (codecs.BOM_UTF16_LE + "h\u00e9".encode("utf-16-le"), "h\u00e9"),
        (codecs.BOM_UTF16_BE + "h\u00e9".encode("utf-16-be"), "h\u00e9"),
        (codecs.BOM_UTF16_LE + b"h\x00i\x00!", "hi\ufffd"),
        (codecs.BOM_UTF16_LE, ""),
        (codecs.BOM_UTF32_LE + "h\u00e9".encode("utf-32-le"), "h\u00e9"),
        (codecs.BOM_UTF32_BE + "h\u00e9".encode("utf-32-be"), "h\u00e9"),
        ("no mark, still UTF-16".encode("utf-16-le"), "no mark, still UTF-16"),
        ("no mark, big-endian".encode("utf-16-be"), "no mark, big-endian"),
        (b"caf\xc3\xa9 \xff ok", "caf\u00e9 \ufffd ok"),
        ("na\u00efve caf\u00e9".encode("cp1252"), "na\u00efve caf\u00e9"),
        (b"tab\tkept; bell\x07, escape\x1b[0m and DEL\x7f gone", "tab\tkept; bell, escape[0m and DEL gone"),
        (b"a NUL\x00 in a line of ordinary text is dropped", "a NUL in a line of ordinary text is dropped"),
        (b"a\r\nb\rc\x0cd\x0be", "a\nb\nc\nd\ne"),
        ("next\u0085line, \u009bC1 control gone".encode(), "next\nline, C1 control gone"),
        (b"", ""),
    ],
    ids=[
        "utf8-bom",
        "utf16le-bom",
        "utf16be-bom",
        "utf16-bom-odd-byte",
        "bom-only",
        "utf32le-bom",
        "utf32be-bom",
        "utf16le-no-bom",
        "utf16be-no-bom",
        "invalid-utf8",
        "cp1252",
        "controls",
        "nul",
        "newlines",
        "c1-controls",
        "empty",
    ],
)
def test_text_files_decode_to_clean_text(data: bytes, text: str) -> None:
    assert extract_text(mime.PLAIN_TEXT, data) == text


@pytest.mark.parametrize(
    ("raw", "cleaned"),
    [
        ("lone \ud800surrogates\udfff go", "lone surrogates go"),
        ("line\u2028separators", "line\nseparators"),
        ("trailing  \n\n\n\nblank runs\t", "trailing\n\nblank runs"),
        ("\x00\x01\x02", ""),
        ("\u00fcnicode and \ufffd stay", "\u00fcnicode and \ufffd stay"),
    ],
)
def test_every_extracted_text_is_cleaned(raw: str, cleaned: str) -> None:
    assert clean(raw) == cleaned
    cleaned.encode()  # encodes as UTF-8: an event can carry it


@pytest.mark.parametrize(
    "data",
    [
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
        random.Random(1).randbytes(64 * 1024),
        bytes(range(32)) * 8192,
    ],
    ids=["png", "random", "control-characters"],
)
@pytest.mark.parametrize("mime_type", [mime.PLAIN_TEXT, mime.CSV, mime.MARKDOWN, mime.HTML])
def test_binary_bytes_labelled_as_text_are_unparsable(data: bytes, mime_type: str) -> None:
    with pytest.raises(UnparsableFile, match=r"^not text: mostly binary$"):
        extract_text(mime_type, data)


def test_deeply_nested_html_keeps_its_text() -> None:
    nested = b"<div><b>x</b>" * 3000 + b"deep" + b"</div>" * 3000 + b"<p>after</p>"
    text = extract_text(mime.HTML, nested)
    assert text.startswith("**x**\n\n**x**")  # the first levels keep their markup
    assert text.endswith("x x x deep\n\nafter")  # past MAX_HTML_DEPTH only the text is left
    assert text.count("x") == 3000


def test_html_is_decoded_by_its_declared_charset_or_else_like_text() -> None:
    assert extract_text(mime.HTML, b'<meta charset="shift_jis"><p>\x82\xa0</p>') == "\u3042"
    assert extract_text(mime.HTML, "<p>caf\u00e9</p>".encode("cp1252")) == "caf\u00e9"
    assert extract_text(mime.HTML, codecs.BOM_UTF16_LE + "<p>hi</p>".encode("utf-16-le")) == "hi"
    assert extract_text(mime.HTML, b"<p>nul\x00s go; so does \x01 this</p>") == "nuls go; so does  this"


def test_long_text_is_cut_at_the_limit_and_says_so() -> None:
    words = b"word " * 100
    assert extract(mime.PLAIN_TEXT, words, max_chars=42) == Extracted(" ".join(["word"] * 8), truncated=True)
    assert extract(mime.PLAIN_TEXT, words, max_chars=44) == Extracted(" ".join(["word"] * 9), truncated=True)
    assert extract(mime.PLAIN_TEXT, words, max_chars=500) == Extracted(" ".join(["word"] * 100))
    assert extract(mime.PLAIN_TEXT, b"x" * 300, max_chars=100) == Extracted("x" * 100, truncated=True)
    assert extract(mime.XLSX, _xlsx(), max_chars=10).truncated
    assert extract(mime.PDF, _pdf("one", "two", "three"), max_chars=2).truncated


def test_html_becomes_markdown_with_headings_and_without_scripts() -> None:
    html = b"""<html><head><title>t</title><style>p{color:red}</style></head><body>
        <h1>Onboarding</h1><p>Read the <b>wiki</b>.</p><script>alert(1)</script>
        <h2>Accounts</h2><ul><li>Email</li><li>Chat</li></ul></body></html>"""
    text = extract_text(mime.HTML, html)
    assert text.startswith("# Onboarding\n\nRead the **wiki**.")
    assert "## Accounts" in text
    assert "- Email\n- Chat" in text
    assert "alert" not in text
    assert "color" not in text


def test_pdf_text_layer_of_every_page() -> None:
    text = extract_text(mime.PDF, _pdf("First page words", "", "Third page words"))
    assert text == "First page words\n\nThird page words"


def test_pdf_without_text_or_broken_is_unparsable() -> None:
    with pytest.raises(UnparsableFile, match="no text layer"):
        extract_text(mime.PDF, _pdf(""))
    with pytest.raises(UnparsableFile, match="unparsable PDF"):
        extract_text(mime.PDF, b"%PDF-1.4\nthis is not really a pdf")


def test_docx_headings_lists_and_tables() -> None:
    assert extract_text(mime.DOCX, _docx()) == (
        "# Quarterly plan\n\nWe ship the index in March.\n\n## Risks\n\n- Rate limits\n\n"
        "Owner | Task\nAda | Fetcher"
    )


def test_broken_docx_is_unparsable() -> None:
    with pytest.raises(UnparsableFile, match="unparsable DOCX"):
        extract_text(mime.DOCX, b"PK\x03\x04 not a zip at all")


def test_xlsx_gives_every_tab_with_a_heading() -> None:
    assert extract_text(mime.XLSX, _xlsx()) == (
        "## Budget\n\nItem | Cost | Due\nServers | 1200 | 2025-03-01T00:00:00\n\n"
        "## People\n\nAda |  | Lovelace\nAlan | M. | Turing"
    )


def test_broken_xlsx_is_unparsable() -> None:
    with pytest.raises(UnparsableFile, match="unparsable spreadsheet"):
        extract_text(mime.XLSX, b"garbage")


def test_unsupported_types() -> None:
    assert not supports("image/png")
    assert supports(mime.PDF)
    with pytest.raises(UnparsableFile, match="unsupported type image/png"):
        extract_text("image/png", b"\x89PNG")
