"""run_all: at most `limit` jobs at once, and the first failure raised as itself."""

from __future__ import annotations

import asyncio

import pytest

from shared.concurrency import run_all


async def test_no_more_than_the_limit_run_at_once() -> None:
    running, most = 0, 0

    async def job() -> None:
        nonlocal running, most
        running += 1
        most = max(most, running)
        await asyncio.sleep(0.01)
        running -= 1

    await run_all((job() for _ in range(20)), limit=4)
    assert most == 4


async def test_the_first_failure_is_raised_as_itself_and_the_rest_cancelled() -> None:
    finished: list[int] = []

    async def slow(n: int) -> None:
        await asyncio.sleep(1)
        finished.append(n)

    async def failing() -> None:
        raise LookupError("gone")

    with pytest.raises(LookupError, match="gone"):
        await run_all([slow(1), failing(), slow(2)])
    await asyncio.sleep(0)
    assert finished == []
