"""Wait for a condition with a deadline, never with a fixed sleep."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

POLL_SECONDS = 0.25


def wait_until(condition: Callable[[], T], describe: Callable[[], str], timeout: float) -> T:
    """Poll `condition` until it returns something truthy; fail with `describe()` after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout:g}s: {describe()}")
        time.sleep(POLL_SECONDS)
