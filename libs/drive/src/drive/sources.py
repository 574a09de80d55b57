"""What a source id names: a user's My Drive, a shared drive, or the configured identity's feed.

- `user:<email>`: what that user sees (their My Drive and what is shared with them), read by
  impersonating them through domain-wide delegation;
- `drive:<id>`: one shared drive, read as GOOGLE_SUBJECT, or as `drive:<id>?as=<member email>`
  when that account is not a member;
- `folder:<id>`: one folder and everything below it, read from the change feed of GOOGLE_SUBJECT
  (or of `folder:<id>?as=<email>`), keeping only the files inside it;
- any other id (`default`, say): the configured identity's whole change feed.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from shared.errors import PermanentError

USER_PREFIX = "user:"
DRIVE_PREFIX = "drive:"
FOLDER_PREFIX = "folder:"
AS_MEMBER = "?as="


class InvalidSourceError(PermanentError, ValueError):
    """A source id of no known form: a message naming it is bad, never worth retrying."""


class SourceKind(StrEnum):
    USER = "user"
    DRIVE = "drive"
    FOLDER = "folder"
    FEED = "feed"  # the configured identity's whole feed, as before sources had kinds


@dataclass(frozen=True)
class SourceRef:
    """A parsed source id: whom to act as (None = the configured subject), which drive to scope to,
    and which folder's subtree to keep."""

    id: str
    kind: SourceKind
    subject: str | None = None
    drive_id: str | None = None
    folder_id: str | None = None

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
        for prefix, kind in ((DRIVE_PREFIX, SourceKind.DRIVE), (FOLDER_PREFIX, SourceKind.FOLDER)):
            if source_id.startswith(prefix):
                return cls._scoped(source_id, prefix, kind)
        if not source_id.strip():
            raise InvalidSourceError("a source id must not be empty")
        return cls(source_id, SourceKind.FEED)

    @classmethod
    def _scoped(cls, source_id: str, prefix: str, kind: SourceKind) -> SourceRef:
        """Parse `drive:<id>[?as=<email>]` or `folder:<id>[?as=<email>]`."""
        item, _, member = source_id.removeprefix(prefix).partition(AS_MEMBER)
        if not item or any(c in item for c in "/?@ ") or (member and not _is_email(member)):
            what = "shared drive id" if kind is SourceKind.DRIVE else "folder id"
            raise InvalidSourceError(f"{source_id!r}: expected {prefix}<{what}>[?as=<member email>]")
        canonical = prefix + item + (AS_MEMBER + member.lower() if member else "")
        where = {"drive_id": item} if kind is SourceKind.DRIVE else {"folder_id": item}
        return cls(canonical, kind, subject=member.lower() or None, **where)

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
