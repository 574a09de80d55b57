"""Establish who is asking, in one order, for every request that returns file data.

A trusted proxy's headers come first (the proxy already signed the caller in), then Google IAP's
assertion, then an `Authorization: Bearer` API key or OIDC token. A credential that is presented
and does not verify is refused; it never falls back to anonymous access.
"""

from __future__ import annotations

from dataclasses import dataclass

import structlog
from aiohttp import web
from aiohttp.typedefs import Handler, Middleware
from multidict import CIMultiDictProxy

from search import proxies
from search.identity import (
    ANONYMOUS,
    AmbiguousIdentityError,
    AuthError,
    Caller,
    Identity,
    InvalidCredentialsError,
    MissingIdentityError,
)
from search.ports import ApiKeyStore, GroupDirectory
from search.tokens import TokenVerifier
from shared import access, apikeys
from shared.web import json_error

log = structlog.get_logger(__name__)

IAP_HEADER = "x-goog-iap-jwt-assertion"
# Each names the caller; sent twice, a proxy and a client may each have added one.
SINGLE_HEADERS = (proxies.EMAIL, proxies.GROUPS, "Authorization", IAP_HEADER)
CALLER = web.RequestKey("caller", Caller)


@dataclass(frozen=True)
class Authenticator:
    """The configured ways in; each is None when not configured."""

    proxies: proxies.TrustedProxies
    api_keys: ApiKeyStore
    oidc: TokenVerifier | None = None
    iap: TokenVerifier | None = None
    anonymous_public: bool = False

    async def identify(self, request: web.Request) -> Identity:
        """The verified identity of a request, ANONYMOUS where allowed, else AuthError."""
        _refuse_repeats(request.headers)
        forwarded = self.proxies.identity(request)
        if forwarded is not None:
            return forwarded
        assertion = request.headers.get(IAP_HEADER)
        if assertion and self.iap is not None:
            return await self.iap.verify(assertion)
        authorization = request.headers.get("Authorization")
        if authorization:
            return await self._bearer(authorization)
        if self.anonymous_public:
            return ANONYMOUS
        raise MissingIdentityError(self.how_to())

    async def _bearer(self, authorization: str) -> Identity:
        scheme, _, token = authorization.strip().partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise InvalidCredentialsError("Authorization must be `Bearer <API key or ID token>`")
        if apikeys.looks_like_key(token):
            return await self.api_keys.identity(token)
        if self.oidc is None:
            raise InvalidCredentialsError(
                "this service takes no OIDC tokens (SEARCH_OIDC_ISSUER is not set); "
                "use an API key from `drive-index apikey create`"
            )
        return await self.oidc.verify(token)

    def how_to(self) -> str:
        """Every way in that is configured, for the 401's detail."""
        ways = [
            "send `Authorization: Bearer <API key>` (an operator makes one with `drive-index apikey create`)"
        ]
        if self.oidc is not None:
            policy = self.oidc.policy
            ways.append(
                f"`Authorization: Bearer <ID token>` from {policy.issuer} for audience {policy.audience}"
            )
        if self.iap is not None:
            ways.append("come through Google IAP")
        if self.proxies.networks:
            ways.append("come through the sign-in proxy in front of this service")
        return "how to authenticate: " + "; or ".join(ways)


def _refuse_repeats(headers: CIMultiDictProxy[str]) -> None:
    for name in SINGLE_HEADERS:
        count = len(headers.getall(name, []))
        if count > 1:
            raise AmbiguousIdentityError(f"{name} was sent {count} times; send it once")


@dataclass(frozen=True)
class Gate:
    """Authentication and the directory: from a request to a caller with every group it holds."""

    authenticator: Authenticator
    directory: GroupDirectory

    async def caller(self, request: web.Request) -> Caller:
        identity = await self.authenticator.identify(request)
        groups = await self.directory.groups_of(identity.email, identity.groups)
        principals = tuple(access.principals(identity.email, groups))
        return Caller(identity, groups, principals, identity.email or f"anonymous@{request.remote}")


GATE = web.AppKey("gate", Gate)


def require_identity(public: frozenset[str]) -> Middleware:
    """Middleware: every route whose path is not in `public` answers only a verified caller."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        route = request.match_info
        resource = route.route.resource
        if route.http_exception is not None or resource is None or resource.canonical in public:
            return await handler(request)  # a public page, or no such route: let it 404/405
        try:
            request[CALLER] = await request.app[GATE].caller(request)
        except AuthError as exc:
            log.info(
                "identity.refused", path=request.path, peer=request.remote, error=exc.error, reason=exc.detail
            )
            return _refusal(exc)
        except Exception as exc:  # the database behind API keys or groups failed: try again later
            log.error("identity.failed", path=request.path, error=repr(exc))
            return json_error(
                503, "search unavailable", f"{type(exc).__name__}; retry shortly", {"Retry-After": "5"}
            )
        return await handler(request)

    return middleware


def _refusal(exc: AuthError) -> web.Response:
    headers = {"WWW-Authenticate": exc.www_authenticate} if exc.www_authenticate else {}
    if exc.status == 503:
        headers["Retry-After"] = "5"
    return json_error(exc.status, exc.error, exc.detail, headers)
