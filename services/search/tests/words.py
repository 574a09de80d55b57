"""PostgreSQL's English full text, reduced to what the fake index needs.

`websearch_to_tsquery('english', q)` drops stop words, stems, ANDs the words, and reads `or` and
`-word`; `ts_headline` cuts the text around the first match. Here a word is stemmed by dropping a
plural `s`, a quoted phrase matches as its words, and the rank of a match is how often the query's
words occur: enough for clear cases, which the contract tests hold both indexes to.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

# PostgreSQL's tsearch_data/english.stop.
_ENGLISH_STOP = """i me my myself we our ours ourselves you your yours yourself yourselves he him his himself
she her hers herself it its itself they them their theirs themselves what which who whom this that these
those am is are was were be been being have has had having do does did doing a an the and but if or
because as until while of at by for with about against between into through during before after above
below to from up down in out on off over under again further then once here there when where why how
all any both each few more most other some such no nor not only own same so than too very s t can will
just don should now"""
STOP_WORDS = frozenset(_ENGLISH_STOP.split())
# ts_headline's MaxWords and MinWords in adapters/index.HEADLINE; the fake starts a few words early.
MAX_WORDS, MIN_WORDS, LEAD_WORDS = 40, 20, 15
_WORD = re.compile(r"\w+")


def terms(text: str) -> list[str]:
    """The words of `text` that full text keeps, stemmed, in order."""
    return [_stem(word) for word in _WORD.findall(text.lower()) if word not in STOP_WORDS]


def _stem(word: str) -> str:
    return word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith("ss") else word


@dataclass(frozen=True)
class Clause:
    """Words that must all occur and words that must not; a query is one clause or more, ORed."""

    wanted: frozenset[str]
    unwanted: frozenset[str]

    def matches(self, words: set[str]) -> bool:
        return bool(self.wanted or self.unwanted) and self.wanted <= words and not self.unwanted & words


def parse(query: str) -> list[Clause]:
    """Read a query as websearch_to_tsquery does, phrases aside."""
    clauses: list[Clause] = []
    wanted: list[str] = []
    unwanted: list[str] = []
    for token in query.replace('"', " ").split():
        if token.lower() == "or":
            clauses.append(Clause(frozenset(wanted), frozenset(unwanted)))
            wanted, unwanted = [], []
        elif token.startswith("-"):
            unwanted += terms(token)
        else:
            wanted += terms(token)
    return [*clauses, Clause(frozenset(wanted), frozenset(unwanted))]


def rank(query: str, text: str) -> int | None:
    """How strongly `text` matches `query` (occurrences of its words); None when it does not match."""
    words = terms(text)
    matched = [clause for clause in parse(query) if clause.matches(set(words))]
    if not matched:
        return None
    wanted = set().union(*(clause.wanted for clause in matched))
    return sum(word in wanted for word in words)


def snippet(query: str, text: str) -> str:
    """The text around the first word the query asks for; its beginning when none occurs."""
    wanted = set().union(*(clause.wanted for clause in parse(query)))
    words = text.split()
    first = next((n for n, word in enumerate(words) if _asked(word, wanted)), None)
    if first is None:
        return " ".join(words[:MIN_WORDS])
    start = max(0, first - LEAD_WORDS)
    return " ".join(words[start : start + MAX_WORDS])


def _asked(word: str, wanted: Iterable[str]) -> bool:
    return any(term in wanted for term in terms(word))
