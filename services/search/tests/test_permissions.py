"""Each caller finds exactly what Drive lets them find, and nobody finds anything unverified.

Who the caller is and which groups they hold, through the app; what the index does with their
principals is held to PostgreSQL's behaviour in test_index_contract.py.
"""

from __future__ import annotations

import logging

import pytest
from multidict import CIMultiDict

from .conftest import ON_BOTH
from .samples import NARROWINGS, add_team_folder, narrowed, share_every_way
from .samples import OUTAGE_QUERY as QUERY


@pytest.fixture
async def seeded(corpus, domain: str, member_of) -> dict[str, str]:
    """A file for each way of sharing, and a directory where sre sits inside eng inside staff."""
    d = domain
    await share_every_way(corpus, d)
    await member_of(f"sre-team@{d}", f"eng-team@{d}")
    await member_of(f"eng-team@{d}", f"staff-team@{d}")
    await member_of(f"staff-team@{d}", f"sre-team@{d}")  # a cycle the resolution must survive
    await member_of(f"carol@{d}", f"sre-team@{d}")
    return {"alice": f"alice@{d}", "bob": f"bob@{d}", "carol": f"carol@{d}", "domain": d}


async def visible(client, corpus, headers=None) -> list[str]:
    response = await client.get("/search", params=QUERY, headers=headers)
    assert response.status == 200, await response.text()
    return sorted(corpus.key(r["file_id"]) for r in (await response.json())["results"])


@ON_BOTH  # on PostgreSQL too: the real index and directory, wired by create_app
async def test_each_caller_sees_only_what_drive_shares_with_them(make_client, corpus, seeded) -> None:
    d = seeded["domain"]
    client = await make_client(headers={})
    alice = {"X-Forwarded-Email": "Alice@" + d.upper(), "X-Forwarded-Groups": f"sre-team@{d}, ,"}
    # sre-team is inside eng-team inside staff-team (and back: a cycle).
    assert await visible(client, corpus, alice) == [
        "alice-only",
        "public",
        "sre-group",
        "staff-group",
        "whole-domain",
    ]
    assert await visible(client, corpus, {"X-Forwarded-Email": seeded["bob"]}) == [
        "bob-only",
        "public",
        "whole-domain",
    ]
    # Carol's groups come from the directory only: she is a member of sre-team.
    carol = await visible(client, corpus, {"X-Forwarded-Email": seeded["carol"]})
    assert carol == ["public", "sre-group", "staff-group", "whole-domain"]
    outsider = {"X-Forwarded-Email": "eve@example.net", "X-Forwarded-Groups": f"sales-team@{d}"}
    assert await visible(client, corpus, outsider) == ["other-domain", "public"]


async def test_whoami_names_the_caller_and_every_group_they_hold(make_client, seeded) -> None:
    d = seeded["domain"]
    client = await make_client(headers={"X-Forwarded-Email": seeded["carol"]})
    response = await client.get("/whoami")
    assert response.status == 200
    body = await response.json()
    assert body["email"] == seeded["carol"]
    assert body["authenticated_by"] == "proxy"
    assert body["groups"] == [f"eng-team@{d}", f"sre-team@{d}", f"staff-team@{d}"]
    assert f"domain:{d}" in body["principals"]


async def test_no_identity_is_refused_with_how_to_authenticate(make_client, corpus, seeded) -> None:
    client = await make_client(headers={})
    for response in (
        await client.get("/search", params=QUERY),
        await client.post("/search", json={"q": "payment outage"}),
        await client.get("/whoami"),
    ):
        assert response.status == 401
        body = await response.json()
        assert body["error"] == "authentication required"
        assert body["detail"].startswith("how to authenticate:")
        assert "drive-index apikey create" in body["detail"]
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    # The page itself carries no file data: it loads, then shows the reason.
    assert (await client.get("/")).status == 200
    assert (await client.get("/healthz")).status == 200


async def test_anonymous_public_sees_only_discoverable_files(make_client, corpus, seeded) -> None:
    client = await make_client(headers={}, SEARCH_ANONYMOUS="public")
    assert await visible(client, corpus) == ["public"]
    whoami = await (await client.get("/whoami")).json()
    assert whoami == {"email": None, "groups": [], "authenticated_by": "anonymous", "principals": ["anyone"]}


async def test_headers_from_an_untrusted_peer_are_ignored_and_logged(
    make_client, corpus, seeded, caplog
) -> None:
    client = await make_client(headers={}, SEARCH_TRUSTED_PROXIES="10.0.0.0/8, 192.168.1.7")
    logging.getLogger().addHandler(caplog.handler)  # the app's log set-up replaced the root handlers
    forged = {"X-Forwarded-Email": seeded["alice"], "X-Forwarded-Groups": f"sre-team@{seeded['domain']}"}
    with caplog.at_level(logging.WARNING):
        response = await client.get("/search", params=QUERY, headers=forged)
    assert response.status == 401
    warnings = [r.msg for r in caplog.records if isinstance(r.msg, dict)]
    ignored = [w for w in warnings if w["event"] == "identity.untrusted_headers"]
    assert ignored
    assert ignored[0]["peer"] == "127.0.0.1"
    assert seeded["alice"] not in str(warnings)
    # With public anonymous access the forged identity still counts for nothing.
    public = await make_client(headers={}, SEARCH_TRUSTED_PROXIES="10.0.0.0/8", SEARCH_ANONYMOUS="public")
    assert await visible(public, corpus, forged) == ["public"]


@pytest.mark.parametrize("name", ["X-Forwarded-Email", "X-Forwarded-Groups"])
async def test_repeated_identity_headers_are_refused(make_client, corpus, seeded, name: str) -> None:
    client = await make_client(headers={})
    headers = CIMultiDict([("X-Forwarded-Email", seeded["bob"])])
    headers.add(name, seeded["alice"] if name == "X-Forwarded-Email" else f"sre-team@{seeded['domain']}")
    if name == "X-Forwarded-Groups":
        headers.add(name, "eng-team@example.com")
    response = await client.get("/search", params=QUERY, headers=headers)
    assert response.status == 400
    body = await response.json()
    assert name in body["detail"]
    assert "once" in body["detail"]


async def test_a_trusted_proxy_must_name_an_address(make_client, seeded) -> None:
    client = await make_client(headers={})
    for headers in ({"X-Forwarded-Email": "not-an-address"}, {"X-Forwarded-Groups": "eng@example.com"}):
        response = await client.get("/search", params=QUERY, headers=headers)
        assert response.status == 401
        assert "X-Forwarded-Email" in (await response.json())["detail"]


async def test_no_filter_k_or_method_lets_a_hidden_file_through(make_client, corpus, seeded) -> None:
    allowed = await add_team_folder(corpus, seeded["domain"])
    client = await make_client(headers={"X-Forwarded-Email": seeded["bob"]})
    for variant in NARROWINGS:
        params = narrowed(corpus, variant)
        by_get = await client.get("/search", params=params)
        by_post = await client.post("/search", json={**params, "k": int(params["k"])})
        for response in (by_get, by_post):
            assert response.status == 200
            found = {corpus.key(r["file_id"]) for r in (await response.json())["results"]}
            assert found <= allowed, (variant, found - allowed)
    # k counts only what the caller may see: the top file is one of Bob's, never a hidden one.
    first = await (await client.get("/search", params={**QUERY, "k": "4"})).json()
    assert len(first["results"]) == 4
