"""How long to wait before trying again, and the one retry loop: every retry in the project.

`retrying` is the loop; each caller says which failures are worth another try (`on`) and what to
log or count between tries. The consume loop, the Google API clients and Cohere all use it.
"""

from __future__ import annotations

import asyncio
import random
import sys
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")

# For retries that last as long as the outage does (the consume loop): there is no last attempt.
FOREVER = sys.maxsize
# 2**62 seconds is past any cap; a larger exponent would overflow the float multiplication.
_MAX_EXPONENT = 62


@dataclass(frozen=True)
class Backoff:
    """How often and how patiently to retry: full jitter up to an exponentially growing cap.

    Full jitter spreads restarted clients apart, so they do not hammer a recovering dependency in
    lockstep.
    """

    max_retries: int
    base_seconds: float
    max_seconds: float

    def delay(self, attempt: int) -> float:
        """Seconds to wait after failed attempt number `attempt` (0 for the first)."""
        cap = min(self.max_seconds, self.base_seconds * 2 ** min(attempt, _MAX_EXPONENT))
        return random.uniform(0, cap)


# The consume loop's: from half a second up to 10 s between tries, for as long as the outage lasts.
# A try costs one handler call per partition, so a short cap is cheap, and after an outage the
# fetcher and then the embedder resume within seconds rather than each after up to half a minute.
CONSUME_LOOP = Backoff(FOREVER, base_seconds=0.5, max_seconds=10.0)


def backoff_delays(backoff: Backoff) -> Iterator[float]:
    """Yield the wait before each retry: `backoff.max_retries` of them, lazily (FOREVER is endless)."""
    for attempt in range(backoff.max_retries):
        yield backoff.delay(attempt)


@dataclass(frozen=True)
class Retry:
    """A failed attempt about to be tried again: its error, its number (1 for the first), the wait."""

    error: Exception
    attempt: int
    delay: float


async def retrying(
    attempt: Callable[[], Awaitable[T]],
    *,
    on: Callable[[Exception], float | None],
    backoff: Backoff,
    wait: Callable[[float], Awaitable[object]] = asyncio.sleep,
    before_wait: Callable[[Retry], object] | None = None,
    give_up: Callable[[Exception, int], Exception] | None = None,
) -> T:
    """Await `attempt()` until it returns, retrying the failures `on` accepts; return its result.

    `on(error)` returns None to raise the error at once, or the least seconds to wait before the
    next attempt (a server's Retry-After, else 0); it may raise an error of its own instead, to
    name what went wrong. After the last retry the last error is raised, or the one
    `give_up(error, attempts)` makes of it. `before_wait` sees each retry, to log and count it.
    Only `Exception`s are retried: cancellation always ends the loop.
    """
    delays = backoff_delays(backoff)
    number = 0
    while True:
        number += 1
        try:
            return await attempt()
        except Exception as error:
            floor = on(error)
            if floor is None:
                raise
            delay = next(delays, None)
            if delay is None:
                if give_up is None:
                    raise
                raise give_up(error, number) from error
            retry = Retry(error, number, max(delay, floor))
        if before_wait is not None:
            before_wait(retry)
        await wait(retry.delay)
