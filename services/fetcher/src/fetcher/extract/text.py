"""Plain text, Markdown and HTML to text."""

from __future__ import annotations

import codecs
import re

from bs4 import BeautifulSoup, Tag
from bs4.dammit import EncodingDetector
from markdownify import ATX, MarkdownConverter

from fetcher.extract.normalize import SNIFF_BYTES, clean, decode

# Drive's Markdown export embeds images as base64 data URIs: megabytes of noise for search.
_DATA_IMAGE_DEFINITION = re.compile(r"^\[[^\]\n]+\]:\s*<?data:[^\n]*$", re.MULTILINE)
_IMAGE = re.compile(r"!\[([^\]\n]*)\](?:\[[^\]\n]*\]|\(data:[^)]*\))")
# Tags whose content is never visible text.
_INVISIBLE = ("script", "style", "noscript", "template", "head")
# markdownify recurses three frames per element and fails some 300 levels down; nesting deeper
# than this is no structure a reader sees, so what lies deeper is kept as plain text.
MAX_HTML_DEPTH = 100


def markdown_text(data: bytes) -> str:
    """Decode Markdown, dropping embedded images but keeping their alt text."""
    return strip_embedded_images(decode_text(data))


def strip_embedded_images(markdown: str) -> str:
    """Remove data-URI images and image references, keeping any alt text."""
    return clean(_IMAGE.sub(r"\1", _DATA_IMAGE_DEFINITION.sub("", markdown)))


def decode_text(data: bytes) -> str:
    """Decode a text file (see normalize.decode) and tidy its lines."""
    return clean(decode(data))


def html_to_markdown(data: bytes) -> str:
    """Convert HTML to Markdown, keeping headings as `#` lines and dropping scripts and styles."""
    # lxml (in C) parses about twice as fast as html.parser; building bs4's tree is the slow part.
    # NULs go first: lxml would turn each into U+FFFD, as HTML5 asks.
    soup = BeautifulSoup(_decode_html(data).replace("\x00", ""), "lxml")
    for tag in soup(_INVISIBLE):
        tag.decompose()
    flatten_deep(soup, MAX_HTML_DEPTH)
    markdown = MarkdownConverter(heading_style=ATX, bullets="-").convert_soup(soup)
    return strip_embedded_images(markdown)


def _decode_html(data: bytes) -> str:
    """Decode HTML by its <meta charset> if it names a known one, else as any text file."""
    declared = EncodingDetector.find_declared_encoding(data[:SNIFF_BYTES], is_html=True)
    if declared and not data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode(declared, errors="replace")
        except LookupError:  # a charset Python does not know: guess as for any text file
            pass
    return decode(data)


def flatten_deep(root: Tag, max_depth: int) -> None:
    """Replace what is nested more than `max_depth` levels below `root` by its bare text."""
    stack = [(root, 0)]
    while stack:  # a loop, not recursion: the depth is the file's to choose
        tag, depth = stack.pop()
        if depth == max_depth:
            # Unwrapping each deep element would cost quadratic time in Beautiful Soup; one
            # string per boundary element costs the size of its subtree.
            tag.string = tag.get_text(" ")
            continue
        stack.extend((child, depth + 1) for child in tag.children if isinstance(child, Tag))
