"""PDF text layer to text."""

from __future__ import annotations

from io import BytesIO

from pypdf import PdfReader

from fetcher.errors import UnparsableFile

# Pages read at most: past the text limit nothing more is kept anyway, and a file of 50,000 empty
# pages would otherwise be read to its end for no text. (pypdf itself refuses trees of 100,000.)
MAX_PDF_PAGES = 10_000


def pdf_text(data: bytes, max_chars: int) -> tuple[str, bool]:
    """Extract the text layer page by page; a PDF without one (a scan) is unparsable.

    Stops once the text passes `max_chars` or MAX_PDF_PAGES were read; says whether it stopped early.
    """
    try:
        reader = PdfReader(BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise UnparsableFile("encrypted PDF: needs a password")
        pages, size, truncated = [], 0, False
        for number, page in enumerate(reader.pages):
            if size > max_chars or number == MAX_PDF_PAGES:
                truncated = True
                break
            text = (page.extract_text() or "").strip()
            pages.append(text)
            size += len(text)
    except UnparsableFile:
        raise
    except Exception as exc:  # pypdf raises many types for broken files; all mean the same here
        raise UnparsableFile(f"unparsable PDF: {type(exc).__name__}: {exc}") from exc
    text = "\n\n".join(page for page in pages if page)
    if not text:
        raise UnparsableFile("PDF has no text layer (a scan needs OCR)")
    return text, truncated
