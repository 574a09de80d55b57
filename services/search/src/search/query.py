"""A search request, validated the same way whether it came as GET parameters or a POST body."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

MAX_K = 50
MAX_QUERY_CHARS = 1000


class InvalidQueryError(ValueError):
    """The request asks for something the API does not offer; the message says what to change."""


class SearchQuery(BaseModel):
    """What to look for, how many files to return and which files qualify."""

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)

    q: str = Field(min_length=1, max_length=MAX_QUERY_CHARS)
    k: int = Field(default=10, ge=1, le=MAX_K)
    mime_type: str | None = Field(default=None, max_length=255)
    folder: str | None = Field(default=None, max_length=255)
    modified_after: datetime | None = None
    modified_before: datetime | None = None

    @field_validator("mime_type", "folder", "modified_after", "modified_before", mode="before")
    @classmethod
    def _blank_is_absent(cls, value: Any) -> Any:
        # An empty form field means "no filter", not "files whose mime type is empty".
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("modified_after", "modified_before")
    @classmethod
    def _naive_is_utc(cls, value: datetime | None) -> datetime | None:
        return value.replace(tzinfo=UTC) if value and value.tzinfo is None else value

    @model_validator(mode="after")
    def _range_is_ordered(self) -> SearchQuery:
        if self.modified_after and self.modified_before and self.modified_after >= self.modified_before:
            raise ValueError("modified_after must be earlier than modified_before")
        return self

    def filters(self) -> list[str]:
        """Name the filters in use, for logs."""
        names = ("mime_type", "folder", "modified_after", "modified_before")
        return [name for name in names if getattr(self, name) is not None]


def parse_query(data: Mapping[str, Any]) -> SearchQuery:
    """Validate a request, or raise InvalidQueryError naming each field at fault."""
    try:
        return SearchQuery.model_validate(dict(data))
    except ValidationError as exc:
        raise InvalidQueryError("; ".join(_describe(error) for error in exc.errors())) from None


def _describe(error: Any) -> str:
    field = ".".join(str(part) for part in error["loc"])
    if error["type"] == "extra_forbidden":
        return f"{field}: unknown field; use q, k, mime_type, folder, modified_after, modified_before"
    if field in ("modified_after", "modified_before"):
        return f"{field}: expected an ISO 8601 date or time such as 2024-05-01 or 2024-05-01T12:00:00Z"
    if field == "k":
        return f"k: expected a whole number from 1 to {MAX_K}"
    if field == "q":
        return f"q: expected the text to search for, 1 to {MAX_QUERY_CHARS} characters"
    message = str(error["msg"]).removeprefix("Value error, ")
    return f"{field}: {message}" if field else message
