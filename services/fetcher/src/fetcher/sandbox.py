"""Parse files in worker processes held to memory, CPU-time and wall-clock limits.

A parser fed a hostile file can allocate gigabytes, spin for an hour or crash; in a worker that
costs one UnparsableFile with the reason, and a fresh worker takes the dead one's place. Workers
are forked from a forkserver that has the parsers imported already, so replacing one takes a
fraction of a second (a fresh interpreter needs seconds), and each serves file after file while
it stays healthy.

Limits are rlimits, not a security boundary: they stop resource bombs, not a parser exploit.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import resource
import signal
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any, Self, TypeVar

import structlog
from prometheus_client import Counter

from fetcher import extract
from fetcher.errors import UnparsableFile

log = structlog.get_logger(__name__)
T = TypeVar("T")
MIB = 1024 * 1024

EXTRACTIONS = Counter(
    "drive_index_extractions_total",
    "Files parsed in the sandbox, by outcome: ok, truncated, unparsable, memory, cpu, timeout, crashed",
    ["outcome"],
)
# Imported once in the forkserver; every worker forked from it starts with them loaded.
PRELOAD = ["fetcher.extract", "fetcher.sandbox"]


# How the fetcher turns a file into text: the service's Sandbox.extract, or in_process.
Extractor = Callable[[str, bytes], Awaitable[extract.Extracted]]


async def in_process(mime_type: str, data: bytes) -> extract.Extracted:
    """Extract in a thread of this process, without limits: for tests with fakes, and tools."""
    return await asyncio.to_thread(extract.extract, mime_type, data)


@dataclass(frozen=True)
class SandboxLimits:
    """What one parse may use, how many run at once, and how much text one file may give."""

    memory_mb: int
    cpu_seconds: int
    timeout_seconds: float
    workers: int
    max_text_chars: int


class Sandbox:
    """Run functions in a pool of limited worker processes; `extract` is the fetcher's one use."""

    def __init__(self, limits: SandboxLimits) -> None:
        self._limits = limits
        self._context = multiprocessing.get_context("forkserver")
        self._context.set_forkserver_preload(PRELOAD)
        # One thread per worker waits on its pipe, so the event loop never blocks on a parse.
        self._threads = ThreadPoolExecutor(limits.workers, thread_name_prefix="sandbox")
        self._slots = asyncio.Semaphore(limits.workers)
        self._idle: list[_Worker] = []
        self._busy: set[_Worker] = set()

    async def extract(self, mime_type: str, data: bytes) -> extract.Extracted:
        """Turn a file into text in a worker; raise UnparsableFile with the reason if it cannot."""
        result: extract.Extracted = await self.run(
            extract.extract, mime_type, data, self._limits.max_text_chars
        )
        if result.truncated:
            log.info("extract.truncated", mime_type=mime_type, chars=len(result.text))
        EXTRACTIONS.labels("truncated" if result.truncated else "ok").inc()
        return result

    async def run(self, function: Callable[..., T], *args: Any) -> T:
        """Call `function(*args)` in a worker (both must pickle); failures become UnparsableFile."""
        loop = asyncio.get_running_loop()
        async with self._slots:
            worker = await self._checkout(loop)
            try:
                reply = await loop.run_in_executor(self._threads, worker.call, function, args)
            except asyncio.CancelledError:  # mid-parse: end the worker rather than wait for it
                worker.stop()  # its thread, still waiting, reaps it
                raise
            except Exception:  # the call could not be sent (it does not pickle, say)
                worker.kill()
                raise
            finally:
                self._busy.discard(worker)
            if reply.healthy:
                self._idle.append(worker)
            else:
                worker.kill()
        value: T = reply.value_or_raise(self._limits)
        return value

    async def close(self) -> None:
        """Stop every worker; parses still running end with them."""
        for worker in self._idle:
            worker.kill()
        for worker in self._busy:
            worker.stop()  # the thread waiting on it reaps it
        self._idle.clear()
        self._busy.clear()
        self._threads.shutdown(wait=False, cancel_futures=True)

    async def _checkout(self, loop: asyncio.AbstractEventLoop) -> _Worker:
        """Take an idle worker, or start one (off the loop: the first start runs the forkserver)."""
        while self._idle:
            worker = self._idle.pop()
            if worker.alive():
                break
            worker.kill()  # died while idle (the kernel's out-of-memory killer, say): reap it
        else:
            worker = await loop.run_in_executor(self._threads, _Worker, self._context, self._limits)
        self._busy.add(worker)
        return worker

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.close()


@dataclass(frozen=True)
class _Reply:
    """What became of one call: a value, a reason it failed, or how its worker ended."""

    status: str  # ok | unparsable | error | memory | timeout | died
    value: Any = None
    retiring: bool = False  # the worker ends after this reply (it grew large, or ran out of memory)

    @property
    def healthy(self) -> bool:
        """Tell whether the worker can take the next call."""
        return self.status in ("ok", "unparsable", "error") and not self.retiring

    def value_or_raise(self, limits: SandboxLimits) -> Any:
        """Return the call's value, or count, log and raise its failure as UnparsableFile."""
        if self.status == "ok":
            return self.value
        outcome, reason = _failure(self.status, self.value, limits)
        EXTRACTIONS.labels(outcome).inc()
        if outcome != "unparsable":
            log.warning("extract.failed", outcome=outcome, reason=reason)
        raise UnparsableFile(reason)


