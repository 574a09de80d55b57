"""Office Open XML documents (DOCX) and workbooks (XLSX) to text."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date, datetime, time
from io import BytesIO

import docx
import openpyxl
from docx.table import Table
from docx.text.paragraph import Paragraph

from fetcher.errors import UnparsableFile

_HEADING_STYLE = re.compile(r"Heading (\d)")


def docx_text(data: bytes) -> str:
    """Convert a DOCX body to Markdown-like text: headings as `#` lines, tables as pipe rows."""
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


def xlsx_text(data: bytes) -> str:
    """Convert every tab of a workbook to a `## <tab>` heading followed by its rows."""
    try:
        workbook = openpyxl.load_workbook(BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # zip, XML and key errors all mean a broken workbook
        raise UnparsableFile(f"unparsable spreadsheet: {type(exc).__name__}: {exc}") from exc
    try:
        sections = []
        for sheet in workbook.worksheets:
            lines = (_pipe_row(map(_cell_text, row)) for row in sheet.iter_rows(values_only=True))
            rows = [line for line in lines if line]
            if rows:  # an empty tab would only add a heading without content to search
                sections.append(f"## {sheet.title}\n\n" + "\n".join(rows))
    except Exception as exc:
        raise UnparsableFile(f"unparsable spreadsheet: {type(exc).__name__}: {exc}") from exc
    finally:
        workbook.close()
    return "\n\n".join(sections)


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
