"""Office Open XML documents (DOCX) and workbooks (XLSX) to text."""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterable, Iterator
from datetime import date, datetime, time
from io import BytesIO
from typing import Any

import docx
import openpyxl
from docx.table import Table
from docx.text.paragraph import Paragraph

from fetcher.errors import UnparsableFile

_HEADING_STYLE = re.compile(r"Heading (\d)")
MIB = 1024 * 1024
# zipfile never inflates an entry past its declared size (it fails the CRC instead), so adding
# up the declared sizes catches a zip bomb for the price of reading the directory. A genuine
# 10 MB document unpacks to well under this; the memory limit of the sandbox catches the rest.
MAX_UNPACKED_BYTES = 256 * MIB
MAX_PARTS = 10_000
# Cells visited per workbook: a row may be padded to 16,384 columns, a sheet to a million rows.
MAX_CELLS = 10_000_000


def check_package(data: bytes, kind: str) -> None:
    """Refuse an Office package (a zip) that would unpack to more than MAX_UNPACKED_BYTES."""
    try:
        with zipfile.ZipFile(BytesIO(data)) as package:
            parts = package.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise UnparsableFile(f"unparsable {kind}: {type(exc).__name__}: {exc}") from exc
    if len(parts) > MAX_PARTS:
        raise UnparsableFile(f"too large: {kind} has {len(parts):,} parts, over the {MAX_PARTS:,} limit")
    unpacked = sum(part.file_size for part in parts)
    if unpacked > MAX_UNPACKED_BYTES:
        limit = MAX_UNPACKED_BYTES // MIB
        raise UnparsableFile(
            f"too large: {kind} unpacks to {unpacked // MIB:,} MB, over the {limit} MB limit"
        )


def docx_text(data: bytes) -> str:
    """Convert a DOCX body to Markdown-like text: headings as `#` lines, tables as pipe rows."""
    check_package(data, "DOCX")
    try:
        document = docx.Document(BytesIO(data))
        blocks = [_block_text(block) for block in document.iter_inner_content()]
    except Exception as exc:  # python-docx raises zip, XML and key errors for broken files
        raise UnparsableFile(f"unparsable DOCX: {type(exc).__name__}: {exc}") from exc
    return "\n\n".join(block for block in blocks if block)


def _block_text(block: Paragraph | Table) -> str:
    if isinstance(block, Table):
        rows = (_pipe_row(cell.text for cell in row.cells) for row in block.rows)
        return "\n".join(row for row in rows if row)
    text = block.text.strip()
    if not text:
        return ""
    style = block.style.name if block.style is not None else ""
    if style == "Title":
        return f"# {text}"
    heading = _HEADING_STYLE.fullmatch(style or "")
    if heading:
        return f"{'#' * int(heading.group(1))} {text}"
    if (style or "").startswith("List"):
        return f"- {text}"
    return text


def xlsx_text(data: bytes, max_chars: int) -> tuple[str, bool]:
    """Convert every tab of a workbook to a `## <tab>` heading followed by its rows.

    Stops once the text passes `max_chars` or MAX_CELLS were read; says whether it stopped early.
    """
    check_package(data, "spreadsheet")
    try:
        workbook = openpyxl.load_workbook(BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # zip, XML and key errors all mean a broken workbook
        raise UnparsableFile(f"unparsable spreadsheet: {type(exc).__name__}: {exc}") from exc
    sections: list[str] = []
    size, cells = 0, 0
    try:
        for sheet in workbook.worksheets:
            rows = []
            for row in _rows(sheet):
                cells += len(row)
                line = _pipe_row(map(_cell_text, row))
                if line:
                    rows.append(line)
                    size += len(line) + 1
                if size > max_chars or cells > MAX_CELLS:
                    break
            if rows:  # an empty tab would only add a heading without content to search
                sections.append(f"## {sheet.title}\n\n" + "\n".join(rows))
            if size > max_chars or cells > MAX_CELLS:
                return "\n\n".join(sections), True
    except Exception as exc:
        raise UnparsableFile(f"unparsable spreadsheet: {type(exc).__name__}: {exc}") from exc
    finally:
        workbook.close()
    return "\n\n".join(sections), False


def _rows(sheet: Any) -> Iterator[tuple[object, ...]]:  # openpyxl has no type hints
    """Yield a sheet's rows as stored, not as its <dimension> claims.

    A declared A1:XFD1048576 would have openpyxl pad every row to 16,384 cells and the sheet to a
    million rows; without it rows end at their last cell, and gaps between rows yield empty ones.
    """
    sheet.reset_dimensions()
    yield from sheet.iter_rows(values_only=True)


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    return str(value)


def _pipe_row(cells: Iterable[str]) -> str:
    """Join cells with ` | `, dropping trailing empty cells; an all-empty row gives ''."""
    values = [" ".join(cell.split()) for cell in cells]
    while values and not values[-1]:
        values.pop()
    return " | ".join(values)