def _failure(status: str, value: Any, limits: SandboxLimits) -> tuple[str, str]:
    """Name the outcome and the reason to record for a call that gave no value."""
    if status == "died":
        return _death(value, limits)
    return {
        "unparsable": ("unparsable", str(value)),
        "error": ("unparsable", f"parser failed: {value}"),
        "memory": ("memory", f"parser exceeded {limits.memory_mb} MB"),
        "timeout": ("timeout", f"parser ran out of time after {limits.timeout_seconds:g} s"),
    }[status]


def _death(exitcode: int | None, limits: SandboxLimits) -> tuple[str, str]:
    """Name the outcome and the reason for a worker that died mid-call."""
    if exitcode == -signal.SIGXCPU:
        return "cpu", f"parser used more than {limits.cpu_seconds} s of CPU time"
    if exitcode == -signal.SIGKILL:  # not ours (a timeout says so): the kernel's out-of-memory killer?
        return "crashed", "parser was killed (SIGKILL)"
    if exitcode is not None and exitcode < 0:
        return "crashed", f"parser crashed ({signal.Signals(-exitcode).name})"
    return "crashed", f"parser exited with code {exitcode}"


class _Worker:
    """One worker process and the parent's end of its pipe; used by one thread at a time."""

    def __init__(self, context: Any, limits: SandboxLimits) -> None:
        self._timeout = limits.timeout_seconds
        self._connection, child = context.Pipe()
        self._process = context.Process(
            target=serve,
            args=(child, limits.memory_mb * MIB, limits.cpu_seconds),
            name="extract-worker",
            daemon=True,  # never outlives the service
        )
        self._process.start()
        child.close()  # else the parent's copy would hide the worker's death (no EOF)

    def alive(self) -> bool:
        """Tell whether the process still runs."""
        return bool(self._process.is_alive())

    def call(self, function: Callable[..., Any], args: tuple[Any, ...]) -> _Reply:
        """Send one call and wait for its reply, at most the timeout; kill the worker past it."""
        try:
            self._connection.send((function, args))
            if not self._connection.poll(self._timeout):
                self.kill()
                return _Reply("timeout")
            status, value, retiring = self._connection.recv()
            return _Reply(status, value, retiring)
        except (EOFError, OSError):  # the worker died (or was stopped): its exit code says how
            self.kill()
            return _Reply("died", self._process.exitcode)

    def stop(self) -> None:
        """End the process at once, from any thread; the thread in `call` then cleans up."""
        self._process.kill()

    def kill(self) -> None:
        """End the process (if it still runs), reap it and close the pipe."""
        self._process.kill()
        self._process.join(5)
        self._connection.close()


def serve(connection: Connection, memory_bytes: int, cpu_seconds: int) -> None:
    """Answer calls from the parent until it closes the pipe (the worker process's main)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole group; the parent decides
    _limit(resource.RLIMIT_CORE, 0)  # a crash must not write a core file the size of the limit
    _limit(resource.RLIMIT_AS, memory_bytes)
    _first_to_go()
    # A worker that grew halfway from its start to the limit would fail the next file for this
    # one's sake (freed memory is not always given back): it retires instead.
    retire_at = (_address_space() + memory_bytes) // 2
    while True:
        try:
            function, args = connection.recv()
        except EOFError:
            return
        # RLIMIT_CPU counts the process's whole life: each call gets its allowance on top of it.
        used = resource.getrusage(resource.RUSAGE_SELF)
        _limit(resource.RLIMIT_CPU, int(used.ru_utime + used.ru_stime) + cpu_seconds, hard=False)
        status, value = _call(function, args)
        retiring = status == "memory" or _address_space() > retire_at
        connection.send((status, value, retiring))
        if retiring:
            return


def _call(function: Callable[..., Any], args: tuple[Any, ...]) -> tuple[str, Any]:
    """Call the function; turn what it raised into a status and a picklable detail."""
    try:
        return "ok", function(*args)
    except Exception as exc:  # any parser failure is this file's, reported by its type
        # Parsers wrap what they hit (UnparsableFile from MemoryError, say): the cause decides.
        if isinstance(exc, MemoryError) or isinstance(exc.__cause__, MemoryError):
            return "memory", None
        if isinstance(exc, UnparsableFile):
            return "unparsable", exc.reason
        return "error", f"{type(exc).__name__}: {exc}"[:500]


def _limit(kind: int, value: int, *, hard: bool = True) -> None:
    """Lower a resource limit to `value` (never above the hard limit already in force)."""
    _, current_hard = resource.getrlimit(kind)
    if current_hard != resource.RLIM_INFINITY:
        value = min(value, current_hard)
    resource.setrlimit(kind, (value, value if hard else current_hard))


def _first_to_go() -> None:
    """Ask the kernel to kill this worker, not the service, when the pod runs out of memory.

    The pod's limit may be below workers times the address-space limit; raising one's own
    oom_score_adj needs no privilege.
    """
    try:
        with open("/proc/self/oom_score_adj", "w") as score:
            score.write("1000")
    except OSError:  # not Linux, or /proc read-only: RLIMIT_AS still holds
        pass


def _address_space() -> int:
    """Return this process's virtual memory size in bytes (what RLIMIT_AS limits)."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[0]) * resource.getpagesize()
