"""Bytes to text and text to clean text: the rules every extracted text goes through.

A doc.fetched event must carry text that encodes as UTF-8 and means something to search,
whatever the file or its parser produced: no NULs, control characters or lone surrogates.
"""

from __future__ import annotations

import codecs
import re

from fetcher.errors import UnparsableFile

# Longest mark first: the UTF-32 LE mark begins with the UTF-16 LE one.
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
# Enough of a file to judge what it is; judging all of a 10 MB file would cost more and tell no more.
SNIFF_BYTES = 8192
# Bytes that text never holds: C0 controls but tab, line feed, form feed and carriage return; DEL.
_BINARY_BYTES = bytes([*range(0x00, 0x09), 0x0B, *range(0x0E, 0x20), 0x7F])
_HIGH_BYTES = bytes(range(0x80, 0x100))
# Real text has next to none of those bytes (a few strays are cleaned away); binary formats have
# a few percent or more.
_MOSTLY_BINARY = 0.1
_NEWLINES = str.maketrans({"\r": "\n", "\v": "\n", "\f": "\n", "\x85": "\n", "\u2028": "\n", "\u2029": "\n"})
# Controls (C0 but tab and newline, DEL, C1) and surrogates, which no UTF-8 encoder accepts.
_UNWANTED = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")
_BLANK_RUNS = re.compile(r"\n{3,}")


def decode(data: bytes) -> str:
    """Decode a text file by its byte-order mark, else as UTF-8, else as Windows-1252; never fail.

    Undecodable bytes become U+FFFD. A file that is mostly binary is refused rather than turned
    into garbage chunks.
    """
    encoding, skip = _unicode_encoding(data[:SNIFF_BYTES])
    if encoding:
        return data[skip:].decode(encoding, errors="replace")
    reject_binary(data)
    text = data.decode("utf-8", errors="replace")
    non_ascii = len(data) - len(data.translate(None, _HIGH_BYTES))
    # In Windows-1252 text nearly every non-ASCII byte is invalid UTF-8; in UTF-8 text with a few
    # damaged bytes most are valid. Decoding the latter as Windows-1252 would garble every accent.
    if text.count("\ufffd") * 2 > non_ascii:
        return data.decode("cp1252", errors="replace")
    return text


def reject_binary(data: bytes) -> None:
    """Raise UnparsableFile if a file's first bytes are mostly bytes that no text holds.

    UTF-16 and UTF-32 text is full of NULs, so a byte-order mark or UTF-16's NUL pattern passes.
    """
    sample = data[:SNIFF_BYTES]
    if not sample or _unicode_encoding(sample)[0]:
        return
    binary = len(sample) - len(sample.translate(None, _BINARY_BYTES))
    if binary > _MOSTLY_BINARY * len(sample):
        raise UnparsableFile("not text: mostly binary")


def clean(text: str) -> str:
    """Normalise extracted text: `\\n` newlines, no control characters, no trailing or blank runs."""
    text = _UNWANTED.sub("", text.replace("\r\n", "\n").translate(_NEWLINES))
    text = "\n".join(line.rstrip() for line in text.split("\n"))
    return _BLANK_RUNS.sub("\n\n", text).strip()


def _unicode_encoding(sample: bytes) -> tuple[str | None, int]:
    """Name the UTF-8/16/32 encoding a byte-order mark declares, and the mark's length."""
    for bom, encoding in _BOMS:
        if sample.startswith(bom):
            return encoding, len(bom)
    return _bomless_utf16(sample), 0


def _bomless_utf16(sample: bytes) -> str | None:
    """Recognise UTF-16 without a byte-order mark by the NULs that mostly-Latin text has in it."""
    if len(sample) < 4:
        return None
    even, odd = sample[0::2], sample[1::2]
    even_nuls, odd_nuls = even.count(0) / len(even), odd.count(0) / len(odd)
    if odd_nuls > 0.4 and even_nuls < 0.05:
        return "utf-16-le"
    if even_nuls > 0.4 and odd_nuls < 0.05:
        return "utf-16-be"
    return None
