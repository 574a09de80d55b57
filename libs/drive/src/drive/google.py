"""What the Drive and Directory clients share: who we are to Google, the request factory, closing."""

from __future__ import annotations

from typing import Any, Self

import httplib2
from googleapiclient.discovery import build
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from drive.http import Executor


class GoogleIdentity(BaseSettings):
    """A service-account key (none: Application Default Credentials, or an emulator) and the
    Workspace user it acts as through domain-wide delegation."""

    model_config = SettingsConfigDict(case_sensitive=False, extra="ignore")

    google_application_credentials: str | None = Field(default=None, description="service-account key")
    google_subject: str | None = Field(default=None, description="user to act as (delegation)")


def static_service(name: str, version: str, api_endpoint: str | None) -> Any:
    """The client library's request factory, from the discovery document it bundles (no network).

    Each call gets its own Http when executed (drive.http.HttpPool), never this placeholder.
    """
    options = {"api_endpoint": api_endpoint} if api_endpoint else None
    return build(name, version, http=httplib2.Http(), static_discovery=True, client_options=options)


class GoogleClient:
    """A client whose calls go through one Executor; closing closes its pooled connections."""

    _executor: Executor

    async def close(self) -> None:
        """Close the pooled connections."""
        self._executor.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.close()
