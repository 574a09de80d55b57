"""Run coroutines together, failing the way a single call would."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Iterable
from typing import Any


async def run_all(jobs: Iterable[Coroutine[Any, Any, None]], *, limit: int | None = None) -> None:
    """Run the jobs, at most `limit` at once; on the first failure cancel the rest and raise it.

    The error itself is raised, not an ExceptionGroup: callers (the consume loop, say) decide on
    retrying from the error's type.
    """
    slots = asyncio.Semaphore(limit) if limit else None

    async def bounded(job: Coroutine[Any, Any, None]) -> None:
        if slots is None:
            return await job
        async with slots:
            return await job

    try:
        async with asyncio.TaskGroup() as group:
            for job in jobs:
                group.create_task(bounded(job))
    except ExceptionGroup as failures:
        raise failures.exceptions[0] from None
