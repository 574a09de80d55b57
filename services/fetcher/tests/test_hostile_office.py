"""Office bombs through the real extractor in the sandbox: refused cheaply, or stopped by a limit.

The bombs are real: their parts inflate to what they declare. Deflating one fully flushed block
and repeating its bytes builds a gigabyte in about a second (a flushed block refers to nothing
before it), and the zip is written by hand around it.
"""

from __future__ import annotations

import io
import math
import re
import struct
import time
import zipfile
import zlib
from collections.abc import AsyncIterator, Callable

import docx
import openpyxl
import pytest

from fetcher.errors import UnparsableFile
from fetcher.extract import Extracted
from fetcher.sandbox import Sandbox, SandboxLimits
from shared import mime

GIB, MIB = 2**30, 2**20
LIMITS = SandboxLimits(
    memory_mb=1024, cpu_seconds=20, timeout_seconds=30, workers=2, max_text_chars=2_000_000
)
SHEET = b'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
WORD = b'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'


def deflated(head: bytes, chunk: bytes, times: int, tail: bytes) -> tuple[bytes, int, int]:
    """Deflate head + chunk * times + tail; return the stream, its CRC-32 and its unpacked size."""

    def block(data: bytes, mode: int = zlib.Z_FULL_FLUSH) -> bytes:
        compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
        return compressor.compress(data) + compressor.flush(mode)

    crc = zlib.crc32(head)
    for _ in range(times):
        crc = zlib.crc32(chunk, crc)
    stream = block(head) + block(chunk) * times + block(tail, zlib.Z_FINISH)
    return stream, zlib.crc32(tail, crc), len(head) + len(chunk) * times + len(tail)


def zip_by_hand(parts: dict[str, bytes], bomb: tuple[str, bytes, int, int]) -> bytes:
    """Write a zip of stored `parts` and one deflated `bomb` (name, stream, CRC, size)."""
    entries = [(name, 0, data, zlib.crc32(data), len(data)) for name, data in parts.items()]
    out, directory = io.BytesIO(), []
    for name, method, payload, crc, size in [*entries, (bomb[0], 8, *bomb[1:])]:
        offset, encoded = out.tell(), name.encode()
        fields = (method, 0, 0x21, crc, len(payload), size, len(encoded))
        out.write(struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, *fields, 0) + encoded + payload)
        header = struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, *fields, 0, 0, 0, 0, 0, offset)
        directory.append(header + encoded)
    start, central, count = out.tell(), b"".join(directory), len(directory)
    out.write(central + struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, count, count, len(central), start, 0))
    return out.getvalue()


def parts_of(document: object, edits: dict[str, Callable[[bytes], bytes]]) -> dict[str, bytes]:
    """Save a python-docx or openpyxl document and return its parts, some edited."""
    buffer = io.BytesIO()
    document.save(buffer)  # type: ignore[attr-defined] - both libraries' documents have save()
    with zipfile.ZipFile(buffer) as package:
        parts = {name: package.read(name) for name in package.namelist()}
    return {name: edits.get(name, lambda data: data)(data) for name, data in parts.items()}


def docx_bomb(gibibytes: float) -> bytes:
    """A DOCX whose word/document.xml inflates to `gibibytes` of paragraphs."""
    parts = parts_of(docx.Document(), {})
    del parts["word/document.xml"]
    head = b'<?xml version="1.0"?><w:document ' + WORD + b"><w:body>"
    chunk = b"<w:p><w:r><w:t>boom</w:t></w:r></w:p>" * 28_000
    stream = deflated(head, chunk, math.ceil(gibibytes * GIB / len(chunk)), b"</w:body></w:document>")
    return zip_by_hand(parts, ("word/document.xml", *stream))


def xlsx_million_rows() -> bytes:
    """A sheet that declares A1:XFD1048576 and has a cell at each end: 17 billion cells if believed."""
    parts = parts_of(openpyxl.Workbook(), {})
    rows = deflated(
        b"<worksheet " + SHEET + b'><dimension ref="A1:XFD1048576"/><sheetData>',
        b'<row r="1"><c r="A1" t="inlineStr"><is><t>first</t></is></c></row>',
        1,
        b'<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>last</t></is></c></row>'
        b"</sheetData></worksheet>",
    )
    del parts["xl/worksheets/sheet1.xml"]
    return zip_by_hand(parts, ("xl/worksheets/sheet1.xml", *rows))


