"""The fetcher's own errors; each says whether retrying could help."""

from __future__ import annotations

from shared.errors import PermanentError


class UnparsableFile(PermanentError):  # noqa: N818 - name fixed by the event contract docs
    """A file's bytes cannot be turned into text; it is recorded as skipped with this reason."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
