"""Who is asking: a verified identity, the caller it resolves to, and the ways to be refused."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import ClassVar, Literal

from shared.access import domain_of

Method = Literal["proxy", "oidc", "iap", "api-key", "anonymous"]


@dataclass(frozen=True)
class Identity:
    """A caller as one way of authenticating vouched for it, before the directory is asked."""

    email: str | None
    groups: tuple[str, ...]
    method: Method
    # Which credential: an API key's id or a token's subject, for the audit line.
    credential: str | None = None

    @classmethod
    def of(
        cls, email: str | None, groups: Iterable[str], method: Method, credential: str | None = None
    ) -> Identity:
        """Normalise as Drive compares addresses: trimmed, lower-cased, without blanks or repeats."""
        clean = sorted({g.strip().lower() for g in groups if g.strip()})
        return cls(email.strip().lower() if email else None, tuple(clean), method, credential)


ANONYMOUS = Identity(None, (), "anonymous")


@dataclass(frozen=True)
class Caller:
    """A verified identity with every group it holds (its own and the directory's, nested)."""

    identity: Identity
    groups: tuple[str, ...]
    principals: tuple[str, ...]
    # Whose bucket a search is counted in: the e-mail, or the peer for anonymous callers.
    rate_key: str

    @property
    def email(self) -> str | None:
        return self.identity.email

    @property
    def method(self) -> Method:
        return self.identity.method


class AuthError(Exception):
    """A request whose identity cannot be established; the response says what to do."""

    status: ClassVar[int] = 401
    error: ClassVar[str] = "authentication required"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail

    @property
    def www_authenticate(self) -> str | None:
        return 'Bearer realm="drive-index"' if self.status == 401 else None


class MissingIdentityError(AuthError):
    """No credential at all (and anonymous access is off)."""


class InvalidCredentialsError(AuthError):
    """A credential was presented and is not valid: never fall back to anonymous."""

    error = "invalid credentials"

    @property
    def www_authenticate(self) -> str:
        return 'Bearer realm="drive-index", error="invalid_token"'


class AmbiguousIdentityError(AuthError):
    """The request names its caller more than once: which one would be a guess."""

    status = 400
    error = "ambiguous identity"


class IdentityUnavailableError(AuthError):
    """Credentials cannot be checked right now (the issuer's keys are unreachable)."""

    status = 503
    error = "identity provider unavailable"


def require_address(email: str | None, source: str) -> str:
    """Return a usable e-mail address, or refuse naming where it came from."""
    address = (email or "").strip().lower()
    if domain_of(address) is None:
        raise InvalidCredentialsError(f"{source} is not an e-mail address")
    return address