def xlsx_shared_strings(mebibytes: int) -> bytes:
    """A workbook whose sharedStrings.xml inflates to `mebibytes` of one-letter strings."""
    kind = "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"
    relation = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings"
    override = f'<Override PartName="/xl/sharedStrings.xml" ContentType="{kind}"/></Types>'.encode()
    link = f'<Relationship Id="rIdS" Type="{relation}" Target="sharedStrings.xml"/></Relationships>'.encode()
    edits = {
        "[Content_Types].xml": lambda xml: xml.replace(b"</Types>", override),
        "xl/_rels/workbook.xml.rels": lambda xml: xml.replace(b"</Relationships>", link),
    }
    chunk = b"<si><t>x</t></si>" * 65_536
    head = b"<sst " + SHEET + b' count="999999999" uniqueCount="999999999">'
    strings = deflated(head, chunk, math.ceil(mebibytes * MIB / len(chunk)), b"</sst>")
    return zip_by_hand(parts_of(openpyxl.Workbook(), edits), ("xl/sharedStrings.xml", *strings))


@pytest.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    async with Sandbox(LIMITS) as box:
        yield box


async def _outcome(sandbox: Sandbox, mime_type: str, data: bytes) -> tuple[Extracted | str, float]:
    """Extract in the sandbox; return the text or the failure's reason, and the seconds it took."""
    started = time.monotonic()
    try:
        outcome: Extracted | str = await sandbox.extract(mime_type, data)
    except UnparsableFile as exc:
        outcome = exc.reason
    seconds = time.monotonic() - started
    print(f"{mime_type.rsplit('.', 1)[-1]}, {len(data):,} bytes: {str(outcome)[:90]!r} in {seconds:.2f} s")
    return outcome, seconds


async def test_a_docx_that_unpacks_to_a_gibibyte_is_refused_before_parsing(sandbox: Sandbox) -> None:
    outcome, seconds = await _outcome(sandbox, mime.DOCX, docx_bomb(1))
    assert re.fullmatch(r"too large: DOCX unpacks to 1,02\d MB, over the 256 MB limit", str(outcome))
    assert seconds < 2


async def test_huge_shared_strings_are_refused_before_parsing(sandbox: Sandbox) -> None:
    outcome, seconds = await _outcome(sandbox, mime.XLSX, xlsx_shared_strings(400))
    assert re.fullmatch(r"too large: spreadsheet unpacks to 40\d MB, over the 256 MB limit", str(outcome))
    assert seconds < 2


async def test_a_million_row_dimension_is_not_believed(sandbox: Sandbox) -> None:
    outcome, seconds = await _outcome(sandbox, mime.XLSX, xlsx_million_rows())
    assert isinstance(outcome, Extracted)
    assert outcome.text.startswith("## Sheet\n\nfirst\n")
    assert outcome.text.endswith(" | last")
    assert seconds < 10


@pytest.mark.fault
async def test_a_real_multi_gigabyte_bomb_past_the_zip_check_meets_the_memory_limit(sandbox: Sandbox) -> None:
    bomb = docx_bomb(3.5)
    started = time.monotonic()
    with pytest.raises(UnparsableFile, match=r"^parser exceeded 1024 MB$"):
        await sandbox.run(docx.Document, io.BytesIO(bomb))  # python-docx itself, no zip check first
    print(f"3.5 GiB DOCX bomb, {len(bomb):,} bytes: stopped in {time.monotonic() - started:.1f} s")
    outcome, _ = await _outcome(sandbox, mime.DOCX, bomb)
    assert re.fullmatch(r"too large: DOCX unpacks to 3,58\d MB, over the 256 MB limit", str(outcome))


@pytest.mark.fault
async def test_shared_strings_just_under_the_zip_check_stay_within_the_limits(sandbox: Sandbox) -> None:
    outcome, seconds = await _outcome(sandbox, mime.XLSX, xlsx_shared_strings(250))  # 16 million strings
    assert seconds < LIMITS.timeout_seconds + 5
    if isinstance(outcome, str):
        assert outcome.startswith(("parser exceeded", "parser used more than", "parser ran out of time"))
    assert await sandbox.extract(mime.PLAIN_TEXT, b"next") == Extracted("next")
