"""Hybrid search on real PostgreSQL + pgvector: ranking, result shape, one result per file."""

from __future__ import annotations

from prometheus_client import REGISTRY

from embeddings import HashingEmbedder
from shared import mime

KAFKA = "Kafka consumers commit offsets after processing so a restart resumes where the group stopped."
POSTGRES = "PostgreSQL vacuum reclaims dead tuples; autovacuum settings control how often it runs."
COOKING = "Knead the dough for ten minutes, let it rise, then bake the bread at two hundred degrees."


def queries_answered() -> float:
    return REGISTRY.get_sample_value("drive_index_query_seconds_count", {"outcome": "ok"}) or 0.0


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


async def test_one_result_per_file_from_its_best_chunk(client, corpus) -> None:
    await corpus.add(
        "runbook",
        [
            ("Intro", "This runbook covers the on-call rotation."),
            ("Kafka", "Kafka consumer lag alerts: check the consumer group offsets first."),
            ("Kafka again", "Kafka brokers restart one at a time."),
        ],
    )
    await corpus.add("other", [("Kafka", "A Kafka consumer reads partitions.")])
    body = await (await client.get("/search", params={"q": "kafka consumer group offsets"})).json()
    keys = [corpus.key(r["file_id"]) for r in body["results"]]
    assert sorted(keys) == ["other", "runbook"]
    runbook = body["results"][keys.index("runbook")]
    assert runbook["heading"] == "Kafka"


async def test_k_limits_the_number_of_files(client, corpus) -> None:
    for n in range(5):
        await corpus.add(f"note-{n}", [f"Kafka note number {n} about consumer offsets."])
    one = await (await client.get("/search", params={"q": "kafka", "k": "1"})).json()
    assert len(one["results"]) == 1
    default = await (await client.get("/search", params={"q": "kafka"})).json()
    assert len(default["results"]) == 5


async def test_a_query_of_stop_words_still_ranks_by_meaning(client, corpus) -> None:
    # Full text ignores stop words entirely; the vector ranking alone answers.
    await corpus.add("poem", ["To be or not to be, that is the question."])
    body = await (await client.get("/search", params={"q": "to be or not to be"})).json()
    assert [corpus.key(r["file_id"]) for r in body["results"]] == ["poem"]
    assert body["results"][0]["score"] == 1 / 61


async def test_the_snippet_is_trimmed_around_the_query_terms(client, corpus) -> None:
    filler = " ".join(f"word{n}" for n in range(300))
    await corpus.add("long", [f"{filler} the retention policy keeps backups for ninety days {filler}"])
    body = await (await client.get("/search", params={"q": "retention policy"})).json()
    snippet = body["results"][0]["snippet"]
    assert "retention policy" in snippet
    assert len(snippet.split()) <= 45


class FailingEmbedder(HashingEmbedder):
    """An embedding provider that is down."""

    async def embed_query(self, text: str):  # type: ignore[no-untyped-def]
        raise ConnectionError("provider unreachable")


async def test_an_unavailable_embedding_provider_answers_503(make_client) -> None:
    client = await make_client(with_embedder=FailingEmbedder(model_name="test-down"))
    response = await client.get("/search", params={"q": "anything"})
    assert response.status == 503
    assert response.headers["Retry-After"] == "5"
    body = await response.json()
    assert body["error"] == "search unavailable"
    assert "ConnectionError" in body["detail"]


async def test_unrelated_files_are_not_padded_in_but_word_matches_stay(make_client, corpus) -> None:
    await corpus.add("kafka-guide", [KAFKA])
    await corpus.add("bread-recipe", [COOKING])
    await corpus.add("vacuum-notes", [POSTGRES])
    # The hashing embedder puts this query at about 0.17 from the Kafka text and 0 from the others.
    client = await make_client(SEARCH_MIN_SIMILARITY="0.1")

    body = await (await client.get("/search", params={"q": "kafka consumer offsets"})).json()
    assert [corpus.key(r["file_id"]) for r in body["results"]] == ["kafka-guide"]

    # "bake" matches COOKING's words, so the bread recipe stays although its vector is far away.
    body = await (await client.get("/search", params={"q": "kafka bake"})).json()
    assert {corpus.key(r["file_id"]) for r in body["results"]} == {"kafka-guide", "bread-recipe"}
