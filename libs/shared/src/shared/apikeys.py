"""API keys for service callers: `di_<id>_<secret>`, shown once, stored as a SHA-256 of the secret.

The id is public (it names the key in `apikey list` and in logs); the secret is 256 random bits,
so a plain hash is enough: there is nothing to guess that a slow hash would protect.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import asyncpg

from shared.access import domain_of

PREFIX = "di_"
# last_used_at is a hint for operators, not an audit trail: write it at most once a minute.
LAST_USED_RESOLUTION = timedelta(minutes=1)
_DURATION = re.compile(r"^(\d+)([hdw])$")
_UNITS = {"h": "hours", "d": "days", "w": "weeks"}


class ApiKeyError(ValueError):
    """A presented key is not valid; the message says which way (never what the secret was)."""


@dataclass(frozen=True)
class ApiKey:
    """What is known about a key; never its secret."""

    id: str
    email: str
    groups: tuple[str, ...]
    description: str | None
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None

    def state(self, now: datetime) -> str:
        """active, expired or revoked."""
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and self.expires_at <= now:
            return "expired"
        return "active"


def looks_like_key(token: str) -> bool:
    """Tell an API key from a JWT (whose header always starts `eyJ`)."""
    return token.startswith(PREFIX)


def digest(secret: str) -> bytes:
    return hashlib.sha256(secret.encode()).digest()


def parse_expiry(value: str, now: datetime | None = None) -> datetime:
    """Read `--expires`: a duration (12h, 30d, 2w) from now, or an ISO date or time (UTC if no zone)."""
    now = now or datetime.now(UTC)
    duration = _DURATION.match(value.strip())
    if duration:
        amount = int(duration.group(1))
        expires = now + timedelta(**{_UNITS[duration.group(2)]: amount})
    else:
        try:
            expires = datetime.fromisoformat(value.strip())
        except ValueError:
            expected = "a duration such as 12h, 30d or 2w, or a date such as 2025-12-31"
            raise ValueError(f"--expires {value!r}: expected {expected}") from None
        expires = expires.replace(tzinfo=UTC) if expires.tzinfo is None else expires.astimezone(UTC)
    if expires <= now:
        raise ValueError(f"--expires {value!r} is not in the future")
    return expires


async def create(
    pool: asyncpg.Pool,
    email: str,
    groups: Iterable[str] = (),
    *,
    expires_at: datetime | None = None,
    description: str | None = None,
) -> tuple[ApiKey, str]:
    """Make a key for `email`; return it and the token, which cannot be read back later."""
    email = email.strip().lower()
    if domain_of(email) is None:
        raise ValueError(f"--email {email!r} is not an e-mail address")
    key_id, secret = secrets.token_hex(6), secrets.token_urlsafe(32)
    row = await pool.fetchrow(
        """INSERT INTO api_keys (id, secret_sha256, email, groups, description, expires_at)
           VALUES ($1, $2, $3, $4, $5, $6) RETURNING *""",
        key_id,
        digest(secret),
        email,
        sorted({g.strip().lower() for g in groups if g.strip()}),
        description,
        expires_at,
    )
    return _key(row), f"{PREFIX}{key_id}_{secret}"


async def list_keys(pool: asyncpg.Pool, *, include_inactive: bool = True) -> list[ApiKey]:
    """Every key, newest first."""
    rows = await pool.fetch("SELECT * FROM api_keys ORDER BY created_at DESC, id")
    keys = [_key(row) for row in rows]
    if include_inactive:
        return keys
    now = datetime.now(UTC)
    return [key for key in keys if key.state(now) == "active"]


async def revoke(pool: asyncpg.Pool, key_id: str) -> bool:
    """Revoke a key at once; False when no active key has that id."""
    status = await pool.execute(
        "UPDATE api_keys SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL", key_id
    )
    return bool(status.endswith(" 1"))


async def verify(pool: asyncpg.Pool, token: str) -> ApiKey:
    """Return the key a token names when its secret matches and it is active; else ApiKeyError."""
    _, _, rest = token.partition(PREFIX)
    key_id, _, secret = rest.partition("_")
    row = None
    if token.startswith(PREFIX) and key_id and secret:
        row = await pool.fetchrow("SELECT * FROM api_keys WHERE id = $1", key_id)
    # One answer for "no such id" and "wrong secret": ids are not secret, but say nothing anyway.
    if row is None or not hmac.compare_digest(bytes(row["secret_sha256"]), digest(secret)):
        raise ApiKeyError("unknown or wrong API key")
    key = _key(row)
    now = datetime.now(UTC)
    if key.state(now) != "active":
        raise ApiKeyError(f"API key {key.id} is {key.state(now)}; ask for a new one")
    if key.last_used_at is None or now - key.last_used_at >= LAST_USED_RESOLUTION:
        await pool.execute("UPDATE api_keys SET last_used_at = now() WHERE id = $1", key.id)
    return key


def _key(row: asyncpg.Record) -> ApiKey:
    return ApiKey(
        id=row["id"],
        email=row["email"],
        groups=tuple(row["groups"]),
        description=row["description"],
        created_at=row["created_at"],
        expires_at=row["expires_at"],
        revoked_at=row["revoked_at"],
        last_used_at=row["last_used_at"],
    )
