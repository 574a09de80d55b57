"""Texts and sharing set-ups used both by the handler tests and by the index contract."""

from __future__ import annotations

from typing import Any

from shared import mime

from .corpus import Corpus

KAFKA = "Kafka consumers commit offsets after processing so a restart resumes where the group stopped."
POSTGRES = "PostgreSQL vacuum reclaims dead tuples; autovacuum settings control how often it runs."
COOKING = "Knead the dough for ten minutes, let it rise, then bake the bread at two hundred degrees."

OUTAGE = "Incident postmortem for the payment outage."
OUTAGE_QUERY = {"q": "payment outage", "k": "50"}
# Every way a request may narrow a search; none may let a hidden file through.
NARROWINGS: list[dict[str, str]] = [
    {"k": "1"},
    {"k": "2"},
    {"k": "50"},
    {"mime_type": mime.PDF},
    {"folder": "team-folder"},  # the key of the folder; the tests put its id in
    {"modified_after": "2024-01-01", "modified_before": "2025-01-01"},
    {"q": "outage"},
    {"q": '"payment outage"'},
    {"q": "postmortem -nothing"},
    {"q": "zebra"},
]


def anyone(discoverable: bool = True) -> dict[str, object]:
    return {"type": "anyone", "role": "reader", "allow_file_discovery": discoverable}


def ways_of_sharing(d: str) -> dict[str, list[dict[str, Any]]]:
    """A file key for each way of sharing, with its Drive permissions, in the mail domain `d`."""
    return {
        "public": [anyone()],
        "link-only": [anyone(discoverable=False)],
        "alice-only": [{"type": "user", "role": "writer", "email_address": f"Alice@{d}"}],
        "sre-group": [{"type": "group", "role": "reader", "email_address": f"SRE-team@{d}"}],
        "staff-group": [{"type": "group", "role": "commenter", "email_address": f"staff-team@{d}"}],
        "whole-domain": [{"type": "domain", "role": "reader", "domain": d, "allow_file_discovery": True}],
        "domain-link": [{"type": "domain", "role": "reader", "domain": d, "allow_file_discovery": False}],
        "bob-only": [{"type": "user", "role": "owner", "email_address": f"bob@{d}"}],
        "other-domain": [
            {"type": "domain", "role": "reader", "domain": "example.org", "allow_file_discovery": True},
            {"type": "group", "role": "reader", "email_address": f"sales-team@{d}"},
        ],
        "unshared": [],
    }


async def share_every_way(corpus: Corpus, d: str) -> None:
    """Index the outage report once for each way of sharing."""
    for key, permissions in ways_of_sharing(d).items():
        await corpus.add(key, [OUTAGE], permissions=permissions)


async def add_team_folder(corpus: Corpus, d: str) -> set[str]:
    """A folder of PDFs, one Bob's and one Alice's; return what Bob may find of every way of sharing."""
    await corpus.add("team-folder", mime_type=mime.FOLDER)
    inside = {"bob-inside": f"bob@{d}", "alice-inside": f"alice@{d}"}
    for key, owner in inside.items():
        await corpus.add(
            key,
            [OUTAGE],
            parents=["team-folder"],
            mime_type=mime.PDF,
            permissions=[{"type": "user", "role": "owner", "email_address": owner}],
        )
    return {"bob-only", "public", "whole-domain", "bob-inside"}


def narrowed(corpus: Corpus, narrowing: dict[str, str]) -> dict[str, str]:
    """The outage query with one narrowing, the folder's key replaced by its id."""
    params = {**OUTAGE_QUERY, **narrowing}
    if "folder" in params:
        params["folder"] = corpus.ids[params["folder"]]
    return params
