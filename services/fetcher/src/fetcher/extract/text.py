"""Plain text, Markdown and HTML to text."""

from __future__ import annotations

import codecs
import re

from bs4 import BeautifulSoup
from markdownify import ATX, MarkdownConverter

from fetcher.errors import UnparsableFile

_BLANK_RUNS = re.compile(r"\n{3,}")
# Drive's Markdown export embeds images as base64 data URIs: megabytes of noise for search.
_DATA_IMAGE_DEFINITION = re.compile(r"^\[[^\]\n]+\]:\s*<?data:[^\n]*$", re.MULTILINE)
_IMAGE = re.compile(r"!\[([^\]\n]*)\](?:\[[^\]\n]*\]|\(data:[^)]*\))")
# Tags whose content is never visible text.
_INVISIBLE = ("script", "style", "noscript", "template", "head")
_SNIFF_BYTES = 8192


def markdown_text(data: bytes) -> str:
    """Decode Markdown, dropping embedded images but keeping their alt text."""
    return strip_embedded_images(decode_text(data))


def strip_embedded_images(markdown: str) -> str:
    """Remove data-URI images and image references, keeping any alt text."""
    return _normalize(_IMAGE.sub(r"\1", _DATA_IMAGE_DEFINITION.sub("", markdown)))


def decode_text(data: bytes) -> str:
    """Decode a text file: UTF-8 (with or without BOM), UTF-16 with BOM, else Windows-1252."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return _normalize(data.decode("utf-16"))
    if b"\x00" in data[:_SNIFF_BYTES]:
        raise UnparsableFile("binary content in a text file")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        # Legacy files from Windows tools; every byte maps, so this never fails.
        text = data.decode("cp1252", errors="replace")
    return _normalize(text)


def html_to_markdown(data: bytes) -> str:
    """Convert HTML to Markdown, keeping headings as `#` lines and dropping scripts and styles."""
    soup = BeautifulSoup(data, "html.parser")
    for tag in soup(_INVISIBLE):
        tag.decompose()
    markdown = MarkdownConverter(heading_style=ATX, bullets="-").convert_soup(soup)
    return strip_embedded_images(markdown)


def _normalize(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = "\n".join(line.rstrip() for line in text.split("\n"))
    return _BLANK_RUNS.sub("\n\n", text).strip()
