"""Media downloads read in ranged chunks and stopped at a size cap, whatever size Drive announced."""

from __future__ import annotations

import io
from http.client import IncompleteRead
from typing import Any

from googleapiclient.http import HttpRequest, MediaIoBaseDownload

from drive.errors import DriveError
from shared.errors import PermanentError

# The chunk size without a cap. With one, a single chunk of cap + 1 bytes both fetches a file
# that fits in one round trip and proves that one which does not fit is too large.
CHUNK_BYTES = 10 * 1024 * 1024


class DriveFileTooLarge(DriveError, PermanentError):  # noqa: N818 - named like the other Drive errors
    """A download passed its size cap; `size` is the whole file's, when Drive said it."""

    def __init__(self, limit: int, size: int | None = None) -> None:
        told = f"{size:,} bytes" if size is not None else "more"
        super().__init__(f"Drive sent {told}, over the download cap of {limit:,} bytes")
        self.limit = limit
        self.size = size


class CappedDownload:
    """A media request the shared Executor runs like any other: `execute(http=...)` gives the bytes."""

    def __init__(self, request: HttpRequest, max_bytes: int | None) -> None:
        self._request = request
        self._max_bytes = max_bytes

    def execute(self, http: Any) -> bytes:
        """Read the media in ranged chunks on `http`; raise DriveFileTooLarge once past the cap."""
        self._request.http = http  # MediaIoBaseDownload sends every chunk on the request's Http
        buffer = io.BytesIO()
        chunk = CHUNK_BYTES if self._max_bytes is None else self._max_bytes + 1
        download = MediaIoBaseDownload(buffer, self._request, chunksize=chunk)
        done = False
        while not done:
            before = buffer.tell()
            status, done = download.next_chunk()
            self._check(buffer.tell(), status.total_size)
            if not done and buffer.tell() == before:
                # A server that answers with empty chunks would keep this loop going forever;
                # a connection error is retried by the Executor, then reported as an outage.
                raise IncompleteRead(b"")
        return buffer.getvalue()

    def _check(self, received: int, total: int | None) -> None:
        """Stop at the cap: on bytes received (Drive may lie about size) or on the size it sends."""
        cap = self._max_bytes
        if cap is not None and (received > cap or (total or 0) > cap):
            # A server that ignores Range sends everything: then what arrived is the size.
            raise DriveFileTooLarge(cap, total if total and total >= received else None)
