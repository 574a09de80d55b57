"""Documents for the fault tests: handbook pages with one unmistakable marker word each."""

from __future__ import annotations

import random

from drive_emulator.client import EmulatorControl

TEAMS = ("finance", "platform", "support", "legal", "sales", "research", "facilities", "security")
DUTIES = (
    "review the quarterly budget",
    "rotate the on-call schedule",
    "archive signed contracts",
    "renew the building badges",
    "answer customer tickets",
    "patch the production servers",
    "book travel through the portal",
    "report expenses within thirty days",
)
TIMES = ("every Monday", "before the month closes", "at the end of each sprint", "twice a year")
TOPICS = ("Purpose", "Who is involved", "How it works", "Exceptions", "Deadlines", "Contacts")


def handbook_page(marker: str, sections: int, seed: int) -> str:
    """Markdown for a Doc of `sections` sections; `marker` is said once, in the first paragraph."""
    rng = random.Random(seed)
    lines = [f"# Handbook page {seed}", "", f"This page describes the {marker} procedure.", ""]
    for number in range(sections):
        lines += [f"## {TOPICS[number % len(TOPICS)]}", ""]
        for _ in range(3):
            sentences = [
                f"The {rng.choice(TEAMS)} team must {rng.choice(DUTIES)} {rng.choice(TIMES)}."
                for _ in range(4)
            ]
            lines += [" ".join(sentences), ""]
    return "\n".join(lines)


def marker(name: str, number: int) -> str:
    """A word no other document contains, so a keyword search finds exactly its own."""
    return f"{name}{number:03d}"


def create_docs(
    drive: EmulatorControl, name: str, count: int, *, sections: int = 1, first: int = 0
) -> dict[str, str]:
    """Create `count` Docs; return {file id: marker word}. Equal `first + i` give equal texts."""
    created = {}
    for number in range(first, first + count):
        word = marker(name, number)
        doc = drive.create_doc(f"{name} page {number}", handbook_page(word, sections, number))
        created[doc["id"]] = word
    return created
