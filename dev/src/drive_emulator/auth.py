"""An OAuth 2.0 token endpoint for service-account keys, and bearer checks on the Google APIs.

A key file whose `token_uri` points at the emulator's /token lets tests run the real credential
path (signed JWT assertion, subject for domain-wide delegation, bearer header) without Google.
A request whose token was granted for a subject is answered as that user; a token without one as
the service account itself (its `client_email`); a request without a token, when the emulator
does not demand one, as an all-seeing caller.
"""

from __future__ import annotations

import base64
import json
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from aiohttp import web

from drive_emulator.resources import API_PREFIXES, google_error

JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
TOKEN_SECONDS = 3600


@dataclass(frozen=True)
class Grant:
    """An access token and the claims of the assertion that earned it."""

    access_token: str
    issuer: str
    subject: str | None
    scope: str

    @property
    def acting_as(self) -> str:
        """The address requests with this token act as: the subject, else the service account."""
        return (self.subject or self.issuer).lower()


def anyone(_: str) -> bool:
    return True


class Tokens:
    """The tokens issued so far, whether the API demands one, and whom delegation may act as."""

    def __init__(self, required: bool, admits: Callable[[str], bool] = anyone) -> None:
        self.required = required
        self.admits = admits  # False for a subject delegation must refuse (unknown, suspended)
        self.grants: dict[str, Grant] = {}

    def issue(self, claims: dict[str, Any]) -> Grant:
        if claims.get("sub") and not self.admits(str(claims["sub"])):
            raise ValueError("Invalid email or User ID")
        grant = Grant(
            f"ya29.emulator-{secrets.token_urlsafe(16)}", claims["iss"], claims.get("sub"), claims["scope"]
        )
        self.grants[grant.access_token] = grant
        return grant


TOKENS = web.AppKey("tokens", Tokens)
routes = web.RouteTableDef()


def jwt_claims(assertion: str) -> dict[str, Any]:
    """Read a JWT's claims; the signature is not checked, as nothing here is secret."""
    payload = assertion.split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    if not isinstance(claims, dict):
        raise ValueError("claims must be an object")
    return claims


def service_account_key(path: Path, token_uri: str) -> Path:
    """Write a service-account key file with a fresh RSA key whose tokens come from `token_uri`."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    account = {
        "type": "service_account",
        "project_id": "drive-index-dev",
        "private_key_id": "emulator-key",
        "private_key": pem.decode(),
        "client_email": "indexer@drive-index-dev.iam.gserviceaccount.com",
        "client_id": "1234567890",
        "token_uri": token_uri,
    }
    path.write_text(json.dumps(account))
    return path


@routes.post("/token")
async def token(request: web.Request) -> web.Response:
    form = await request.post()
    try:
        if form.get("grant_type") != JWT_BEARER:
            raise ValueError("unsupported grant_type")
        grant = request.app[TOKENS].issue(jwt_claims(str(form["assertion"])))
    except (KeyError, IndexError, ValueError) as exc:
        return web.json_response({"error": "invalid_grant", "error_description": str(exc)}, status=400)
    return web.json_response(
        {"access_token": grant.access_token, "expires_in": TOKEN_SECONDS, "token_type": "Bearer"}
    )


@routes.get("/control/tokens")
async def list_tokens(request: web.Request) -> web.Response:
    return web.json_response([asdict(grant) for grant in request.app[TOKENS].grants.values()])


def grant_of(request: web.Request) -> Grant | None:
    """The grant of the request's bearer token, if it carries one the emulator issued."""
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    return request.app[TOKENS].grants.get(value) if scheme.lower() == "bearer" else None


def caller(request: web.Request) -> str | None:
    """The address a request acts as; None for the all-seeing caller (no token)."""
    grant = grant_of(request)
    return grant.acting_as if grant is not None else None


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def require_bearer(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Refuse API calls without an issued token (when told to) or acting as a user gone since."""
    tokens = request.app[TOKENS]
    if request.path.startswith(API_PREFIXES):
        grant = grant_of(request)
        lapsed = grant is not None and grant.subject is not None and not tokens.admits(grant.subject)
        if lapsed or (tokens.required and grant is None):
            return google_error(401, "authError", "Invalid Credentials", location="Authorization")
    return await handler(request)
