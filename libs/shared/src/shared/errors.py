"""The error tree: each error says whether trying again could help."""

from __future__ import annotations

from pydantic import ValidationError


class DriveIndexError(Exception):
    """Base of the project's errors."""

    retriable = False


class RetriableError(DriveIndexError):
    """A transient failure (a dependency is down or throttling): try the same work again later."""

    retriable = True


class PermanentError(DriveIndexError):
    """The input itself is at fault: retrying cannot help, so it goes to the dead-letter topic."""

    retriable = False


# Programming or data errors: the same input fails the same way every time.
_PERMANENT = (ValidationError, ValueError, TypeError, KeyError, LookupError, UnicodeError)


def is_retriable(exc: BaseException) -> bool:
    """Tell whether `exc` is worth retrying; unknown errors (I/O, timeouts) are assumed transient."""
    flag = getattr(exc, "retriable", None)
    if isinstance(flag, bool):
        return flag
    return not isinstance(exc, _PERMANENT)
