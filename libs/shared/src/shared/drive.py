"""Google Drive v3, asynchronously: the calls the indexer makes, with retries and typed errors.

google-api-python-client is synchronous and httplib2 is not thread-safe, so every attempt runs in
a worker thread on an Http object lent to it alone. Throttling, 5xx answers and connection failures are
retried here with exponential backoff and full jitter, as Google asks clients to do.
"""

from __future__ import annotations

import asyncio
import http.client
import random
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any, Self

import httplib2
import structlog
from googleapiclient.discovery import build
from googleapiclient.errors import HttpError
from googleapiclient.http import HttpRequest
from opentelemetry import trace
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.drive_errors import (
    DriveError,
    DriveExportTooLarge,
    DriveForbidden,
    DriveNotFound,
    DriveRateLimited,
    DriveUnavailable,
    classify,
)
from shared.drive_http import HttpFactory, HttpPool, http_factory, load_credentials
from shared.metrics import DRIVE_REQUESTS

log = structlog.get_logger(__name__)
tracer = trace.get_tracer(__name__)

__all__ = [
    "FILE_FIELDS",
    "ChangesPage",
    "DriveClient",
    "DriveError",
    "DriveExportTooLarge",
    "DriveForbidden",
    "DriveNotFound",
    "DriveRateLimited",
    "DriveSettings",
    "DriveUnavailable",
    "FilesPage",
]

FILE_FIELDS = (
    "id,name,mimeType,webViewLink,parents,modifiedTime,version,md5Checksum,size,trashed,driveId,"
    "shortcutDetails,permissions(type,role,emailAddress,domain),exportLinks"
)
CHANGE_FIELDS = f"kind,changeType,removed,fileId,time,driveId,file({FILE_FIELDS})"
# Failures below a complete HTTP answer: refused or reset connections, timeouts, DNS, truncated
# responses. All worth another try.
CONNECTION_ERRORS = (ConnectionError, TimeoutError, http.client.HTTPException, httplib2.HttpLib2Error)


class DriveSettings(BaseSettings):
    """Where Drive is and who we are to it."""

    model_config = SettingsConfigDict(case_sensitive=False, extra="ignore")

    drive_api_endpoint: str | None = Field(default=None, description="Drive v3 base URL; None = Google's")
    google_application_credentials: str | None = Field(default=None, description="service-account key")
    google_subject: str | None = Field(default=None, description="user to impersonate (delegation)")
    drive_max_retries: int = Field(default=6, ge=0)
    drive_backoff_seconds: float = Field(default=1.0, gt=0)
    drive_max_backoff_seconds: float = Field(default=32.0, gt=0)
    drive_timeout_seconds: float = Field(default=60.0, gt=0)


@dataclass(frozen=True)
class ChangesPage:
    """One page of changes.list; exactly one of the two tokens is set."""

    changes: list[dict[str, Any]]
    next_page_token: str | None
    new_start_page_token: str | None


@dataclass(frozen=True)
class FilesPage:
    """One page of files.list."""

    files: list[dict[str, Any]]
    next_page_token: str | None


