"""OIDC and IAP bearer tokens: signed by a local key, served by a local JWKS endpoint."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import jwt
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from search.tokens import JwksCache, TokenError

ISSUER = "https://issuer.test"
AUDIENCE = "drive-index-search"
IAP_ISSUER = "https://cloud.google.com/iap"
IAP_AUDIENCE = "/projects/123/global/backendServices/456"
TEXT = "Board minutes: the acquisition of Falcon Corp."
QUERY = {"q": "falcon acquisition", "k": "50"}


@dataclass
class Issuer:
    """An identity provider: its signing keys, its JWKS endpoint and how often it was read."""

    url: str = ""
    keys: dict[str, Any] = field(default_factory=dict)  # kid -> private key
    published: set[str] = field(default_factory=set)
    fetches: int = 0

    def add_key(self, kind: str = "rsa", publish: bool = True) -> str:
        kid = f"{kind}-{uuid.uuid4().hex[:6]}"
        self.keys[kid] = (
            rsa.generate_private_key(public_exponent=65537, key_size=2048)
            if kind == "rsa"
            else ec.generate_private_key(ec.SECP256R1())
        )
        if publish:
            self.published.add(kid)
        return kid

    def jwks(self) -> dict[str, Any]:
        keys = []
        for kid in sorted(self.published):
            jwk = json.loads(
                jwt.algorithms.get_default_algorithms()[_alg(kid)].to_jwk(self.keys[kid].public_key())
            )
            keys.append({**jwk, "kid": kid, "use": "sig"})
        return {"keys": keys}

    def sign(self, claims: dict[str, Any], kid: str, alg: str | None = None) -> str:
        return jwt.encode(claims, self.keys[kid], algorithm=alg or _alg(kid), headers={"kid": kid})


def _alg(kid: str) -> str:
    return "RS256" if kid.startswith("rsa") else "ES256"


def claims(email: str, **extra: Any) -> dict[str, Any]:
    now = int(time.time())
    base = {"iss": ISSUER, "aud": AUDIENCE, "sub": "1234", "iat": now, "exp": now + 300}
    return {**base, "email": email, "email_verified": True, **extra}


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unsigned(payload: dict[str, Any]) -> str:
    """A token with `alg: none` and no signature."""
    header = _b64(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    return f"{header}.{_b64(json.dumps(payload).encode())}."


def hs256_with_public_key(issuer: Issuer, kid: str, payload: dict[str, Any]) -> str:
    """The classic confusion attack: HMAC-sign with the issuer's public key as the secret."""
    public_pem = (
        issuer.keys[kid]
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    header = _b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": kid}).encode())
    body = _b64(json.dumps(payload).encode())
    signature = hmac.new(public_pem, f"{header}.{body}".encode(), hashlib.sha256).digest()
    return f"{header}.{body}.{_b64(signature)}"


@pytest.fixture
async def issuer() -> AsyncIterator[Issuer]:
    state = Issuer()

    async def jwks(_: web.Request) -> web.Response:
        state.fetches += 1
        return web.json_response(state.jwks())

    app = web.Application()
    app.router.add_get("/jwks", jwks)
    server = TestServer(app, host="127.0.0.1", port=0)
    await server.start_server()
    state.url = str(server.make_url("/jwks"))
    yield state
    await server.close()


@pytest.fixture
async def secret_file(corpus, domain: str) -> str:
    """A file shared with one user of the test's domain; returns that user's address."""
    owner = f"dana@{domain}"
    await corpus.add(
        "board-minutes", [TEXT], permissions=[{"type": "user", "role": "reader", "email_address": owner}]
    )
    return owner


@pytest.fixture
async def oidc_client(make_client, issuer: Issuer):  # type: ignore[no-untyped-def]
    return await make_client(
        headers={},
        SEARCH_OIDC_ISSUER=ISSUER,
        SEARCH_OIDC_AUDIENCE=AUDIENCE,
        SEARCH_OIDC_JWKS_URL=issuer.url,
        SEARCH_ANONYMOUS="public",  # a refused token must not fall back to anonymous either
    )


async def found(client, corpus, headers: dict[str, str]) -> tuple[int, list[str], dict[str, Any]]:
    response = await client.get("/search", params=QUERY, headers=headers)
    body = await response.json()
    return response.status, [corpus.key(r["file_id"]) for r in body.get("results", [])], body


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.mark.parametrize("kind", ["rsa", "ec"])
async def test_a_valid_token_finds_the_callers_files(oidc_client, issuer, corpus, secret_file, kind) -> None:
    kid = issuer.add_key(kind)
    token = issuer.sign(claims(secret_file.upper(), groups=["Eng@Example.com"]), kid)
    status, keys, _ = await found(oidc_client, corpus, bearer(token))
    assert (status, keys) == (200, ["board-minutes"])
    whoami = await (await oidc_client.get("/whoami", headers=bearer(token))).json()
    assert whoami["email"] == secret_file
    assert whoami["groups"] == ["eng@example.com"]
    assert whoami["authenticated_by"] == "oidc"


FORGERIES = {
    "expired": lambda i, k, e: i.sign(claims(e, exp=int(time.time()) - 600), k),
    "no expiry": lambda i, k, e: i.sign({key: v for key, v in claims(e).items() if key != "exp"}, k),
    "wrong audience": lambda i, k, e: i.sign(claims(e, aud="another-service"), k),
    "wrong issuer": lambda i, k, e: i.sign(claims(e, iss="https://evil.test"), k),
    "alg none": lambda i, k, e: unsigned(claims(e)),
    "HS256 with the public key": lambda i, k, e: hs256_with_public_key(i, k, claims(e)),
    "unknown kid": lambda i, k, e: i.sign(claims(e), i.add_key("rsa", publish=False)),
    "known kid, other key": lambda i, k, e: jwt.encode(
        claims(e), rsa.generate_private_key(public_exponent=65537, key_size=2048), "RS256", {"kid": k}
    ),
    "email not verified": lambda i, k, e: i.sign(claims(e, email_verified=False), k),
    "email_verified missing": lambda i, k, e: i.sign(
        {key: v for key, v in claims(e).items() if key != "email_verified"}, k
    ),
    "garbage": lambda i, k, e: "not.a.token",
}


@pytest.mark.parametrize("forgery", list(FORGERIES))
async def test_forged_tokens_are_refused(oidc_client, issuer, corpus, secret_file, forgery: str) -> None:
    kid = issuer.add_key("rsa")
    token = FORGERIES[forgery](issuer, kid, secret_file)
    status, keys, body = await found(oidc_client, corpus, bearer(token))
    assert status == 401, forgery
    assert keys == []
    assert body["error"] == "invalid credentials"
    assert "board-minutes" not in json.dumps(body)


async def test_tokens_are_refused_when_no_issuer_is_configured(
    make_client, issuer, corpus, secret_file
) -> None:
    client = await make_client(headers={})
    token = issuer.sign(claims(secret_file), issuer.add_key())
    response = await client.get("/search", params=QUERY, headers=bearer(token))
    assert response.status == 401
    assert "SEARCH_OIDC_ISSUER" in (await response.json())["detail"]


async def test_a_flood_of_unknown_kids_does_not_flood_the_issuer(oidc_client, issuer, corpus) -> None:
    kid = issuer.add_key()
    token = issuer.sign(claims("a@b.example"), kid)
    assert (await oidc_client.get("/whoami", headers=bearer(token))).status == 200
    assert issuer.fetches == 1
    for _ in range(20):
        token = issuer.sign(claims("a@b.example"), issuer.add_key(publish=False))
        assert (await oidc_client.get("/whoami", headers=bearer(token))).status == 401
    assert issuer.fetches == 1  # read a moment ago: an unknown kid waits for the next window


async def test_the_key_set_is_read_again_for_a_new_kid_at_most_every_30_s(issuer) -> None:
    now = [1000.0]
    old, new = issuer.add_key(), issuer.add_key(publish=False)
    async with JwksCache(issuer.url, min_refresh_seconds=30, clock=lambda: now[0]) as cache:
        assert (await cache.key(old, "RS256")).algorithm_name == "RS256"
        assert issuer.fetches == 1
        issuer.published.add(new)  # the issuer rotates its keys
        now[0] += 5
        with pytest.raises(TokenError, match="unknown signing key"):
            await cache.key(new, "RS256")
        assert issuer.fetches == 1
        now[0] += 30
        assert (await cache.key(new, "RS256")).algorithm_name == "RS256"
        assert issuer.fetches == 2
        for _ in range(5):  # made-up kids: one read per window, however many come
            now[0] += 10
            with pytest.raises(TokenError):
                await cache.key(f"bogus-{uuid.uuid4()}", "RS256")
        assert issuer.fetches == 3
        with pytest.raises(TokenError, match="algorithm"):
            await cache.key(new, "ES256")
        now[0] += 3600
        issuer.published.discard(old)  # withdrawn keys stop working once the set is stale
        with pytest.raises(TokenError, match="unknown signing key"):
            await cache.key(old, "RS256")


def iap_claims(email: str, **extra: Any) -> dict[str, Any]:
    now = int(time.time())
    return {
        "iss": IAP_ISSUER,
        "aud": IAP_AUDIENCE,
        "sub": "accounts.google.com:1",
        "iat": now,
        "exp": now + 300,
        "email": email,
        **extra,
    }


async def test_google_iap_assertions_are_accepted_only_when_configured(
    make_client, issuer, corpus, secret_file
) -> None:
    kid = issuer.add_key("ec")
    assertion = {"x-goog-iap-jwt-assertion": issuer.sign(iap_claims(secret_file), kid)}
    iap = await make_client(headers={}, SEARCH_IAP_AUDIENCE=IAP_AUDIENCE, SEARCH_IAP_JWKS_URL=issuer.url)
    status, keys, _ = await found(iap, corpus, assertion)
    assert (status, keys) == (200, ["board-minutes"])
    assert (await (await iap.get("/whoami", headers=assertion)).json())["authenticated_by"] == "iap"

    for forged in (
        issuer.sign(iap_claims(secret_file, aud="/projects/999/global/backendServices/1"), kid),
        issuer.sign(iap_claims(secret_file, iss=ISSUER), kid),
        issuer.sign(iap_claims(secret_file), issuer.add_key("rsa")),  # IAP signs with ES256 only
        unsigned(iap_claims(secret_file)),
    ):
        status, keys, _ = await found(iap, corpus, {"x-goog-iap-jwt-assertion": forged})
        assert (status, keys) == (401, [])

    unconfigured = await make_client(headers={}, SEARCH_IAP_AUDIENCE="")
    status, keys, _ = await found(unconfigured, corpus, assertion)
    assert (status, keys) == (401, [])
