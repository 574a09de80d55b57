"""Drive's failures as typed errors, classified from Google's JSON error body."""

from __future__ import annotations

import json

from googleapiclient.errors import HttpError

from shared.errors import DriveIndexError, PermanentError, RetriableError

RATE_LIMIT_REASONS = frozenset({"rateLimitExceeded", "userRateLimitExceeded"})


class DriveError(DriveIndexError):
    """Drive refused or failed a call."""

    def __init__(self, message: str, *, status: int | None = None, reason: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.reason = reason


class DriveRateLimited(DriveError, RetriableError):  # noqa: N818 - names fixed by the contract
    """Drive throttled us or was unavailable even after our retries: try again later."""


class DriveUnavailable(DriveRateLimited):
    """Drive answered 5xx or could not be reached even after our retries."""


class DriveNotFound(DriveError, PermanentError):  # noqa: N818 - names fixed by the contract
    """The file (or page token, or channel) does not exist or is not visible to us."""


class DriveForbidden(DriveError, PermanentError):  # noqa: N818 - names fixed by the contract
    """We may not do this (no access, not downloadable, bad credentials)."""


class DriveExportTooLarge(DriveError, PermanentError):  # noqa: N818 - names fixed by the contract
    """The Google-native file is too large for files.export (10 MB of output)."""


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


def classify(exc: HttpError) -> DriveError:
    """Turn a googleapiclient HttpError into the matching DriveError."""
    status = int(exc.resp.status)
    reason, message = error_reason(exc.content)
    text = f"Drive answered {status} {reason or ''}: {message}".strip()
    kind: type[DriveError] = DriveError
    if status == 429 or (status == 403 and reason in RATE_LIMIT_REASONS):
        kind = DriveRateLimited
    elif status >= 500:
        kind = DriveUnavailable
    elif status == 404:
        kind = DriveNotFound
    elif status == 403 and reason == "exportSizeLimitExceeded":
        kind = DriveExportTooLarge
    elif status in (401, 403):
        kind = DriveForbidden
    return kind(text, status=status, reason=reason)
