"""The chunker: structure first (headings, paragraphs, lines, sentences), budgets and overlap."""

from __future__ import annotations

import itertools

import pytest

from embedder.chunking import chunk_text, split_sections


def words(text: str) -> int:
    """Count whitespace-separated words: a token counter that is easy to reason about."""
    return len(text.split())


def sentence(n: int, size: int = 10) -> str:
    """Make a sentence of exactly `size` distinct words ending in a period."""
    return " ".join(f"s{n}w{i}" for i in range(size)) + "."


HANDBOOK = """# Handbook

Welcome to the handbook.

## Leave

Employees get 25 days of leave.

### Carry-over

Up to five days carry over.

## Expenses ##

Keep receipts.

# Appendix

Contacts.
"""


def test_blank_text_has_no_chunks() -> None:
    assert chunk_text("", words) == []
    assert chunk_text(" \n\n \t\n", words) == []


def test_short_text_without_headings_is_one_chunk() -> None:
    (chunk,) = chunk_text("\n  Just one short note.  \n", words)
    assert (chunk.position, chunk.heading, chunk.text, chunk.token_count) == (
        0,
        None,
        "Just one short note.",
        4,
    )
    assert chunk.embedding_input == "Just one short note."


def test_each_chunk_keeps_its_nearest_heading_path() -> None:
    chunks = chunk_text(HANDBOOK, words)
    assert [(c.heading, c.text) for c in chunks] == [
        ("Handbook", "Welcome to the handbook."),
        ("Handbook > Leave", "Employees get 25 days of leave."),
        ("Handbook > Leave > Carry-over", "Up to five days carry over."),
        ("Handbook > Expenses", "Keep receipts."),
        ("Appendix", "Contacts."),
    ]
    assert [c.position for c in chunks] == [0, 1, 2, 3, 4]
    assert chunks[1].embedding_input == "Handbook > Leave\n\nEmployees get 25 days of leave."
    assert chunks[1].token_count == words(chunks[1].embedding_input)


def test_text_before_the_first_heading_has_no_heading() -> None:
    sections = split_sections("Preamble here.\n\n# Title\nBody.")
    assert [(s.heading, s.paragraphs) for s in sections] == [
        (None, ("Preamble here.",)),
        ("Title", ("Body.",)),
    ]


def test_hash_lines_inside_code_fences_and_hashtags_are_not_headings() -> None:
    text = "# Real\n\n```bash\n# a shell comment\necho hi\n```\n\n#hashtag is text"
    (section,) = split_sections(text)
    assert section.heading == "Real"
    assert section.paragraphs == ("```bash\n# a shell comment\necho hi\n```", "#hashtag is text")


def test_small_paragraphs_are_packed_together_within_the_budget() -> None:
    text = "\n\n".join(sentence(n, 4) for n in range(10))  # ten paragraphs of four words
    chunks = chunk_text(text, words, max_tokens=12, overlap_tokens=0)
    assert [c.token_count for c in chunks] == [12, 12, 12, 4]
    assert chunks[0].text == "\n\n".join(sentence(n, 4) for n in range(3))


def test_no_chunk_exceeds_the_budget_and_without_overlap_every_word_is_kept_once() -> None:
    paragraphs = [
        " ".join(sentence(p * 10 + n, 3 + (p + n) % 9) for n in range(p % 7 + 1)) for p in range(30)
    ]
    text = "# Doc\n\n" + "\n\n".join(paragraphs)
    chunks = chunk_text(text, words, max_tokens=20, overlap_tokens=0)
    assert all(c.token_count <= 20 for c in chunks)
    assert " ".join(c.text for c in chunks).split() == " ".join(paragraphs).split()


def test_an_overlong_paragraph_is_cut_at_sentence_ends() -> None:
    paragraph = " ".join(sentence(n) for n in range(5))  # 50 words in one paragraph
    chunks = chunk_text(paragraph, words, max_tokens=25, overlap_tokens=0)
    assert [c.text for c in chunks] == [
        f"{sentence(0)} {sentence(1)}",
        f"{sentence(2)} {sentence(3)}",
        sentence(4),
    ]


def test_each_chunk_starts_with_the_end_of_the_previous_one() -> None:
    paragraph = " ".join(sentence(n) for n in range(6))
    chunks = chunk_text(paragraph, words, max_tokens=30, overlap_tokens=5)
    assert len(chunks) > 2
    for before, after in itertools.pairwise(chunks):
        tail = before.text.split()[-5:]
        assert after.text.split()[:5] == tail
        assert after.token_count <= 30


def test_overlap_prefers_whole_sentences_that_fit() -> None:
    short = "Short one."  # two words: fits an overlap of five
    text = f"{sentence(0, 12)} {short} {sentence(1, 12)}"
    first, second = chunk_text(text, words, max_tokens=16, overlap_tokens=5)
    assert first.text == f"{sentence(0, 12)} {short}"
    assert second.text == f"{short} {sentence(1, 12)}"


def test_rows_without_blank_lines_are_cut_at_line_breaks() -> None:
    rows = "\n".join(f"| r{n} | a | b |" for n in range(12))  # a sheet tab: one block of rows
    chunks = chunk_text(f"## Sheet1\n{rows}", words, max_tokens=30, overlap_tokens=0)
    assert all(c.heading == "Sheet1" for c in chunks)
    assert chunks[0].text.splitlines()[0] == "| r0 | a | b |"
    assert all(line.startswith("| r") and line.endswith("|") for c in chunks for line in c.text.splitlines())
    assert sum(len(c.text.splitlines()) for c in chunks) == 12


def test_a_sentence_over_the_budget_is_cut_between_words() -> None:
    long_sentence = sentence(0, 45)
    chunks = chunk_text(long_sentence, words, max_tokens=20, overlap_tokens=0)
    assert [c.token_count for c in chunks] == [20, 20, 5]
    assert " ".join(c.text for c in chunks) == long_sentence


def test_a_word_over_the_budget_is_cut_between_characters() -> None:
    def four_chars_per_token(text: str) -> int:
        return (len(text) + 3) // 4

    blob = "x" * 1000  # e.g. base64 with no spaces
    chunks = chunk_text(blob, four_chars_per_token, max_tokens=50, overlap_tokens=0)
    assert "".join(c.text for c in chunks) == blob
    assert all(c.token_count <= 50 for c in chunks)


def test_the_heading_path_takes_its_share_of_the_budget() -> None:
    text = "# A B C D E\n\n" + " ".join(sentence(n, 5) for n in range(6))
    chunks = chunk_text(text, words, max_tokens=20, overlap_tokens=0)
    assert all(c.token_count <= 20 for c in chunks)
    assert [words(c.text) for c in chunks] == [15, 15]


def test_chunks_never_span_two_sections() -> None:
    text = "# One\n\nalpha beta.\n\n# Two\n\ngamma delta."
    chunks = chunk_text(text, words, max_tokens=200, overlap_tokens=30)
    assert [(c.heading, c.text) for c in chunks] == [("One", "alpha beta."), ("Two", "gamma delta.")]


def test_an_overlap_of_more_than_half_the_budget_is_refused() -> None:
    with pytest.raises(ValueError, match="half"):
        chunk_text("text", words, max_tokens=20, overlap_tokens=11)
