"""Cut a document's text into chunks that fit the embedding model, following its structure.

Markdown-ish text is split at headings, then blank lines (paragraphs); a paragraph over the budget
is split at line breaks (lists, sheet rows), then sentences, then words. Pieces are packed into
chunks of at most `max_tokens`, each repeating the last `overlap_tokens` of the one before, so a
passage cut in two can still be found whole. Chunks never span two sections: each keeps the path
of headings above it, which is also embedded with it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

TokenCounter = Callable[[str], int]

_HEADING = re.compile(r"^(#{1,6})[ \t]+(.+?)[ \t]*#*[ \t]*$")
_FENCE = re.compile(r"^\s*(```|~~~)")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
HEADING_SEPARATOR = " > "


@dataclass(frozen=True)
class Chunk:
    """A searchable piece of a document; `token_count` counts what the model embeds."""

    position: int
    heading: str | None
    text: str
    token_count: int

    @property
    def embedding_input(self) -> str:
        """Return what is embedded: the heading path, then the text."""
        return embedding_input(self.heading, self.text)


@dataclass(frozen=True)
class Section:
    """The paragraphs under one heading path (empty path: before the first heading)."""

    headings: tuple[str, ...]
    paragraphs: tuple[str, ...]

    @property
    def heading(self) -> str | None:
        return HEADING_SEPARATOR.join(self.headings) or None


@dataclass(frozen=True)
class Piece:
    """Text that is never split further, and how it joins the piece before it."""

    text: str
    tokens: int
    joiner: str


def embedding_input(heading: str | None, text: str) -> str:
    """Prefix `text` with its heading path: the model then knows what the passage is about."""
    return f"{heading}\n\n{text}" if heading else text


def chunk_text(
    text: str, count_tokens: TokenCounter, *, max_tokens: int = 200, overlap_tokens: int = 30
) -> list[Chunk]:
    """Cut `text` into chunks of at most `max_tokens` (as `count_tokens` counts) with overlap."""
    return list(iter_chunks(text, count_tokens, max_tokens=max_tokens, overlap_tokens=overlap_tokens))


def iter_chunks(
    text: str, count_tokens: TokenCounter, *, max_tokens: int = 200, overlap_tokens: int = 30
) -> Iterator[Chunk]:
    """Yield `chunk_text`'s chunks one by one: a caller that stops early counts no further tokens."""
    if overlap_tokens * 2 > max_tokens:
        raise ValueError("overlap_tokens must be at most half of max_tokens")
    position = 0
    for section in split_sections(text):
        heading = section.heading
        # The heading path is embedded with every chunk, so it takes its share of the budget.
        budget = max(max_tokens - (count_tokens(heading) if heading else 0), max_tokens // 2)
        pieces = (
            p
            for paragraph in section.paragraphs
            for p in split_piece(paragraph, "\n\n", count_tokens, budget)
        )
        for body in pack(pieces, budget, min(overlap_tokens, budget // 2), count_tokens):
            tokens = count_tokens(embedding_input(heading, body))
            yield Chunk(position=position, heading=heading, text=body, token_count=tokens)
            position += 1


def split_sections(text: str) -> list[Section]:
    """Group paragraphs under their heading path; headings inside code fences are code."""
    path: list[tuple[int, str]] = []
    sections: list[Section] = []
    paragraphs: list[str] = []
    lines: list[str] = []
    in_fence = False

    def end_paragraph() -> None:
        paragraph = "\n".join(lines).strip()
        lines.clear()
        if paragraph:
            paragraphs.append(paragraph)

    def end_section() -> None:
        end_paragraph()
        if paragraphs:
            sections.append(Section(tuple(title for _, title in path), tuple(paragraphs)))
            paragraphs.clear()

    for line in text.splitlines():
        heading = None if in_fence else _HEADING.match(line)
        if heading:
            end_section()
            level = len(heading.group(1))
            while path and path[-1][0] >= level:
                path.pop()
            path.append((level, heading.group(2)))
        elif not in_fence and not line.strip():
            end_paragraph()
        else:
            if _FENCE.match(line):
                in_fence = not in_fence
            lines.append(line)
    end_section()
    return sections


def split_piece(text: str, joiner: str, count_tokens: TokenCounter, budget: int) -> list[Piece]:
    """Split `text` at the coarsest boundary that brings every part within `budget`."""
    tokens = count_tokens(text)
    if tokens <= budget:
        return [Piece(text, tokens, joiner)]
    for pattern, inner in ((r"\n+", "\n"), (_SENTENCE_END, " "), (r"\s+", " ")):
        parts = [part for part in re.split(pattern, text) if part.strip()]
        if len(parts) > 1:
            pieces = [p for part in parts for p in split_piece(part.strip(), inner, count_tokens, budget)]
            return [Piece(pieces[0].text, pieces[0].tokens, joiner), *pieces[1:]]
    return _split_characters(text, joiner, count_tokens, budget)


def _split_characters(text: str, joiner: str, count_tokens: TokenCounter, budget: int) -> list[Piece]:
    # One "word" over the budget (a URL, base64, text without spaces): halve it until it fits.
    tokens = count_tokens(text)
    if tokens <= budget or len(text) < 2:
        return [Piece(text, tokens, joiner)]
    middle = len(text) // 2
    return [
        *_split_characters(text[:middle], joiner, count_tokens, budget),
        *_split_characters(text[middle:], "", count_tokens, budget),
    ]


def pack(pieces: Iterable[Piece], budget: int, overlap: int, count_tokens: TokenCounter) -> Iterator[str]:
    """Join consecutive pieces into texts within `budget`, each starting with the last one's tail."""
    current: list[Piece] = []
    size = 0
    for piece in pieces:
        if current and size + piece.tokens > budget:
            yield _join(current)
            current = _tail(current, overlap, count_tokens)
            size = sum(p.tokens for p in current)
            if size + piece.tokens > budget:  # no room for the overlap beside this piece
                current, size = [], 0
        current.append(piece)
        size += piece.tokens
    if current:
        yield _join(current)


def _tail(pieces: list[Piece], overlap: int, count_tokens: TokenCounter) -> list[Piece]:
    """Return the end of a chunk to repeat: whole pieces if they fit, else the last words."""
    tail: list[Piece] = []
    size = 0
    for piece in reversed(pieces):
        if size + piece.tokens > overlap:
            break
        tail.insert(0, piece)
        size += piece.tokens
    if tail or overlap == 0:
        return tail
    words: list[str] = []
    for word in reversed(pieces[-1].text.split()):
        if count_tokens(" ".join([word, *words])) > overlap:
            break
        words.insert(0, word)
    text = " ".join(words)
    return [Piece(text, count_tokens(text), " ")] if words else []


def _join(pieces: list[Piece]) -> str:
    return pieces[0].text + "".join(p.joiner + p.text for p in pieces[1:])
