"""The search endpoint: what it answers and how, on the fake index (and once on PostgreSQL's).

What the index ranks and filters is held to PostgreSQL's behaviour in test_index_contract.py.
"""

from __future__ import annotations

from typing import Any

from prometheus_client import REGISTRY

from embeddings import HashingEmbedder
from search.query import parse_query
from shared import mime

from .conftest import ON_BOTH
from .samples import COOKING, KAFKA, POSTGRES


def queries_answered() -> float:
    return REGISTRY.get_sample_value("drive_index_query_seconds_count", {"outcome": "ok"}) or 0.0


@ON_BOTH  # on PostgreSQL too: the real index, wired by create_app with the settings' ranking
async def test_the_most_relevant_file_comes_first_with_every_field(client, corpus) -> None:
    await corpus.add("kafka-guide", [("Consumers", KAFKA)])
    await corpus.add("postgres-notes", [POSTGRES])
    await corpus.add("bread-recipe", [COOKING], link=None)
    before = queries_answered()

    response = await client.get("/search", params={"q": "kafka consumer offsets"})
    assert response.status == 200
    body = await response.json()
    assert body["query"] == "kafka consumer offsets"
    assert isinstance(body["took_ms"], float)
    first = body["results"][0]
    assert corpus.key(first["file_id"]) == "kafka-guide"
    assert first["title"] == "Kafka Guide"
    assert first["link"] == f"https://docs.google.com/document/d/{first['file_id']}/edit"
    assert first["heading"] == "Consumers"
    assert first["mime_type"] == mime.DOCUMENT
    assert first["modified_time"] == "2024-06-01T00:00:00+00:00"
    assert "offsets" in first["snippet"]
    # In both rankings at rank 1: the highest fused score there is, 2/(60+1).
    assert abs(first["score"] - 2 / 61) < 1e-9
    assert 0 < first["similarity"] <= 1
    assert [r["score"] for r in body["results"]] == sorted(
        (r["score"] for r in body["results"]), reverse=True
    )
    assert queries_answered() == before + 1

    bread = next(r for r in body["results"] if corpus.key(r["file_id"]) == "bread-recipe")
    assert bread["link"] == f"https://drive.google.com/open?id={bread['file_id']}"


async def test_post_and_get_give_the_same_answer(client, corpus) -> None:
    await corpus.add("kafka-guide", [KAFKA])
    await corpus.add("postgres-notes", [POSTGRES])
    await corpus.add("bread-recipe", [COOKING])
    query = {"q": "how often does vacuum run", "k": 2}
    by_get = await (await client.get("/search", params={"q": query["q"], "k": "2"})).json()
    by_post = await (await client.post("/search", json=query)).json()
    assert len(by_get["results"]) == 2
    assert by_get["results"] == by_post["results"]
    assert corpus.key(by_get["results"][0]["file_id"]) == "postgres-notes"


async def test_filters_and_principals_reach_the_index_alike_by_get_and_post(client, backing) -> None:
    params = {
        "q": "quarterly budget",
        "k": "3",
        "mime_type": mime.PDF,
        "folder": "folder-1",
        "modified_after": "2024-01-01",
        "modified_before": "2024-02-01T12:00:00+02:00",
    }
    assert (await client.get("/search", params=params)).status == 200
    assert (await client.post("/search", json={**params, "k": 3})).status == 200
    (by_get, principals), (by_post, _) = backing.fake_index.searches
    assert by_get == by_post == parse_query(params)
    assert principals == ("anyone", "domain:example.com", "user:tester@example.com")


class FailingEmbedder(HashingEmbedder):
    """An embedding provider that is down."""

    async def embed_query(self, text: str):  # type: ignore[no-untyped-def]
        raise ConnectionError("provider unreachable")


async def test_an_unavailable_embedding_provider_answers_503(make_client) -> None:
    client = await make_client(with_embedder=FailingEmbedder(model_name="test-down"))
    response = await client.get("/search", params={"q": "anything"})
    await assert_unavailable(response, "ConnectionError")


async def test_an_unavailable_index_answers_503(client, backing) -> None:
    backing.fake_index.down = OSError("connection refused")
    response = await client.get("/search", params={"q": "anything"})
    await assert_unavailable(response, "OSError")


async def assert_unavailable(response: Any, error: str) -> None:
    """A 503 that names what failed and says when to retry."""
    assert response.status == 503
    assert response.headers["Retry-After"] == "5"
    body = await response.json()
    assert body["error"] == "search unavailable"
    assert error in body["detail"]
