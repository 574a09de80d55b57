"""The SearchIndex port: the same behaviour from the fake the handler tests use and from PostgreSQL.

Each case writes its files through the corpus (into the fake, or as rows the fetcher and the
embedder would write) and asks the index directly, with the principals a caller would hold.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from embeddings import HashingEmbedder
from search.ports import Hit, SearchIndex
from search.query import parse_query
from shared import access, mime

from .backings import Backing
from .conftest import ON_BOTH
from .corpus import Corpus
from .samples import (
    COOKING,
    KAFKA,
    NARROWINGS,
    OUTAGE_QUERY,
    POSTGRES,
    add_team_folder,
    narrowed,
    share_every_way,
)

TESTER = tuple(access.principals("tester@example.com"))
BUDGET = "Quarterly budget review for the platform team."


@dataclass
class Asker:
    """Asks one index as a caller holding `principals` would, by the fields of a request."""

    index: SearchIndex
    embedder: HashingEmbedder
    corpus: Corpus

    async def hits(self, principals: Sequence[str] = TESTER, **fields: object) -> list[Hit]:
        query = parse_query(fields)
        return await self.index.search(await self.embedder.embed_query(query.q), query, principals)

    async def keys(self, principals: Sequence[str] = TESTER, **fields: object) -> list[str]:
        """The keys of the files found, best first."""
        return [self.corpus.key(hit.file_id) for hit in await self.hits(principals, **fields)]

    async def found(self, principals: Sequence[str] = TESTER, **fields: object) -> list[str]:
        """The keys of the files found, sorted."""
        return sorted(await self.keys(principals, **fields))


@pytest.fixture
def ask(backing: Backing, embedder: HashingEmbedder) -> Asker:
    return Asker(backing.index(), embedder, backing.corpus)


@ON_BOTH
class TestRanking:
    async def test_the_clear_match_comes_first_with_every_field(self, ask: Asker, corpus: Corpus) -> None:
        await corpus.add("kafka-guide", [("Consumers", KAFKA)])
        await corpus.add("postgres-notes", [POSTGRES])
        await corpus.add("bread-recipe", [COOKING], link=None)
        hits = await ask.hits(q="kafka consumer offsets")
        first = hits[0]
        assert corpus.key(first.file_id) == "kafka-guide"
        assert first.title == "Kafka Guide"
        assert first.link == f"https://docs.google.com/document/d/{first.file_id}/edit"
        assert first.heading == "Consumers"
        assert first.mime_type == mime.DOCUMENT
        assert first.modified_time == datetime(2024, 6, 1, tzinfo=UTC)
        assert "offsets" in first.snippet
        # In both rankings at rank 1: the highest fused score there is, 2/(60+1).
        assert abs(first.score - 2 / 61) < 1e-9
        assert 0 < first.similarity <= 1
        assert [hit.score for hit in hits] == sorted((hit.score for hit in hits), reverse=True)
        bread = next(hit for hit in hits if corpus.key(hit.file_id) == "bread-recipe")
        assert bread.link == f"https://drive.google.com/open?id={bread.file_id}"

    async def test_each_question_finds_its_file_first(self, ask: Asker, corpus: Corpus) -> None:
        await corpus.add("kafka-guide", [KAFKA])
        await corpus.add("postgres-notes", [POSTGRES])
        await corpus.add("bread-recipe", [COOKING])
        questions = {
            "kafka consumer offsets": "kafka-guide",
            "how often does vacuum run": "postgres-notes",
            "bake the bread": "bread-recipe",
        }
        for question, answer in questions.items():
            assert (await ask.keys(q=question, k=2))[0] == answer, question
            assert len(await ask.keys(q=question, k=2)) == 2

    async def test_one_result_per_file_from_its_best_chunk(self, ask: Asker, corpus: Corpus) -> None:
        await corpus.add(
            "runbook",
            [
                ("Intro", "This runbook covers the on-call rotation."),
                ("Kafka", "Kafka consumer lag alerts: check the consumer group offsets first."),
                ("Kafka again", "Kafka brokers restart one at a time."),
            ],
        )
        await corpus.add("other", [("Kafka", "A Kafka consumer reads partitions.")])
        hits = await ask.hits(q="kafka consumer group offsets")
        keys = [corpus.key(hit.file_id) for hit in hits]
        assert sorted(keys) == ["other", "runbook"]
        assert hits[keys.index("runbook")].heading == "Kafka"

    async def test_k_limits_the_number_of_files(self, ask: Asker, corpus: Corpus) -> None:
        for n in range(5):
            await corpus.add(f"note-{n}", [f"Kafka note number {n} about consumer offsets."])
        assert len(await ask.keys(q="kafka", k="1")) == 1
        assert len(await ask.keys(q="kafka")) == 5

    async def test_a_query_of_stop_words_still_ranks_by_meaning(self, ask: Asker, corpus: Corpus) -> None:
        # Full text ignores stop words entirely; the vector ranking alone answers.
        await corpus.add("poem", ["To be or not to be, that is the question."])
        hits = await ask.hits(q="to be or not to be")
        assert [corpus.key(hit.file_id) for hit in hits] == ["poem"]
        assert hits[0].score == 1 / 61

    async def test_the_snippet_is_trimmed_around_the_query_terms(self, ask: Asker, corpus: Corpus) -> None:
        filler = " ".join(f"word{n}" for n in range(300))
        await corpus.add("long", [f"{filler} the retention policy keeps backups for ninety days {filler}"])
        snippet = (await ask.hits(q="retention policy"))[0].snippet
        assert "retention policy" in snippet
        assert len(snippet.split()) <= 45

    async def test_unrelated_files_are_not_padded_in_but_word_matches_stay(
        self, backing: Backing, embedder: HashingEmbedder, corpus: Corpus
    ) -> None:
        await corpus.add("kafka-guide", [KAFKA])
        await corpus.add("bread-recipe", [COOKING])
        await corpus.add("vacuum-notes", [POSTGRES])
        # The hashing embedder puts this query at about 0.17 from the Kafka text and 0 from the others.
        ask = Asker(backing.index(min_similarity=0.1), embedder, corpus)
        assert await ask.keys(q="kafka consumer offsets") == ["kafka-guide"]
        # "bake" matches COOKING's words, so the bread recipe stays although its vector is far away.
        assert set(await ask.keys(q="kafka bake")) == {"kafka-guide", "bread-recipe"}

    async def test_nothing_to_find_is_an_empty_list(self, ask: Asker, corpus: Corpus) -> None:
        assert await ask.hits(q="kafka") == []
        await corpus.add("secret", [KAFKA], permissions=[])
        await corpus.add("folder", mime_type=mime.FOLDER)
        assert await ask.hits(q="kafka") == []


@ON_BOTH
class TestFilters:
    async def budget(self, ask: Asker, **filters: str) -> list[str]:
        return await ask.found(q="quarterly budget", k="50", **filters)

    async def test_mime_type_is_matched_exactly(self, ask: Asker, corpus: Corpus) -> None:
        await corpus.add("doc", [BUDGET])
        await corpus.add("pdf", [BUDGET], mime_type=mime.PDF)
        assert await self.budget(ask, mime_type=mime.PDF) == ["pdf"]
        assert await self.budget(ask, mime_type="application/pd") == []
        assert await self.budget(ask, mime_type="") == ["doc", "pdf"]

    async def test_folder_takes_its_subfolders_at_any_depth(self, ask: Asker, corpus: Corpus) -> None:
        await corpus.add("finance", mime_type=mime.FOLDER)
        await corpus.add("reports", mime_type=mime.FOLDER, parents=["finance"])
        await corpus.add("archive", mime_type=mime.FOLDER, parents=["reports"])
        await corpus.add("elsewhere", mime_type=mime.FOLDER)
        await corpus.add("top-level", [BUDGET], parents=["finance"])
        await corpus.add("nested", [BUDGET], parents=["archive"])
        await corpus.add("outside", [BUDGET], parents=["elsewhere"])
        # A file may live in several folders; one inside is enough.
        await corpus.add("shortcut", [BUDGET], parents=["elsewhere", "reports"])
        finance = corpus.ids["finance"]
        assert await self.budget(ask, folder=finance) == ["nested", "shortcut", "top-level"]
        assert await self.budget(ask, folder=corpus.ids["archive"]) == ["nested"]
        assert await self.budget(ask, folder="no-such-folder") == []

    async def test_modified_range_is_after_inclusive_before_exclusive(
        self, ask: Asker, corpus: Corpus
    ) -> None:
        await corpus.add("march", [BUDGET], modified=datetime(2024, 3, 10, tzinfo=UTC))
        await corpus.add("april", [BUDGET], modified=datetime(2024, 4, 1, tzinfo=UTC))
        await corpus.add("may", [BUDGET], modified=datetime(2024, 5, 20, 12, tzinfo=UTC))
        assert await self.budget(ask, modified_after="2024-04-01") == ["april", "may"]
        assert await self.budget(ask, modified_before="2024-04-01T00:00:00Z") == ["march"]
        assert await self.budget(
            ask, modified_after="2024-03-11", modified_before="2024-05-20T14:00:00+02:00"
        ) == ["april"]

    async def test_filters_combine(self, ask: Asker, corpus: Corpus) -> None:
        await corpus.add("team", mime_type=mime.FOLDER)
        await corpus.add("match", [BUDGET], parents=["team"], mime_type=mime.PDF)
        await corpus.add("wrong-type", [BUDGET], parents=["team"])
        await corpus.add(
            "too-old",
            [BUDGET],
            parents=["team"],
            mime_type=mime.PDF,
            modified=datetime(2020, 1, 1, tzinfo=UTC),
        )
        body = {"mime_type": mime.PDF, "folder": corpus.ids["team"], "modified_after": "2023-01-01"}
        assert await ask.keys(q="budget", **body) == ["match"]


@ON_BOTH
class TestPermissions:
    @pytest.fixture
    async def d(self, corpus: Corpus, domain: str) -> str:
        """The outage report shared every way, in the test's own mail domain."""
        await share_every_way(corpus, domain)
        return domain

    async def outage(self, ask: Asker, principals: Sequence[str]) -> list[str]:
        return await ask.found(principals, **OUTAGE_QUERY)

    async def test_only_files_shared_with_a_principal_held_are_found(self, ask: Asker, d: str) -> None:
        nested = [f"sre-team@{d}", f"eng-team@{d}", f"staff-team@{d}"]
        callers = {
            f"alice@{d}": (nested, ["alice-only", "public", "sre-group", "staff-group", "whole-domain"]),
            f"bob@{d}": ([], ["bob-only", "public", "whole-domain"]),
            f"carol@{d}": (nested, ["public", "sre-group", "staff-group", "whole-domain"]),
            "eve@example.net": ([f"sales-team@{d}"], ["other-domain", "public"]),
        }
        for email, (groups, expected) in callers.items():
            assert await self.outage(ask, access.principals(email, groups)) == expected, email
        assert await self.outage(ask, access.principals(None)) == ["public"]

    async def test_revoking_a_grant_hides_the_file_at_once(self, ask: Asker, corpus: Corpus, d: str) -> None:
        bob = access.principals(f"bob@{d}")
        assert "bob-only" in await self.outage(ask, bob)
        await corpus.share("bob-only", [{"type": "user", "role": "reader", "email_address": f"alice@{d}"}])
        assert "bob-only" not in await self.outage(ask, bob)

    async def test_a_file_without_readers_is_found_by_nobody(
        self, ask: Asker, corpus: Corpus, d: str
    ) -> None:
        await corpus.forget_readers("public")
        assert "public" not in await self.outage(ask, access.principals(f"alice@{d}"))

    async def test_hidden_files_take_no_place_in_k_or_the_filters(
        self, ask: Asker, corpus: Corpus, d: str
    ) -> None:
        allowed = await add_team_folder(corpus, d)
        bob = access.principals(f"bob@{d}")
        for narrowing in NARROWINGS:
            found = set(await ask.keys(bob, **narrowed(corpus, narrowing)))
            assert found <= allowed, (narrowing, found - allowed)
        # k counts only what the caller may see: the top file is one of Bob's, never a hidden one.
        assert len(await ask.keys(bob, **{**OUTAGE_QUERY, "k": "4"})) == 4
