"""Permission-aware search behind an authenticating proxy, and no filtering when it is not trusted."""

from __future__ import annotations

TEXT = "Incident postmortem for the payment outage."
ALICE = {"X-Forwarded-Email": "Alice@Example.com", "X-Forwarded-Groups": "sre@example.com, eng@example.com"}


async def seed(corpus) -> None:
    await corpus.add("public", [TEXT], permissions=[{"type": "anyone", "role": "reader"}])
    await corpus.add(
        "alice-only",
        [TEXT],
        permissions=[{"type": "user", "role": "writer", "email_address": "alice@example.com"}],
    )
    await corpus.add(
        "sre-group",
        [TEXT],
        permissions=[{"type": "group", "role": "reader", "email_address": "SRE@example.com"}],
    )
    await corpus.add(
        "whole-domain", [TEXT], permissions=[{"type": "domain", "role": "reader", "domain": "example.com"}]
    )
    await corpus.add(
        "bob-only",
        [TEXT],
        permissions=[{"type": "user", "role": "owner", "email_address": "bob@example.com"}],
    )
    await corpus.add(
        "other-domain",
        [TEXT],
        permissions=[
            {"type": "domain", "role": "reader", "domain": "example.org"},
            {"type": "group", "role": "reader", "email_address": "sales@example.com"},
        ],
    )
    await corpus.add("unshared", [TEXT], permissions=[])


async def visible(client, corpus, headers: dict[str, str]) -> list[str]:
    response = await client.get("/search", params={"q": "payment outage", "k": "50"}, headers=headers)
    assert response.status == 200
    return sorted(corpus.key(r["file_id"]) for r in (await response.json())["results"])


async def test_trusted_identity_sees_only_what_drive_shares_with_it(make_client, corpus) -> None:
    await seed(corpus)
    client = await make_client(SEARCH_TRUST_FORWARDED_IDENTITY="true")
    assert await visible(client, corpus, ALICE) == ["alice-only", "public", "sre-group", "whole-domain"]
    bob = {"X-Forwarded-Email": "bob@example.com"}
    assert await visible(client, corpus, bob) == ["bob-only", "public", "whole-domain"]
    outsider = {"X-Forwarded-Email": "eve@example.net", "X-Forwarded-Groups": "sales@example.com"}
    assert await visible(client, corpus, outsider) == ["other-domain", "public"]
    # Behind the proxy but with no identity: only what is shared with anyone.
    assert await visible(client, corpus, {}) == ["public"]


async def test_untrusted_identity_headers_are_ignored_and_nothing_is_filtered(client, corpus) -> None:
    await seed(corpus)
    everything = ["alice-only", "bob-only", "other-domain", "public", "sre-group", "unshared", "whole-domain"]
    assert await visible(client, corpus, {"X-Forwarded-Email": "eve@example.net"}) == everything
    assert await visible(client, corpus, {}) == everything
