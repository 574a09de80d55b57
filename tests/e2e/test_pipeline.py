"""A Drive edit becomes a search hit: emulator → gateway → fetcher → embedder → search, as processes."""

from __future__ import annotations

import time
from typing import Any

import pytest

from devstack.stack import Stack
from drive_emulator.client import EmulatorControl
from drive_index_cli import checks
from tests.polling import wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

DEADLINE_SECONDS = 30.0

LEAVE_POLICY = """# Parental leave policy

## Who is eligible
Every employee who has worked here for at least six months may take parental leave.

## How long
Parents receive sixteen weeks of fully paid leave after the birth or adoption of a child.
"""

LEAVE_POLICY_EDITED = """# Parental leave policy

## How long
Parents now receive twenty-six weeks of paid leave, which can be split into two blocks.

## Sabbaticals
After five years, staff may also take a three-month unpaid sabbatical to travel or study.
"""


# New files belong to the emulator's default owner; search answers only for a known caller.
OWNER = {"X-Forwarded-Email": "owner@example.com"}


def hits(stack: Stack, query: str) -> list[dict[str, Any]]:
    url = f"{stack.url('search')}/search?q={query.replace(' ', '+')}&k=5"
    status, body = checks.http_json(url, headers=OWNER)
    assert status == 200, body
    return list(body["results"])


def test_create_edit_trash_follow_drive(stack: Stack, emulator_url: str) -> None:
    drive = EmulatorControl(emulator_url)
    started = time.monotonic()
    doc = drive.create_doc("Parental leave policy", LEAVE_POLICY)

    # A paraphrase, not the document's words.
    def found_new_parent_question() -> dict[str, Any] | None:
        return next(
            (
                h
                for h in hits(stack, "how much time off do I get when my baby is born")
                if h["file_id"] == doc["id"]
            ),
            None,
        )

    hit = wait_until(found_new_parent_question, lambda: "the new Doc is searchable", DEADLINE_SECONDS)
    created_after = time.monotonic() - started
    assert hit["title"] == "Parental leave policy"
    assert "sixteen weeks" in hit["snippet"]
    assert hit["link"]

    drive.update_file(doc["id"], content=LEAVE_POLICY_EDITED)

    def shows_edit() -> bool:
        results = [
            h for h in hits(stack, "taking a long break from work to study") if h["file_id"] == doc["id"]
        ]
        return bool(results) and "sabbatical" in results[0]["snippet"].lower()

    wait_until(shows_edit, lambda: "the edited text is found", DEADLINE_SECONDS)
    old = [h for h in hits(stack, "sixteen weeks fully paid leave") if h["file_id"] == doc["id"]]
    assert all("sixteen" not in h["snippet"] for h in old), "the old text is gone"

    drive.trash(doc["id"])
    wait_until(
        lambda: all(h["file_id"] != doc["id"] for h in hits(stack, "parental leave sabbatical")),
        lambda: "the trashed Doc disappears",
        DEADLINE_SECONDS,
    )
    print(f"create → searchable in {created_after:.1f}s")
