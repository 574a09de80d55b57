"""Convert Google-native files the way files.export does."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from typing import Any

import openpyxl
from markdown_it import MarkdownIt

from drive_emulator.store import DriveFile
from shared.mime import CSV, DOCUMENT, HTML, MARKDOWN, PLAIN_TEXT, PRESENTATION, SPREADSHEET, XLSX

EXPORT_LIMIT_BYTES = 10 * 1024 * 1024  # Drive refuses to export more than 10 MB


class UnsupportedExport(Exception):  # noqa: N818 - mirrors Drive's wording
    """Drive cannot convert this file to the requested type."""


def markdown(source: str) -> bytes:
    """Docs -> text/markdown: Drive keeps headings as `#` lines, which our source already is."""
    return source.encode()


def html(source: str) -> bytes:
    """Docs -> text/html: a whole page, like Drive's export."""
    body = MarkdownIt("commonmark").render(source)
    return f'<html><head><meta content="text/html; charset=UTF-8"></head><body>{body}</body></html>'.encode()


def plain_text(source: str) -> bytes:
    """Docs -> text/plain: the words without Markdown marks; list items keep a `* ` like Drive's."""
    lines: list[str] = []
    prefix = ""
    for token in MarkdownIt("commonmark").parse(source):
        if token.type == "list_item_open":
            prefix = "* "
        elif token.type == "inline":
            text = "".join(
                child.content if child.type != "softbreak" else "\n" for child in token.children or []
            )
            lines.append(prefix + text)
            prefix = ""
        elif token.type in ("fence", "code_block"):
            lines.append(token.content.rstrip("\n"))
    return ("\ufeff" + "\n".join(lines) + "\n").encode()


def first_tab_csv(tabs: dict[str, list[list[Any]]]) -> bytes:
    """Sheets -> text/csv: only the first tab, as Drive does."""
    rows = next(iter(tabs.values()), [])
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue().encode()


def workbook(tabs: dict[str, list[list[Any]]]) -> bytes:
    """Sheets -> xlsx: every tab."""
    book = openpyxl.Workbook()
    book.remove(book.active)  # start without the default sheet: tabs keep their own names
    for title, rows in tabs.items():
        sheet = book.create_sheet(title=title[:31])
        for row in rows:
            sheet.append(list(row))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def slides_text(slides: list[str]) -> bytes:
    """Slides -> text/plain: each slide's text, separated by blank lines."""
    return "\n\n".join(slides).encode()


Converter = Callable[[Any], bytes]
EXPORTS: dict[str, dict[str, Converter]] = {
    DOCUMENT: {MARKDOWN: markdown, PLAIN_TEXT: plain_text, HTML: html},
    SPREADSHEET: {CSV: first_tab_csv, XLSX: workbook},
    PRESENTATION: {PLAIN_TEXT: slides_text},
}


def export_formats(mime_type: str) -> list[str]:
    """The target types a Google-native type converts to."""
    return list(EXPORTS.get(mime_type, {}))


def export(file: DriveFile, target: str) -> bytes:
    """Convert `file` to `target`, or raise UnsupportedExport."""
    converter = EXPORTS.get(file.mime_type, {}).get(target)
    if converter is None:
        raise UnsupportedExport(f"{file.mime_type} -> {target}")
    return converter(file.content)
