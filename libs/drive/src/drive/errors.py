"""Google API failures as typed errors, classified from Google's JSON error body."""

from __future__ import annotations

import email.utils
import json
from dataclasses import dataclass
from datetime import UTC, datetime

from googleapiclient.errors import HttpError

from shared.errors import DriveIndexError, PermanentError, RetriableError

# 403s that mean "too much, slow down" rather than "not allowed": waited out, never recorded as failures.
RATE_LIMIT_REASONS = frozenset(
    {
        "rateLimitExceeded",
        "userRateLimitExceeded",
        "dailyLimitExceeded",
        "quotaExceeded",
        "sharingRateLimitExceeded",
    }
)


class GoogleApiError(DriveIndexError):
    """A Google API refused or failed a call; `status` and `reason` are Google's."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        reason: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.reason = reason
        # Seconds the server asked us to wait (its Retry-After header), if it said.
        self.retry_after = retry_after


class DriveError(GoogleApiError):
    """Drive refused or failed a call."""


class DriveRateLimited(DriveError, RetriableError):  # noqa: N818 - names fixed by the contract
    """Drive throttled us or was unavailable even after our retries: try again later."""


class DriveUnavailable(DriveRateLimited):
    """Drive answered 5xx or could not be reached even after our retries."""


class DriveUnauthorized(DriveError, RetriableError):  # noqa: N818 - named like the others
    """Drive refused our credentials (401): nothing is wrong with the file, so wait and alert.

    Retriable so that the work pauses instead of recording every file as unreadable; the
    operator fixes the key or the delegation, and indexing resumes by itself.
    """


class DriveNotFound(DriveError, PermanentError):  # noqa: N818 - names fixed by the contract
    """The file (or page token, or channel) does not exist or is not visible to us."""


class DriveForbidden(DriveError, PermanentError):  # noqa: N818 - names fixed by the contract
    """We may not do this (no access, not downloadable, bad credentials)."""


class DriveExportTooLarge(DriveError, PermanentError):  # noqa: N818 - names fixed by the contract
    """The Google-native file is too large for files.export (10 MB of output)."""


@dataclass(frozen=True)
class ErrorKinds:
    """The error classes one API raises, by what went wrong; `too_large` is Drive's export limit."""

    api: str
    error: type[GoogleApiError]
    rate_limited: type[GoogleApiError]
    unavailable: type[GoogleApiError]
    not_found: type[GoogleApiError]
    forbidden: type[GoogleApiError]
    too_large: type[GoogleApiError] | None = None
    unauthorized: type[GoogleApiError] | None = None


DRIVE_ERRORS = ErrorKinds(
    "Drive",
    DriveError,
    DriveRateLimited,
    DriveUnavailable,
    DriveNotFound,
    DriveForbidden,
    DriveExportTooLarge,
    DriveUnauthorized,
)


def error_reason(content: bytes | str | None) -> tuple[str | None, str]:
    """Read Google's JSON error body: the first error's reason, and the message."""
    try:
        error = json.loads(content or b"{}").get("error", {})
    except (ValueError, AttributeError):
        return None, (content.decode(errors="replace") if isinstance(content, bytes) else str(content))
    if not isinstance(error, dict):
        return None, str(error)
    errors = error.get("errors") or [{}]
    return errors[0].get("reason"), str(error.get("message", ""))


def classify(exc: HttpError, kinds: ErrorKinds = DRIVE_ERRORS) -> GoogleApiError:
    """Turn a googleapiclient HttpError into the matching error of `kinds`."""
    status = int(exc.resp.status)
    reason, message = error_reason(exc.content)
    text = f"{kinds.api} answered {status} {reason or ''}: {message}".strip()
    kind = kinds.error
    if status == 429 or (status == 403 and reason in RATE_LIMIT_REASONS):
        kind = kinds.rate_limited
    elif status >= 500:
        kind = kinds.unavailable
    elif status == 404:
        kind = kinds.not_found
    elif status == 403 and reason == "exportSizeLimitExceeded" and kinds.too_large:
        kind = kinds.too_large
    elif status == 401 and kinds.unauthorized:
        kind = kinds.unauthorized
    elif status in (401, 403):
        kind = kinds.forbidden
    return kind(text, status=status, reason=reason, retry_after=retry_after(exc.resp.get("retry-after")))


def retry_after(header: str | None) -> float | None:
    """Read a Retry-After header: delta-seconds or an HTTP date; None when absent or unreadable."""
    if not header:
        return None
    if header.strip().isdigit():
        return float(header)
    try:
        when = email.utils.parsedate_to_datetime(header)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())
