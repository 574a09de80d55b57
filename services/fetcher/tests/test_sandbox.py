"""The sandbox: a worker that allocates, spins, sleeps or crashes costs one call, never the pool.

The misbehaving callables are standard-library functions, so they pickle by name into the
worker processes (test modules are not importable there).
"""

from __future__ import annotations

import asyncio
import ctypes
import os
import signal
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest

from fetcher.errors import UnparsableFile
from fetcher.sandbox import Sandbox, SandboxLimits
from shared import mime


def _limits(
    memory_mb: int = 512, cpu_seconds: int = 1, timeout_seconds: float = 5, workers: int = 2
) -> SandboxLimits:
    return SandboxLimits(memory_mb, cpu_seconds, timeout_seconds, workers, max_text_chars=1000)


@asynccontextmanager
async def _sandbox(**changes: Any) -> AsyncIterator[Sandbox]:
    async with Sandbox(_limits(**changes)) as sandbox:
        yield sandbox


@pytest.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    async with _sandbox() as box:
        yield box


async def test_a_worker_serves_call_after_call(sandbox: Sandbox) -> None:
    first, second = await sandbox.run(os.getpid), await sandbox.run(os.getpid)
    assert first == second != os.getpid()
    assert await sandbox.run(len, b"abc") == 3


async def test_too_much_memory_costs_one_call_and_the_next_gets_a_fresh_worker(sandbox: Sandbox) -> None:
    before = await sandbox.run(os.getpid)
    with pytest.raises(UnparsableFile, match=r"^parser exceeded 512 MB$"):
        await sandbox.run(bytearray, 2 * 1024**3)
    assert await sandbox.run(os.getpid) != before


async def test_a_spinning_parser_is_stopped_by_its_cpu_time_limit(sandbox: Sandbox) -> None:
    started = time.monotonic()
    with pytest.raises(UnparsableFile, match=r"^parser used more than 1 s of CPU time$"):
        await sandbox.run(sum, range(10**15))
    assert time.monotonic() - started < 4
    assert await sandbox.run(len, "still here") == 10


async def test_a_sleeping_parser_is_stopped_by_the_wall_clock() -> None:
    async with _sandbox(timeout_seconds=0.5) as sandbox:
        started = time.monotonic()
        with pytest.raises(UnparsableFile, match=r"^parser ran out of time after 0\.5 s$"):
            await sandbox.run(time.sleep, 60)
        assert time.monotonic() - started < 3
        assert await sandbox.run(len, "next") == 4


@pytest.mark.parametrize(
    ("call", "reason"),
    [
        ((ctypes.string_at, 0), r"parser crashed \(SIGSEGV\)"),
        ((signal.raise_signal, signal.SIGKILL), r"parser was killed \(SIGKILL\)"),
        ((os._exit, 3), "parser exited with code 3"),
    ],
    ids=["segfault", "sigkill", "exit"],
)
async def test_a_crashing_parser_costs_one_call(
    sandbox: Sandbox, call: tuple[Callable[..., object], object], reason: str
) -> None:
    function, argument = call
    with pytest.raises(UnparsableFile, match=f"^{reason}$"):
        await sandbox.run(function, argument)
    assert await sandbox.run(len, "ok") == 2


async def test_other_files_keep_flowing_while_one_worker_crashes(sandbox: Sandbox) -> None:
    crash = sandbox.run(ctypes.string_at, 0)
    files = [sandbox.extract(mime.PLAIN_TEXT, f"file {n}".encode()) for n in range(6)]
    results = await asyncio.gather(crash, *files, return_exceptions=True)
    assert isinstance(results[0], UnparsableFile)
    assert [getattr(r, "text", r) for r in results[1:]] == [f"file {n}" for n in range(6)]


async def test_an_ordinary_exception_is_the_files_and_keeps_the_worker(sandbox: Sandbox) -> None:
    before = await sandbox.run(os.getpid)
    with pytest.raises(UnparsableFile, match=r"^parser failed: ValueError: invalid literal"):
        await sandbox.run(int, "not a number")
    assert await sandbox.run(os.getpid) == before


async def test_a_worker_that_grew_large_retires_after_its_reply(sandbox: Sandbox) -> None:
    before = await sandbox.run(os.getpid)
    # Keeps 200 MB referenced in the worker, as a leaky or fragmented parser would.
    await sandbox.run(exec, "import builtins; builtins.kept = bytearray(200 * 2**20)")
    assert await sandbox.run(os.getpid) != before


async def test_a_cancelled_call_frees_its_worker_slot() -> None:
    async with _sandbox(workers=1, timeout_seconds=30) as sandbox:
        stuck = asyncio.create_task(sandbox.run(time.sleep, 30))
        await asyncio.sleep(0.5)
        stuck.cancel()
        with pytest.raises(asyncio.CancelledError):
            await stuck
        assert await asyncio.wait_for(sandbox.run(len, "free"), timeout=5) == 4


async def test_text_is_cut_at_the_limit_and_says_so(sandbox: Sandbox) -> None:
    extracted = await sandbox.extract(mime.PLAIN_TEXT, b"word " * 1000)
    assert extracted.truncated
    assert len(extracted.text) <= 1000
    assert extracted.note == f"truncated: only the first {len(extracted.text):,} characters are indexed"
    assert not (await sandbox.extract(mime.PLAIN_TEXT, b"short")).truncated
