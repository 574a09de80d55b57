"""The one backoff rule and the one retry loop, without sleeping: waits are recorded, not waited."""

from __future__ import annotations

import asyncio
import itertools
import time

import pytest

from shared.backoff import FOREVER, Backoff, Retry, backoff_delays, retrying

THREE = Backoff(3, base_seconds=1.0, max_seconds=3.0)


class Flaky:
    """An attempt that raises `failures` in turn, then returns "done"; counts its calls."""

    def __init__(self, *failures: BaseException) -> None:
        self.failures = list(failures)
        self.calls = 0

    async def __call__(self) -> str:
        self.calls += 1
        if self.failures:
            raise self.failures.pop(0)
        return "done"


class Waits:
    """Stands in for asyncio.sleep: records each wait and returns at once."""

    def __init__(self) -> None:
        self.seconds: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.seconds.append(seconds)


def _always(error: Exception) -> float:
    return 0.0


def test_the_delays_are_one_per_retry_each_under_its_doubling_cap() -> None:
    for _ in range(50):
        delays = list(backoff_delays(Backoff(5, base_seconds=1.0, max_seconds=6.0)))
        assert len(delays) == 5
        assert all(0 <= d <= cap for d, cap in zip(delays, [1, 2, 4, 6, 6], strict=True))


def test_no_retries_give_no_delays_and_forever_never_runs_out() -> None:
    assert list(backoff_delays(Backoff(0, 1.0, 1.0))) == []
    endless = list(itertools.islice(backoff_delays(Backoff(FOREVER, 0.01, 0.05)), 10_000))
    assert len(endless) == 10_000
    assert all(0 <= d <= 0.05 for d in endless)


def test_the_retry_pause_grows_to_its_cap_and_never_overflows() -> None:
    backoff = Backoff(FOREVER, base_seconds=0.5, max_seconds=30)
    started = time.perf_counter()
    delays = [backoff.delay(attempt) for attempt in (0, 1, 5, 10, 5_000, 10**9)]
    assert time.perf_counter() - started < 0.1
    assert 0 <= delays[0] <= 0.5
    assert 0 <= delays[1] <= 1.0
    assert all(0 <= d <= 30 for d in delays)


async def test_a_first_success_is_returned_without_waiting() -> None:
    attempt, waits = Flaky(), Waits()
    assert await retrying(attempt, on=_always, backoff=THREE, wait=waits) == "done"
    assert (attempt.calls, waits.seconds) == (1, [])


async def test_failures_are_retried_with_the_backoff_and_each_retry_is_seen() -> None:
    attempt, waits, seen = Flaky(OSError("a"), OSError("b")), Waits(), list[Retry]()
    result = await retrying(attempt, on=_always, backoff=THREE, wait=waits, before_wait=seen.append)
    assert result == "done"
    assert attempt.calls == 3
    assert [(str(r.error), r.attempt, r.delay) for r in seen] == [
        ("a", 1, waits.seconds[0]),
        ("b", 2, waits.seconds[1]),
    ]
    assert 0 <= waits.seconds[0] <= 1.0
    assert 0 <= waits.seconds[1] <= 2.0


async def test_the_floor_from_on_is_the_least_wait() -> None:
    waits = Waits()
    await retrying(Flaky(OSError(), OSError()), on=lambda _: 7.5, backoff=THREE, wait=waits)
    assert waits.seconds == [7.5, 7.5]


async def test_an_error_on_refuses_is_raised_at_once() -> None:
    attempt, waits = Flaky(OSError("transient"), KeyError("a bug")), Waits()

    def on(error: Exception) -> float | None:
        return 0.0 if isinstance(error, OSError) else None

    with pytest.raises(KeyError, match="a bug"):
        await retrying(attempt, on=on, backoff=THREE, wait=waits)
    assert attempt.calls == 2
    assert len(waits.seconds) == 1


async def test_on_may_raise_an_error_that_names_the_failure() -> None:
    attempt = Flaky(PermissionError("401"))

    def on(error: Exception) -> float | None:
        raise RuntimeError("fix the key") from error

    with pytest.raises(RuntimeError, match="fix the key") as raised:
        await retrying(attempt, on=on, backoff=THREE, wait=Waits())
    assert isinstance(raised.value.__cause__, PermissionError)
    assert attempt.calls == 1


async def test_after_the_last_retry_the_last_error_is_raised() -> None:
    attempt, waits = Flaky(*(OSError(f"try {n}") for n in range(1, 10))), Waits()
    with pytest.raises(OSError, match="try 4"):
        await retrying(attempt, on=_always, backoff=THREE, wait=waits)
    assert attempt.calls == 4, "the first attempt and max_retries more"
    assert len(waits.seconds) == 3


async def test_give_up_turns_the_last_error_into_the_callers_own() -> None:
    attempt = Flaky(*(OSError(f"try {n}") for n in range(1, 10)))

    def give_up(error: Exception, attempts: int) -> Exception:
        return LookupError(f"failed {attempts} times, last: {error}")

    with pytest.raises(LookupError, match="failed 4 times, last: try 4") as raised:
        await retrying(attempt, on=_always, backoff=THREE, wait=Waits(), give_up=give_up)
    assert isinstance(raised.value.__cause__, OSError)


async def test_forever_retries_for_as_long_as_the_failure_lasts() -> None:
    attempt, waits = Flaky(*(OSError() for _ in range(500))), Waits()
    backoff = Backoff(FOREVER, base_seconds=0.5, max_seconds=10.0)
    assert await retrying(attempt, on=_always, backoff=backoff, wait=waits) == "done"
    assert attempt.calls == 501
    assert all(0 <= s <= 10.0 for s in waits.seconds)


async def test_cancellation_is_never_retried() -> None:
    attempt, asked = Flaky(asyncio.CancelledError()), list[Exception]()

    def on(error: Exception) -> float:
        asked.append(error)
        return 0.0

    with pytest.raises(asyncio.CancelledError):
        await retrying(attempt, on=on, backoff=THREE, wait=Waits())
    assert (attempt.calls, asked) == (1, [])


async def test_the_default_wait_sleeps() -> None:
    started = time.perf_counter()
    quick = Backoff(1, base_seconds=0.001, max_seconds=0.001)
    await retrying(Flaky(OSError()), on=lambda _: 0.05, backoff=quick)
    assert time.perf_counter() - started >= 0.05
