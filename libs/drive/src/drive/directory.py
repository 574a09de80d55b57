"""Users and Google Groups from the Admin SDK Directory API, asynchronously, with retries and typed errors.

The groups sync reads every group of the account and each group's direct members; nested groups
are expanded by whoever stores them. Discovery of a domain's sources reads its users. Calls run
through the same `Executor` as Drive's.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any, Literal

from prometheus_client import Counter
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from drive.errors import ErrorKinds, GoogleApiError
from drive.google import GoogleClient, GoogleIdentity, static_service
from drive.http import Executor, HttpFactory, http_factory, load_credentials
from shared.backoff import Backoff
from shared.errors import PermanentError, RetriableError

SCOPES = ["https://www.googleapis.com/auth/admin.directory.group.readonly"]
# users.list needs this scope too; a client that lists users asks for it (and domain-wide
# delegation must grant it), while one that only syncs groups keeps asking for SCOPES alone.
USER_SCOPE = "https://www.googleapis.com/auth/admin.directory.user.readonly"
USER_SCOPES = [*SCOPES, USER_SCOPE]
# The discovery document's paths already start with this; an endpoint given with it (as DESIGN's
# example is) would otherwise double it.
SERVICE_PATH = "admin/directory/v1/"
MAX_RESULTS = 200  # the most groups.list and members.list return per page
MAX_USERS = 500  # the most users.list returns per page
MEMBER_TYPES = frozenset({"USER", "GROUP", "CUSTOMER"})

DIRECTORY_REQUESTS = Counter(
    "drive_index_directory_requests_total",
    "Admin SDK Directory API attempts, by method and outcome (ok, retried, or the error raised)",
    ["method", "outcome"],
)


class DirectoryError(GoogleApiError):
    """The Directory API refused or failed a call."""


class DirectoryRateLimited(DirectoryError, RetriableError):  # noqa: N818 - named like Drive's
    """The Directory API throttled us or was unavailable even after our retries."""


class DirectoryUnavailable(DirectoryRateLimited):
    """The Directory API answered 5xx or could not be reached even after our retries."""


class DirectoryNotFound(DirectoryError, PermanentError):  # noqa: N818 - named like Drive's
    """The group (or customer, or domain) does not exist or is not visible to us."""


class DirectoryForbidden(DirectoryError, PermanentError):  # noqa: N818 - named like Drive's
    """We may not read the directory: no admin role for the subject, or bad credentials."""


DIRECTORY_ERRORS = ErrorKinds(
    "Directory",
    DirectoryError,
    DirectoryRateLimited,
    DirectoryUnavailable,
    DirectoryNotFound,
    DirectoryForbidden,
)


class DirectorySettings(GoogleIdentity):
    """Where the Directory API is and who we are to it (an admin, through delegation)."""

    directory_api_endpoint: str | None = Field(default=None, description="base URL; None = Google's")
    directory_max_retries: int = Field(default=6, ge=0)
    directory_backoff_seconds: float = Field(default=1.0, gt=0)
    directory_max_backoff_seconds: float = Field(default=32.0, gt=0)
    directory_timeout_seconds: float = Field(default=60.0, gt=0)


# Addresses are case-insensitive; stored lower-cased they compare with Drive's and callers'.
Email = Annotated[str, StringConstraints(strip_whitespace=True, to_lower=True)]


class Group(BaseModel):
    """A Google Group: its address (lower-cased) and display name."""

    model_config = ConfigDict(frozen=True)

    email: Email
    name: str = ""


class Member(BaseModel):
    """A direct member of a group; a CUSTOMER member (everyone in the account) has no e-mail."""

    model_config = ConfigDict(frozen=True)

    email: Email | None
    type: Literal["USER", "GROUP", "CUSTOMER"]
    status: str | None = None


class User(BaseModel):
    """A user of the account: address (lower-cased), name, and whether they may still work."""

    model_config = ConfigDict(frozen=True)

    email: Email
    name: str = ""
    suspended: bool = False
    archived: bool = False


def api_root(endpoint: str) -> str:
    """The root URL the client library wants, from DIRECTORY_API_ENDPOINT with or without its path."""
    root = endpoint if endpoint.endswith("/") else endpoint + "/"
    return root.removesuffix(SERVICE_PATH)


class DirectoryClient(GoogleClient):
    """The Directory API calls the groups sync and source discovery need, as coroutines."""

    def __init__(self, service: Any, make_http: HttpFactory, backoff: Backoff) -> None:
        self._service = service
        self._executor = Executor(DIRECTORY_ERRORS, DIRECTORY_REQUESTS, make_http, backoff)

    @classmethod
    def from_settings(cls, settings: DirectorySettings, scopes: Sequence[str] = SCOPES) -> DirectoryClient:
        """Build a client for Google's Directory API, or for the endpoint the settings name.

        Pass `USER_SCOPES` to call `list_users`.
        """
        endpoint = settings.directory_api_endpoint
        credentials = load_credentials(
            settings.google_application_credentials, settings.google_subject, endpoint, scopes
        )
        service = static_service("admin", "directory_v1", api_root(endpoint) if endpoint else None)
        backoff = Backoff(
            settings.directory_max_retries,
            settings.directory_backoff_seconds,
            settings.directory_max_backoff_seconds,
        )
        return cls(service, http_factory(credentials, settings.directory_timeout_seconds), backoff)

    async def list_groups(self, customer: str = "my_customer", page_size: int = MAX_RESULTS) -> list[Group]:
        """Return every group of the account (all pages)."""
        groups = await self._executor.pages(
            "groups.list",
            self._service.groups().list,
            "groups",
            customer=customer,
            maxResults=page_size,
            fields="nextPageToken,groups(email,name)",
        )
        return [Group(email=g["email"], name=g.get("name") or "") for g in groups if g.get("email")]

    async def list_members(self, group_key: str, page_size: int = MAX_RESULTS) -> list[Member]:
        """Return a group's direct members (all pages); members of unknown types are left out."""
        members = await self._executor.pages(
            "members.list",
            self._service.members().list,
            "members",
            groupKey=group_key,
            maxResults=page_size,
            fields="nextPageToken,members(email,type,status)",
        )
        return [
            Member(email=m.get("email"), type=m["type"], status=m.get("status"))
            for m in members
            if m.get("type") in MEMBER_TYPES
        ]

    async def list_users(
        self,
        customer: str = "my_customer",
        *,
        active_only: bool = True,
        domain: str | None = None,
        page_size: int = MAX_USERS,
    ) -> list[User]:
        """Return the account's users (all pages); `active_only` leaves out suspended and archived ones.

        Directory search filters out the suspended; archived users (who cannot sign in either) are
        dropped here. `domain` narrows the list to one of the account's domains.
        """
        where: dict[str, str] = {"domain": domain} if domain else {"customer": customer}
        if active_only:
            where["query"] = "isSuspended=false"
        users = await self._executor.pages(
            "users.list",
            self._service.users().list,
            "users",
            maxResults=page_size,
            fields="nextPageToken,users(primaryEmail,name/fullName,suspended,archived)",
            **where,
        )
        found = [
            User(
                email=u["primaryEmail"],
                name=(u.get("name") or {}).get("fullName") or "",
                suspended=bool(u.get("suspended", False)),
                archived=bool(u.get("archived", False)),
            )
            for u in users
            if u.get("primaryEmail")
        ]
        return [u for u in found if not (u.suspended or u.archived)] if active_only else found