class DriveClient:
    """The Drive v3 calls the indexer needs, as coroutines."""

    def __init__(
        self,
        service: Any,
        make_http: HttpFactory,
        *,
        max_retries: int = 6,
        backoff_seconds: float = 1.0,
        max_backoff_seconds: float = 32.0,
    ) -> None:
        self._service = service
        self._http = HttpPool(make_http)
        self._max_retries = max_retries
        self._backoff = backoff_seconds
        self._max_backoff = max_backoff_seconds

    @classmethod
    def from_settings(cls, settings: DriveSettings) -> DriveClient:
        """Build a client for Google's Drive, or for the endpoint the settings name."""
        endpoint = settings.drive_api_endpoint
        if endpoint and not endpoint.endswith("/"):
            endpoint += "/"
        credentials = load_credentials(
            settings.google_application_credentials, settings.google_subject, settings.drive_api_endpoint
        )
        make_http = http_factory(credentials, settings.drive_timeout_seconds)
        # The static discovery document needs no network; each call gets its own Http at execute().
        service = build(
            "drive",
            "v3",
            http=httplib2.Http(),
            static_discovery=True,
            client_options={"api_endpoint": endpoint} if endpoint else None,
        )
        return cls(
            service,
            make_http,
            max_retries=settings.drive_max_retries,
            backoff_seconds=settings.drive_backoff_seconds,
            max_backoff_seconds=settings.drive_max_backoff_seconds,
        )

    async def close(self) -> None:
        """Close the pooled connections."""
        self._http.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.close()

    async def get_start_page_token(self) -> str:
        """Return the token that lists changes made from now on."""
        answer = await self._call(
            "changes.getStartPageToken", self._service.changes().getStartPageToken, supportsAllDrives=True
        )
        return str(answer["startPageToken"])

    async def list_changes(self, page_token: str, page_size: int = 100) -> ChangesPage:
        """Return one page of changes since `page_token`, removals and shared drives included."""
        answer = await self._call(
            "changes.list",
            self._service.changes().list,
            pageToken=page_token,
            pageSize=page_size,
            includeItemsFromAllDrives=True,
            supportsAllDrives=True,
            includeRemoved=True,
            fields=f"nextPageToken,newStartPageToken,changes({CHANGE_FIELDS})",
        )
        return ChangesPage(
            changes=answer.get("changes", []),
            next_page_token=answer.get("nextPageToken"),
            new_start_page_token=answer.get("newStartPageToken"),
        )

    async def change_pages(self, page_token: str, page_size: int = 100) -> AsyncIterator[ChangesPage]:
        """Yield pages of changes up to the one that carries the new start page token."""
        token: str | None = page_token
        while token:
            page = await self.list_changes(token, page_size)
            yield page
            token = page.next_page_token

    async def list_files(self, page_token: str | None = None, page_size: int = 100) -> FilesPage:
        """Return one page of all non-trashed files we can see, shared drives included."""
        answer = await self._call(
            "files.list",
            self._service.files().list,
            q="trashed = false",
            corpora="allDrives",
            includeItemsFromAllDrives=True,
            supportsAllDrives=True,
            pageSize=page_size,
            pageToken=page_token,
            fields=f"nextPageToken,files({FILE_FIELDS})",
        )
        return FilesPage(files=answer.get("files", []), next_page_token=answer.get("nextPageToken"))

    async def file_pages(self, page_size: int = 100) -> AsyncIterator[FilesPage]:
        """Yield every page of files.list."""
        page = await self.list_files(None, page_size)
        yield page
        while page.next_page_token:
            page = await self.list_files(page.next_page_token, page_size)
            yield page

    async def get_file(self, file_id: str) -> dict[str, Any]:
        """Return a file's metadata (FILE_FIELDS)."""
        files = self._service.files()
        return dict(
            await self._call(
                "files.get", files.get, fileId=file_id, fields=FILE_FIELDS, supportsAllDrives=True
            )
        )

    async def download(self, file_id: str) -> bytes:
        """Return a binary file's content (alt=media)."""
        files = self._service.files()
        return bytes(
            await self._call("files.download", files.get_media, fileId=file_id, supportsAllDrives=True)
        )

    async def export(self, file_id: str, mime_type: str) -> bytes:
        """Return a Google-native file converted to `mime_type`."""
        files = self._service.files()
        return bytes(await self._call("files.export", files.export, fileId=file_id, mimeType=mime_type))

    async def watch_changes(
        self, page_token: str, channel_id: str, address: str, token: str, expiration_ms: int | None = None
    ) -> dict[str, Any]:
        """Open a push channel for changes; return the channel (resourceId, expiration)."""
        body: dict[str, Any] = {"id": channel_id, "type": "web_hook", "address": address, "token": token}
        if expiration_ms is not None:
            body["expiration"] = str(expiration_ms)
        answer = await self._call(
            "changes.watch",
            self._service.changes().watch,
            pageToken=page_token,
            body=body,
            includeItemsFromAllDrives=True,
            supportsAllDrives=True,
            includeRemoved=True,
        )
        return dict(answer)

    async def stop_channel(self, channel_id: str, resource_id: str) -> None:
        """Close a push channel."""
        body = {"id": channel_id, "resourceId": resource_id}
        await self._call("channels.stop", self._service.channels().stop, body=body)

    async def _call(self, method: str, build_request: Callable[..., HttpRequest], **params: Any) -> Any:
        """Execute a request off the event loop, retrying throttling and outages with backoff."""
        with tracer.start_as_current_span(f"drive {method}", kind=trace.SpanKind.CLIENT) as span:
            span.set_attribute("rpc.system", "google_drive")
            span.set_attribute("rpc.method", method)
            for attempt in range(self._max_retries + 1):
                try:
                    request = build_request(**params)
                    result = await asyncio.to_thread(self._http.execute, request)
                except HttpError as exc:
                    error = classify(exc)
                    error.__cause__ = exc
                except CONNECTION_ERRORS as exc:
                    error = DriveUnavailable(f"Drive unreachable: {type(exc).__name__}: {exc}")
                    error.__cause__ = exc
                else:
                    DRIVE_REQUESTS.labels(method, "ok").inc()
                    return result
                if not error.retriable or attempt == self._max_retries:
                    DRIVE_REQUESTS.labels(method, type(error).__name__).inc()
                    span.set_status(trace.StatusCode.ERROR, str(error))
                    raise error
                delay = self._delay(attempt)
                log.warning(
                    "drive.retry",
                    method=method,
                    attempt=attempt + 1,
                    error=type(error).__name__,
                    status=error.status,
                    reason=error.reason,
                    delay_seconds=round(delay, 3),
                )
                DRIVE_REQUESTS.labels(method, "retried").inc()
                await asyncio.sleep(delay)
        raise AssertionError("unreachable: the loop returns or raises")

    def _delay(self, attempt: int) -> float:
        """Full jitter: a random wait up to the exponentially growing cap."""
        return random.uniform(0, min(self._max_backoff, self._backoff * 2**attempt))
