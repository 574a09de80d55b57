"""One file's failure is that file's alone: record it, let the page go on, try again later.

A Drive error while reading one file (its permissions, its content, a shortcut's target) is
recorded against the file: transient ones (throttling, 5xx, timeouts that outlasted the
client's own retries) are tried again on a schedule with growing delays; permanent ones (the
file may not be downloaded, say) wait until the file changes. Nothing indexed is deleted for
it. What is not the file's fault still stops the page, so the cursor stays put: bad
credentials, the broker, the database.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from prometheus_client import Counter

from drive.client import DriveError, DriveUnauthorized

Kind = Literal["transient", "permanent"]

FETCH_FAILURES = Counter(
    "drive_index_fetch_failures_total",
    "Files whose fetch failed and was recorded against the file, by kind and error",
    ["kind", "error"],
)


@dataclass(frozen=True)
class Retry:
    """When to try a transient failure again: doubling from `base_seconds`, up to `max_seconds`."""

    base_seconds: float = 30.0
    max_seconds: float = 3600.0


@dataclass(frozen=True)
class Failure:
    """Why reading one file failed, and whether trying again later may help."""

    kind: Kind
    reason: str
    error: str  # the error's class, a metric label

    @classmethod
    def from_drive(cls, exc: DriveError) -> Failure:
        kind: Kind = "transient" if exc.retriable else "permanent"
        return cls(kind, str(exc)[:1000], type(exc).__name__)


def is_files_own(exc: BaseException) -> bool:
    """Tell whether a failure concerns one file rather than the whole source or our credentials."""
    return isinstance(exc, DriveError) and not isinstance(exc, DriveUnauthorized)
