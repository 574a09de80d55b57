"""What parsing in the sandbox costs per file, against parsing in a thread of the service.

Prints, per kind of file, the median seconds per file both ways and the difference: the price of
sending the bytes to a worker process and the text back. Also the one-off start of the pool
(forkserver and first worker) and the replacement of a worker that crashed.

    .venv/bin/python bench/extract_sandbox.py [files per kind]
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from io import BytesIO

import docx
from reportlab.pdfgen import canvas

from fetcher.errors import UnparsableFile
from fetcher.extract import Extracted
from fetcher.sandbox import Sandbox, SandboxLimits, in_process
from shared.mime import DOCX

LIMITS = SandboxLimits(
    memory_mb=1024, cpu_seconds=60, timeout_seconds=90, workers=1, max_text_chars=2_000_000
)


def _pdf(pages: int) -> bytes:
    buffer = BytesIO()
    pdf = canvas.Canvas(buffer)
    for page in range(pages):
        for line in range(40):
            pdf.drawString(40, 800 - 18 * line, f"Page {page} line {line}: revenue grew in every region.")
        pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def _docx(paragraphs: int) -> bytes:
    document = docx.Document()
    for n in range(paragraphs):
        document.add_paragraph(f"Paragraph {n}: the index is kept in step with Drive within seconds.")
    buffer = BytesIO()
    document.save(buffer)
    return buffer.getvalue()


FILES = {
    "text, 1 KB": ("text/plain", b"A short note about the quarterly plan.\n" * 25),
    "text, 1 MB": ("text/plain", b"A longer text file with many lines of notes.\n" * 23_000),
    "docx, 200 paragraphs": (DOCX, _docx(200)),
    "pdf, 20 pages": ("application/pdf", _pdf(20)),
}
Extract = Callable[[str, bytes], Awaitable[Extracted]]


async def _median(extract: Extract, mime_type: str, data: bytes, rounds: int) -> float:
    seconds = []
    for _ in range(rounds):
        started = time.perf_counter()
        await extract(mime_type, data)
        seconds.append(time.perf_counter() - started)
    return statistics.median(seconds)


async def main(rounds: int) -> None:
    async with Sandbox(LIMITS) as sandbox:
        started = time.perf_counter()
        await sandbox.extract("text/plain", b"warm up")
        print(f"pool start (forkserver + first worker): {time.perf_counter() - started:.3f} s")
        print(f"{'file':24} {'in thread':>10} {'sandbox':>10} {'overhead':>10}   (median of {rounds})")
        for name, (mime_type, data) in FILES.items():
            local = await _median(in_process, mime_type, data, rounds)
            boxed = await _median(sandbox.extract, mime_type, data, rounds)
            print(f"{name:24} {local * 1000:8.2f}ms {boxed * 1000:8.2f}ms {(boxed - local) * 1000:8.2f}ms")
        started = time.perf_counter()
        with contextlib.suppress(UnparsableFile):
            await sandbox.run(ctypes.string_at, 0)  # a segfault
        await sandbox.extract("text/plain", b"after the crash")
        print(f"crash, then a file on a fresh worker: {time.perf_counter() - started:.3f} s")


if __name__ == "__main__":  # the forkserver imports this module's parent as __mp_main__: guard
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 30))
