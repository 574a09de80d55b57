"""Signed bearer tokens: OIDC ID tokens and Google IAP assertions, checked against the issuer's JWKS."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass
from types import TracebackType
from typing import Any

import aiohttp
import jwt
import structlog

from search.identity import (
    Identity,
    IdentityUnavailableError,
    InvalidCredentialsError,
    Method,
    require_address,
)

log = structlog.get_logger(__name__)

# Public-key algorithms only: `none` and HMAC (whose "secret" would be the public key) never verify.
OIDC_ALGORITHMS = frozenset({"RS256", "RS384", "RS512", "ES256", "ES384", "PS256"})
IAP_ALGORITHMS = frozenset({"ES256"})
IAP_ISSUER = "https://cloud.google.com/iap"
LEEWAY_SECONDS = 30  # clock skew allowed on exp/nbf/iat
# A token naming an unknown key may mean the issuer rotated its keys: read the set again, but
# at most this often, so a flood of made-up key ids cannot turn into a flood of requests upstream.
MIN_REFRESH_SECONDS = 30.0
MAX_AGE_SECONDS = 3600.0  # keys the issuer withdrew stop working within this long


class TokenError(InvalidCredentialsError):
    """A token that does not verify; the message says why."""


class JwksCache:
    """An issuer's signing keys by key id, read on first use and again when stale or a kid is new."""

    def __init__(
        self,
        url: str,
        *,
        min_refresh_seconds: float = MIN_REFRESH_SECONDS,
        max_age_seconds: float = MAX_AGE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.url, self.min_refresh, self.max_age, self.clock = (
            url,
            min_refresh_seconds,
            max_age_seconds,
            clock,
        )
        self._keys: dict[str, dict[str, Any]] = {}
        self._read_at: float | None = None  # the last attempt, successful or not
        self._lock = asyncio.Lock()
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> JwksCache:
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5))
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._session is not None:
            await self._session.close()

    async def key(self, kid: str | None, algorithm: str) -> jwt.PyJWK:
        """The key that must have signed a token with this kid and alg; TokenError if none."""
        if self._older_than(self.max_age):
            await self._refresh(self.max_age)
        jwk = self._find(kid)
        if jwk is None and self._older_than(self.min_refresh):
            await self._refresh(self.min_refresh)
            jwk = self._find(kid)
        if jwk is None:
            raise TokenError("the token is signed with an unknown signing key")
        if jwk.get("alg", algorithm) != algorithm:
            raise TokenError(f"the token's algorithm {algorithm} is not its key's ({jwk['alg']})")
        try:
            return jwt.PyJWK(jwk, algorithm=algorithm)
        except jwt.PyJWTError:
            raise TokenError(f"the token's algorithm {algorithm} does not fit its key") from None

    def _find(self, kid: str | None) -> dict[str, Any] | None:
        if kid is None and len(self._keys) == 1:  # issuers with one key may leave kid out
            return next(iter(self._keys.values()))
        return self._keys.get(kid) if kid is not None else None

    def _older_than(self, seconds: float) -> bool:
        return self._read_at is None or self.clock() - self._read_at >= seconds

    async def _refresh(self, seconds: float) -> None:
        async with self._lock:
            if not self._older_than(seconds):  # another request read them while this one waited
                return
            self._read_at = self.clock()
            try:
                self._keys = await self._fetch()
            except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
                log.warning("jwks.unreadable", url=self.url, error=repr(exc), cached_keys=len(self._keys))
                if not self._keys:
                    raise IdentityUnavailableError(
                        "the identity provider's keys cannot be read; retry shortly"
                    ) from None

    async def _fetch(self) -> dict[str, dict[str, Any]]:
        assert self._session is not None, "use JwksCache as an async context manager"
        async with self._session.get(self.url) as response:
            response.raise_for_status()
            body = await response.json(content_type=None)
        keys = body.get("keys") if isinstance(body, dict) else None
        if not isinstance(keys, list):
            raise ValueError("the JWKS document has no list of keys")
        found = {k["kid"]: k for k in keys if isinstance(k, dict) and isinstance(k.get("kid"), str)}
        log.info("jwks.read", url=self.url, keys=len(found))
        return found


@dataclass(frozen=True)
class TokenPolicy:
    """What a token must say to be believed."""

    issuer: str
    audience: str
    algorithms: Collection[str]
    method: Method
    # OIDC providers vouch for an address only with email_verified; IAP's addresses are Google's own.
    require_verified_email: bool = True


class TokenVerifier:
    """Turn a signed token into an identity, or refuse it with TokenError."""

    def __init__(self, policy: TokenPolicy, keys: JwksCache) -> None:
        self.policy, self.keys = policy, keys

    async def verify(self, token: str) -> Identity:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise TokenError("the bearer token is not a JWT") from None
        algorithm, kid = header.get("alg"), header.get("kid")
        if not isinstance(algorithm, str) or algorithm not in self.policy.algorithms:
            allowed = ", ".join(sorted(self.policy.algorithms))
            raise TokenError(f"tokens signed with {algorithm!s:.20} are not accepted; expected {allowed}")
        key = await self.keys.key(kid if isinstance(kid, str) else None, algorithm)
        return self._identity(self._claims(token, key, algorithm))

    def _claims(self, token: str, key: jwt.PyJWK, algorithm: str) -> dict[str, Any]:
        try:
            return jwt.decode(
                token,
                key,
                algorithms=[algorithm],
                audience=self.policy.audience,
                issuer=self.policy.issuer,
                leeway=LEEWAY_SECONDS,
                options={"require": ["exp", "iss", "aud"], "enforce_minimum_key_length": True},
            )
        except jwt.ExpiredSignatureError:
            raise TokenError("the token has expired") from None
        except jwt.InvalidAudienceError:
            raise TokenError("the token is for another audience") from None
        except jwt.InvalidIssuerError:
            raise TokenError("the token is from another issuer") from None
        except jwt.MissingRequiredClaimError as exc:
            raise TokenError(f"the token has no {exc.claim!r} claim") from None
        except jwt.PyJWTError as exc:
            raise TokenError(f"the token does not verify ({type(exc).__name__})") from None

    def _identity(self, claims: dict[str, Any]) -> Identity:
        email = claims.get("email")
        if not isinstance(email, str):
            raise TokenError("the token has no e-mail claim")
        if self.policy.require_verified_email and claims.get("email_verified") not in (True, "true"):
            raise TokenError("the token's e-mail is not verified (email_verified is not true)")
        groups = claims.get("groups")
        names = [g for g in groups if isinstance(g, str)] if isinstance(groups, list) else []
        subject = claims.get("sub")
        return Identity.of(
            require_address(email, "the token's e-mail"),
            names,
            self.policy.method,
            subject if isinstance(subject, str) else None,
        )
