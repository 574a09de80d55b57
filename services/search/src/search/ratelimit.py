"""A token bucket per caller, in this replica's memory.

Each replica counts on its own, so N replicas allow up to N times the rate: a bound on abuse,
not a quota. Idle callers are forgotten first when too many are tracked; a forgotten caller
starts again with a full bucket, so forgetting can only ever err on the generous side.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable

MAX_CALLERS = 10_000


class RateLimiter:
    """`per_minute` requests a minute per caller, up to `burst` at once; per_minute 0: no limit."""

    def __init__(
        self,
        per_minute: int,
        burst: int,
        *,
        clock: Callable[[], float] = time.monotonic,
        max_callers: int = MAX_CALLERS,
    ) -> None:
        self.per_minute, self.burst, self.clock, self.max_callers = per_minute, burst, clock, max_callers
        self._rate = per_minute / 60.0  # tokens a second
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # key -> (tokens, at)

    def __len__(self) -> int:
        return len(self._buckets)

    def take(self, key: str) -> float:
        """Spend one token of `key`'s bucket: 0 if there was one, else the seconds until there is."""
        if self.per_minute <= 0:
            return 0.0
        now = self.clock()
        tokens, at = self._buckets.pop(key, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - at) * self._rate)
        wait = 0.0
        if tokens >= 1:
            tokens -= 1
        else:
            wait = (1 - tokens) / self._rate
        self._buckets[key] = (tokens, now)  # most recently used last
        while len(self._buckets) > self.max_callers:
            self._buckets.popitem(last=False)
        return wait
