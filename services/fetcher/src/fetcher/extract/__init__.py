"""Turn a file's bytes into text: one pure function per format, picked by MIME type."""

from __future__ import annotations

from collections.abc import Callable

from fetcher.errors import UnparsableFile
from fetcher.extract.office import docx_text, xlsx_text
from fetcher.extract.pdf import pdf_text
from fetcher.extract.text import decode_text, html_to_markdown, markdown_text

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

EXTRACTORS: dict[str, Callable[[bytes], str]] = {
    "text/plain": decode_text,
    "text/markdown": markdown_text,
    "text/x-markdown": markdown_text,
    "text/csv": decode_text,
    "text/html": html_to_markdown,
    "application/pdf": pdf_text,
    DOCX: docx_text,
    XLSX: xlsx_text,
}


def supports(mime_type: str) -> bool:
    """Tell whether files of this MIME type can be turned into text."""
    return mime_type in EXTRACTORS


def extract_text(mime_type: str, data: bytes) -> str:
    """Turn `data` of type `mime_type` into text; raise UnparsableFile with a reason if it cannot."""
    extractor = EXTRACTORS.get(mime_type)
    if extractor is None:
        raise UnparsableFile(f"unsupported type {mime_type}")
    return extractor(data)


__all__ = ["DOCX", "XLSX", "UnparsableFile", "extract_text", "supports"]
