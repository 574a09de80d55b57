"""API keys for service callers: made by the CLI, stored as hashes, refused once revoked or expired."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime, timedelta

import pytest

from drive_index_cli import checks, cli, searching
from shared import apikeys

from .conftest import ON_BOTH

TEXT = "Payroll export for March."
QUERY = {"q": "payroll export", "k": "50"}


@pytest.fixture
async def payroll(corpus, domain: str) -> str:
    """A file only the payroll service account may read; returns that account's address."""
    robot = f"payroll-bot@{domain}"
    await corpus.add(
        "payroll", [TEXT], permissions=[{"type": "user", "role": "reader", "email_address": robot}]
    )
    await corpus.add("public-notes", [TEXT])
    return robot


async def found(client, corpus, token: str) -> tuple[int, list[str]]:
    response = await client.get("/search", params=QUERY, headers={"Authorization": f"Bearer {token}"})
    body = await response.json()
    return response.status, sorted(corpus.key(r["file_id"]) for r in body.get("results", []))


def test_expiry_takes_a_duration_or_a_date() -> None:
    now = datetime(2025, 1, 1, tzinfo=UTC)
    assert apikeys.parse_expiry("30d", now) == now + timedelta(days=30)
    assert apikeys.parse_expiry("12h", now) == now + timedelta(hours=12)
    assert apikeys.parse_expiry("2w", now) == now + timedelta(weeks=2)
    assert apikeys.parse_expiry("2025-03-01", now) == datetime(2025, 3, 1, tzinfo=UTC)
    assert apikeys.parse_expiry("2025-03-01T10:00:00+02:00", now) == datetime(2025, 3, 1, 8, tzinfo=UTC)
    for bad in ("soon", "-3d", "0d", "2024-12-31"):
        with pytest.raises(ValueError, match="--expires"):
            apikeys.parse_expiry(bad, now)


async def test_a_key_is_shown_once_and_stored_only_as_a_hash(pool, domain: str) -> None:
    key, token = await apikeys.create(pool, f"Bot@{domain}", groups=["Eng@Example.com"], description="ci")
    assert token.startswith(f"di_{key.id}_")
    assert key.email == f"bot@{domain}"
    assert key.groups == ("eng@example.com",)
    stored = await pool.fetchrow("SELECT * FROM api_keys WHERE id = $1", key.id)
    secret = token.split("_", 2)[2]
    assert secret.encode() not in bytes(stored["secret_sha256"])
    assert secret not in str(dict(stored))
    listed = [k for k in await apikeys.list_keys(pool) if k.id == key.id]
    assert listed == [key]
    assert secret not in repr(listed)

    verified = await apikeys.verify(pool, token)
    assert (verified.email, verified.groups) == (f"bot@{domain}", ("eng@example.com",))
    used = await pool.fetchval("SELECT last_used_at FROM api_keys WHERE id = $1", key.id)
    assert used is not None
    await apikeys.verify(pool, token)  # within a minute: not written again
    assert await pool.fetchval("SELECT last_used_at FROM api_keys WHERE id = $1", key.id) == used


async def test_wrong_revoked_and_expired_keys_are_refused(pool, domain: str) -> None:
    key, token = await apikeys.create(pool, f"bot@{domain}")
    for wrong in (
        token[:-1] + ("A" if token[-1] != "A" else "B"),
        "di_nosuchid_secret",
        "di_",
        "di_x",
        "abc",
    ):
        with pytest.raises(apikeys.ApiKeyError, match="unknown or wrong"):
            await apikeys.verify(pool, wrong)
    assert await apikeys.revoke(pool, key.id)
    assert not await apikeys.revoke(pool, "no-such-key")
    with pytest.raises(apikeys.ApiKeyError, match="revoked"):
        await apikeys.verify(pool, token)

    past = datetime.now(UTC) - timedelta(seconds=1)
    _, expired = await apikeys.create(pool, f"bot@{domain}", expires_at=past)
    with pytest.raises(apikeys.ApiKeyError, match="expired"):
        await apikeys.verify(pool, expired)
    with pytest.raises(ValueError, match="e-mail address"):
        await apikeys.create(pool, "not-an-address")


async def test_search_with_a_key_sees_what_its_account_may_read(
    make_client, api_keys, corpus, payroll
) -> None:
    client = await make_client(headers={})
    key_id, token = await api_keys.create(payroll)
    assert await found(client, corpus, token) == (200, ["payroll", "public-notes"])
    whoami = await (await client.get("/whoami", headers={"Authorization": f"Bearer {token}"})).json()
    assert (whoami["email"], whoami["authenticated_by"]) == (payroll, "api-key")

    tampered = token[:-2] + ("xx" if not token.endswith("xx") else "yy")
    assert await found(client, corpus, tampered) == (401, [])
    await api_keys.revoke(key_id)
    assert await found(client, corpus, token) == (401, [])

    _, expired = await api_keys.create(payroll, expires_at=datetime.now(UTC) - timedelta(minutes=1))
    response = await client.get("/search", params=QUERY, headers={"Authorization": f"Bearer {expired}"})
    assert response.status == 401
    body = await response.json()
    assert body["error"] == "invalid credentials"
    assert "expired" in body["detail"]


def test_the_cli_creates_lists_and_revokes_keys(postgres_dsn, monkeypatch, capsys, domain: str) -> None:
    monkeypatch.setenv("DATABASE_URL", postgres_dsn)

    def run(*argv: str) -> str:
        with pytest.raises(SystemExit) as exit_:
            cli.main(list(argv))
        assert exit_.value.code == 0
        return capsys.readouterr().out

    email = f"ci@{domain}"
    out = run(
        "apikey",
        "create",
        "--email",
        email,
        "--groups",
        "eng@example.com,ops@example.com",
        "--expires",
        "30d",
        "--description",
        "nightly export",
    )
    token = next(word for word in out.split() if word.startswith("di_"))
    key_id = token.split("_")[1]
    listing = run("apikey", "list")
    assert key_id in listing
    assert email in listing
    assert "nightly export" in listing
    assert token.split("_", 2)[2] not in listing
    assert "revoked" in run("apikey", "revoke", key_id)
    assert "revoked" in run("apikey", "list", "--all")

    with pytest.raises(SystemExit) as exit_:
        cli.main(["apikey", "create", "--email", email, "--expires", "someday"])
    assert exit_.value.code == 2
    assert "--expires" in capsys.readouterr().err


@ON_BOTH  # on PostgreSQL too: keys made as the CLI makes them, checked by the real adapter
async def test_the_search_cli_sends_its_key_and_explains_a_401(
    make_client, api_keys, payroll, monkeypatch, capsys
) -> None:
    client = await make_client(headers={})
    args = argparse.Namespace(query="payroll export", k=5, url=str(client.make_url("")))
    monkeypatch.delenv("DRIVE_INDEX_API_KEY", raising=False)
    with pytest.raises(checks.CheckFailedError) as refused:  # the CLI prints it and exits 1
        await searching.search_command(args)
    assert "DRIVE_INDEX_API_KEY is not set" in str(refused.value)
    assert "drive-index apikey create" in str(refused.value)

    _, token = await api_keys.create(payroll)
    monkeypatch.setenv("DRIVE_INDEX_API_KEY", token)
    assert await searching.search_command(args) == 0
    out = capsys.readouterr().out
    assert "Payroll" in out
