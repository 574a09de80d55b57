"""Turn a file's bytes into text: one pure function per format, picked by MIME type.

Whatever the format, the text comes out normalised (normalize.clean) and at most `max_chars`
long. These functions trust their input no more than they must, yet a parser can still be made
to allocate or spin without end: the fetcher calls them inside fetcher.sandbox.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from fetcher.errors import UnparsableFile
from fetcher.extract.normalize import clean
from fetcher.extract.office import docx_text, xlsx_text
from fetcher.extract.pdf import pdf_text
from fetcher.extract.text import decode_text, html_to_markdown, markdown_text
from shared import mime

# About 300,000 words, a 600-page book: enough for search, and a few hundred chunks to embed.
MAX_TEXT_CHARS = 2_000_000
# A cut looks this far back for the end of a word, so no half word is indexed.
_WORD_CHARS = 100

# Each takes the bytes and a character budget, and returns the text and whether it stopped early.
Extractor = Callable[[bytes, int], tuple[str, bool]]


def _whole(convert: Callable[[bytes], str]) -> Extractor:
    """Adapt a converter that reads the whole file anyway; the caller cuts its text."""
    return lambda data, _max_chars: (convert(data), False)


EXTRACTORS: dict[str, Extractor] = {
    mime.PLAIN_TEXT: _whole(decode_text),
    mime.MARKDOWN: _whole(markdown_text),
    "text/x-markdown": _whole(markdown_text),  # what some uploaders call Markdown
    mime.CSV: _whole(decode_text),
    mime.HTML: _whole(html_to_markdown),
    mime.PDF: pdf_text,
    mime.DOCX: _whole(docx_text),
    mime.XLSX: xlsx_text,
}


@dataclass(frozen=True)
class Extracted:
    """A file's text, and whether some of it was left out to stay within the limit."""

    text: str
    truncated: bool = False

    @property
    def note(self) -> str | None:
        """Say what was left out, for the event's `reason`; None when nothing was."""
        if not self.truncated:
            return None
        return f"truncated: only the first {len(self.text):,} characters are indexed"


def supports(mime_type: str) -> bool:
    """Tell whether files of this MIME type can be turned into text."""
    return mime_type in EXTRACTORS


def extract(mime_type: str, data: bytes, max_chars: int = MAX_TEXT_CHARS) -> Extracted:
    """Turn `data` of type `mime_type` into clean text of at most `max_chars` characters.

    Raises UnparsableFile with a reason if it cannot.
    """
    extractor = EXTRACTORS.get(mime_type)
    if extractor is None:
        raise UnparsableFile(f"unsupported type {mime_type}")
    text, stopped_early = extractor(data, max_chars)
    text = clean(text)
    if len(text) > max_chars:
        return Extracted(_cut(text, max_chars), truncated=True)
    return Extracted(text, truncated=stopped_early)


def _cut(text: str, max_chars: int) -> str:
    """Cut `text` to at most `max_chars`, at the last space or newline if one is near the end."""
    cut = text[: max_chars + 1]  # one more: the cut may fall just before a space
    end = max(cut.rfind(" "), cut.rfind("\n"))
    return (cut[:end] if end > max_chars - _WORD_CHARS else cut[:max_chars]).rstrip()


def extract_text(mime_type: str, data: bytes) -> str:
    """Turn `data` of type `mime_type` into text; raise UnparsableFile with a reason if it cannot."""
    return extract(mime_type, data).text


__all__ = [
    "MAX_TEXT_CHARS",
    "Extracted",
    "UnparsableFile",
    "extract",
    "extract_text",
    "supports",
]
