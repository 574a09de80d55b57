"""Google Drive v3, asynchronously: the calls the indexer makes, with retries and typed errors.

Every call goes through one `Executor` (drive.http), which runs it off the event loop and
retries throttling, 5xx answers and connection failures with backoff.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from prometheus_client import Counter
from pydantic import Field

from drive.budget import CallBudget, UserBudget
from drive.download import CappedDownload, DriveFileTooLarge
from drive.errors import (
    DRIVE_ERRORS,
    DriveError,
    DriveExportTooLarge,
    DriveForbidden,
    DriveNotFound,
    DriveRateLimited,
    DriveUnauthorized,
    DriveUnavailable,
)
from drive.google import GoogleClient, GoogleIdentity, static_service
from drive.http import Budget, Executor, HttpFactory, http_factory, load_credentials
from drive.models import (
    CHANGE_FIELDS,
    FILE_FIELDS,
    PERMISSION_FIELDS,
    Change,
    ChangesPage,
    Channel,
    DriveFile,
    FilesPage,
    SharedDrive,
    permissions_from_api,
)
from shared.access import Permission
from shared.backoff import Backoff

__all__ = [
    "FILE_FIELDS",
    "DriveClient",
    "DriveError",
    "DriveExportTooLarge",
    "DriveFileTooLarge",
    "DriveForbidden",
    "DriveNotFound",
    "DriveRateLimited",
    "DriveSettings",
    "DriveUnauthorized",
    "DriveUnavailable",
]

DRIVE_REQUESTS = Counter(
    "drive_index_drive_requests_total",
    "Google Drive API attempts, by method and outcome (ok, retried, or the error raised)",
    ["method", "outcome"],
)
MAX_PERMISSIONS_PAGE = 100  # permissions.list caps pageSize at 100


class DriveSettings(GoogleIdentity):
    """Where Drive is and who we are to it."""

    drive_api_endpoint: str | None = Field(default=None, description="Drive v3 base URL; None = Google's")
    drive_max_retries: int = Field(default=6, ge=0)
    drive_backoff_seconds: float = Field(default=1.0, gt=0)
    drive_max_backoff_seconds: float = Field(default=32.0, gt=0)
    drive_timeout_seconds: float = Field(default=60.0, gt=0)
    # Google's published Drive quotas: 12,000 queries per minute per project and per user. All
    # replicas share them (drive.budget); 0 turns a budget off.
    drive_calls_per_minute: int = Field(default=12_000, ge=0)
    drive_calls_per_minute_per_user: int = Field(default=12_000, ge=0)


class DriveClient(GoogleClient):
    """The Drive v3 calls the indexer needs, as coroutines."""

    def __init__(
        self,
        service: Any,
        make_http: HttpFactory,
        backoff: Backoff,
        *,
        drive_id: str | None = None,
        budget: Budget | None = None,
    ) -> None:
        self._service = service
        # Set, the client follows and lists one shared drive only (a `drive:<id>` source).
        self.drive_id = drive_id
        self._executor = Executor(DRIVE_ERRORS, DRIVE_REQUESTS, make_http, backoff, budget)
        self._call = self._executor.call

    @classmethod
    def from_settings(
        cls, settings: DriveSettings, *, drive_id: str | None = None, budget: CallBudget | None = None
    ) -> DriveClient:
        """Build a client for Google's Drive, or for the endpoint the settings name.

        With `drive_id`, its change feed, cursor, listing and channels cover that shared drive only.
        With `budget`, every call first spends from the project's and the acting user's budgets.
        """
        endpoint = settings.drive_api_endpoint
        if endpoint and not endpoint.endswith("/"):
            endpoint += "/"
        credentials = load_credentials(
            settings.google_application_credentials, settings.google_subject, settings.drive_api_endpoint
        )
        service = static_service("drive", "v3", endpoint)
        backoff = Backoff(
            settings.drive_max_retries, settings.drive_backoff_seconds, settings.drive_max_backoff_seconds
        )
        make_http = http_factory(credentials, settings.drive_timeout_seconds)
        user = settings.google_subject or getattr(credentials, "service_account_email", None) or "default"
        bound = UserBudget(budget, user) if budget is not None else None
        return cls(service, make_http, backoff, drive_id=drive_id, budget=bound)

    async def get_start_page_token(self) -> str:
        """Return the token that lists changes made from now on."""
        answer = await self._call(
            "changes.getStartPageToken",
            self._service.changes().getStartPageToken,
            supportsAllDrives=True,
            **self._drive_scope(),
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
            **self._drive_scope(),
        )
        return ChangesPage(
            changes=tuple(Change.from_api(change) for change in answer.get("changes", [])),
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
            corpora="drive" if self.drive_id else "allDrives",
            **self._drive_scope(),
            includeItemsFromAllDrives=True,
            supportsAllDrives=True,
            pageSize=page_size,
            pageToken=page_token,
            fields=f"nextPageToken,incompleteSearch,files({FILE_FIELDS})",
        )
        return FilesPage(
            files=tuple(DriveFile.from_api(file) for file in answer.get("files", [])),
            next_page_token=answer.get("nextPageToken"),
            incomplete_search=bool(answer.get("incompleteSearch", False)),
        )

    async def file_pages(self, page_size: int = 100) -> AsyncIterator[FilesPage]:
        """Yield every page of files.list."""
        page = await self.list_files(None, page_size)
        yield page
        while page.next_page_token:
            page = await self.list_files(page.next_page_token, page_size)
            yield page

    async def get_file(self, file_id: str) -> DriveFile:
        """Return a file's metadata (FILE_FIELDS)."""
        files = self._service.files()
        answer = await self._call(
            "files.get", files.get, fileId=file_id, fields=FILE_FIELDS, supportsAllDrives=True
        )
        return DriveFile.from_api(answer)

    async def list_permissions(self, file_id: str) -> list[Permission]:
        """Return every grant on a file, read with permissions.list (all pages).

        The one way to learn a shared-drive file's sharing: its drive's members come back as
        inherited permissions beside the file's own.
        """
        return await self._permissions(file_id, f"{PERMISSION_FIELDS},permissionDetails")

    async def list_drives(self, *, domain_admin: bool = False, page_size: int = 100) -> list[SharedDrive]:
        """Return every shared drive we belong to (as a domain admin: the domain's), all pages."""
        resources = await self._executor.pages(
            "drives.list",
            self._service.drives().list,
            "drives",
            pageSize=page_size,
            useDomainAdminAccess=domain_admin,
            fields="nextPageToken,drives(id,name)",
        )
        return [SharedDrive.from_api(resource) for resource in resources]

    async def list_drive_members(self, drive_id: str) -> list[Permission]:
        """Return a shared drive's members, read with domain admin rights (all pages)."""
        return await self._permissions(drive_id, PERMISSION_FIELDS, useDomainAdminAccess=True)

    async def _permissions(self, file_id: str, fields: str, **params: Any) -> list[Permission]:
        resources = await self._executor.pages(
            "permissions.list",
            self._service.permissions().list,
            "permissions",
            fileId=file_id,
            supportsAllDrives=True,
            pageSize=MAX_PERMISSIONS_PAGE,
            fields=f"nextPageToken,permissions({fields})",
            **params,
        )
        return list(permissions_from_api(resources))

    async def download(self, file_id: str, max_bytes: int | None = None) -> bytes:
        """Return a binary file's content (alt=media), read in ranged chunks.

        Past `max_bytes` it raises DriveFileTooLarge (permanent) as soon as that many arrived,
        however small Drive said the file was.
        """
        get_media = self._service.files().get_media

        def request(**params: Any) -> CappedDownload:
            return CappedDownload(get_media(**params), max_bytes)

        return bytes(await self._call("files.download", request, fileId=file_id, supportsAllDrives=True))

    async def export(self, file_id: str, mime_type: str) -> bytes:
        """Return a Google-native file converted to `mime_type`."""
        files = self._service.files()
        return bytes(await self._call("files.export", files.export, fileId=file_id, mimeType=mime_type))

    async def watch_changes(
        self, page_token: str, channel_id: str, address: str, token: str, expiration_ms: int | None = None
    ) -> Channel:
        """Open a push channel for changes; return it as Drive opened it."""
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
            **self._drive_scope(),
        )
        return Channel.from_api(answer)

    def _drive_scope(self) -> dict[str, str]:
        return {"driveId": self.drive_id} if self.drive_id else {}

    async def stop_channel(self, channel_id: str, resource_id: str) -> None:
        """Close a push channel."""
        body = {"id": channel_id, "resourceId": resource_id}
        await self._call("channels.stop", self._service.channels().stop, body=body)
