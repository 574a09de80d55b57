"""Abuse limits: a rate per caller, a bound on concurrent query embeddings, an audit line per search."""

from __future__ import annotations

import asyncio
import hashlib
import logging

from embeddings import HashingEmbedder
from search.ratelimit import RateLimiter
from shared import mime

QUERY = {"q": "secret project falcon", "k": "3", "mime_type": mime.PLAIN_TEXT}


def test_the_bucket_refills_at_the_rate_and_holds_the_burst() -> None:
    now = [0.0]
    limiter = RateLimiter(per_minute=60, burst=2, clock=lambda: now[0])
    assert limiter.take("a") == 0
    assert limiter.take("a") == 0
    assert limiter.take("a") == 1.0  # empty: one token a second
    assert limiter.take("b") == 0  # each caller has a bucket of their own
    now[0] += 0.5
    assert limiter.take("a") == 0.5
    now[0] += 0.5
    assert limiter.take("a") == 0
    now[0] += 3600
    assert [limiter.take("a") for _ in range(3)] == [0, 0, 1.0]  # never more than the burst


def test_the_limiter_forgets_idle_callers_beyond_its_size() -> None:
    now = [0.0]
    limiter = RateLimiter(per_minute=60, burst=1, clock=lambda: now[0], max_callers=3)
    for caller in "abcd":
        limiter.take(caller)
    assert len(limiter) == 3
    assert limiter.take("a") == 0  # forgotten, so full again: forgetting only ever errs generous


async def test_too_many_searches_get_429_with_retry_after(make_client, corpus) -> None:
    client = await make_client(SEARCH_RATE_LIMIT_PER_MINUTE="6", SEARCH_RATE_LIMIT_BURST="2")
    assert [(await client.get("/search", params=QUERY)).status for _ in range(2)] == [200, 200]
    refused = await client.get("/search", params=QUERY)
    assert refused.status == 429
    assert refused.headers["Retry-After"] == "10"
    body = await refused.json()
    assert body["error"] == "too many requests"
    assert "6 searches a minute" in body["detail"]
    other = await client.get("/search", params=QUERY, headers={"X-Forwarded-Email": "other@example.com"})
    assert other.status == 200


class SlowEmbedder(HashingEmbedder):
    """Records how many query embeddings run at once."""

    running = 0
    most = 0

    async def embed_query(self, text: str):  # type: ignore[no-untyped-def]
        SlowEmbedder.running += 1
        SlowEmbedder.most = max(SlowEmbedder.most, SlowEmbedder.running)
        await asyncio.sleep(0.05)
        SlowEmbedder.running -= 1
        return await super().embed_query(text)


async def test_query_embeddings_run_at_most_n_at_once(make_client, embedder) -> None:
    slow = SlowEmbedder(model_name=embedder.model_name, dimensions=384)
    client = await make_client(with_embedder=slow, SEARCH_MAX_CONCURRENT_EMBEDS="2")
    responses = await asyncio.gather(*(client.get("/search", params={"q": f"q{n}"}) for n in range(6)))
    assert [r.status for r in responses] == [200] * 6
    assert SlowEmbedder.most == 2


def audit_lines(caplog) -> list[dict[str, object]]:
    return [r.msg for r in caplog.records if isinstance(r.msg, dict) and r.msg["event"] == "search.audit"]


async def test_one_audit_line_per_search_without_the_query_text(client, corpus, caplog) -> None:
    await corpus.add("kafka-guide", ["Kafka consumers commit offsets."])
    await client.get("/search", params=QUERY)
    [line] = audit_lines(caplog)
    assert line["email"] == "tester@example.com"
    assert line["authenticated_by"] == "proxy"
    assert line["query_sha256"] == hashlib.sha256(b"secret project falcon").hexdigest()
    assert (line["k"], line["results"], line["filters"]) == (3, 0, ["mime_type"])
    assert line["took_ms"] >= 0
    assert "q" not in line
    # (The test server's access log shows the URL; the service runs without one.)
    ours = [r.getMessage() for r in caplog.records if r.name.startswith(("search", "shared"))]
    assert "falcon" not in str(ours)


async def test_the_query_text_is_logged_only_when_asked(make_client, caplog) -> None:
    client = await make_client(LOG_QUERIES="true")
    logging.getLogger().addHandler(caplog.handler)  # the app's log set-up replaced the root handlers
    await client.get("/search", params=QUERY)
    [line] = audit_lines(caplog)
    assert line["q"] == "secret project falcon"
