"""What a source id names: a user's My Drive, a shared drive, or the configured identity's feed.

- `user:<email>`: what that user sees (their My Drive and what is shared with them), read by
  impersonating them through domain-wide delegation;
- `drive:<id>`: one shared drive, read as GOOGLE_SUBJECT, or as `drive:<id>?as=<member email>`
  when that account is not a member;
- any other id (`default`, say): the configured identity's whole change feed.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from shared.errors import PermanentError

USER_PREFIX = "user:"
DRIVE_PREFIX = "drive:"
AS_MEMBER = "?as="


class InvalidSourceError(PermanentError, ValueError):
    """A source id of no known form: a message naming it is bad, never worth retrying."""


class SourceKind(StrEnum):
    USER = "user"
    DRIVE = "drive"
    FEED = "feed"  # the configured identity's whole feed, as before sources had kinds


@dataclass(frozen=True)
class SourceRef:
    """A parsed source id: whom to act as (None = the configured subject) and which drive to scope to."""

    id: str
    kind: SourceKind
    subject: str | None = None
    drive_id: str | None = None

    @classmethod
    def parse(cls, source_id: str) -> SourceRef:
        """Parse a source id; raise InvalidSourceError naming the expected form when it is malformed."""
        if source_id.startswith(USER_PREFIX):
            email = source_id.removeprefix(USER_PREFIX)
            if not _is_email(email):
                raise InvalidSourceError(
                    f"{source_id!r}: expected user:<email>, e.g. user:alice@corp.example"
                )
            # Addresses are case-insensitive: one user is one source, whatever the spelling.
            return cls(USER_PREFIX + email.lower(), SourceKind.USER, subject=email.lower())
        if source_id.startswith(DRIVE_PREFIX):
            drive_id, _, member = source_id.removeprefix(DRIVE_PREFIX).partition(AS_MEMBER)
            if not drive_id or any(c in drive_id for c in "/?@ ") or (member and not _is_email(member)):
                raise InvalidSourceError(
                    f"{source_id!r}: expected drive:<shared drive id>[?as=<member email>]"
                )
            return cls(source_id, SourceKind.DRIVE, subject=member.lower() or None, drive_id=drive_id)
        if not source_id.strip():
            raise InvalidSourceError("a source id must not be empty")
        return cls(source_id, SourceKind.FEED)

    @classmethod
    def user(cls, email: str) -> SourceRef:
        """The source of one user's My Drive."""
        return cls.parse(USER_PREFIX + email)

    @classmethod
    def drive(cls, drive_id: str) -> SourceRef:
        """The source of one shared drive."""
        return cls.parse(DRIVE_PREFIX + drive_id)

    @property
    def identity(self) -> tuple[str | None, str | None]:
        """What a Drive client for this source differs by: (subject, drive id)."""
        return self.subject, self.drive_id


def _is_email(value: str) -> bool:
    local, at, domain = value.partition("@")
    return bool(local and at and "." in domain and " " not in value and "@" not in domain)
