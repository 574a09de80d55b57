"""PDF text layer to text."""

from __future__ import annotations

from io import BytesIO

from pypdf import PdfReader

from fetcher.errors import UnparsableFile


def pdf_text(data: bytes) -> str:
    """Extract the text layer of every page; a PDF without one (a scan) is unparsable."""
    try:
        reader = PdfReader(BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise UnparsableFile("encrypted PDF: needs a password")
        pages = [(page.extract_text() or "").strip() for page in reader.pages]
    except UnparsableFile:
        raise
    except Exception as exc:  # pypdf raises many types for broken files; all mean the same here
        raise UnparsableFile(f"unparsable PDF: {type(exc).__name__}: {exc}") from exc
    text = "\n\n".join(page for page in pages if page)
    if not text:
        raise UnparsableFile("PDF has no text layer (a scan needs OCR)")
    return text
