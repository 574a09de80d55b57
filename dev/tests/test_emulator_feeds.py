"""Per-user change feeds: what each user's log hands out and takes back, on the store itself."""

from __future__ import annotations

from typing import Any

import pytest

from drive_emulator.feeds import Feeds, Touched, in_scope
from drive_emulator.store import Change, DriveFile, Group, SharedDrive, Store, User, now

ALICE, BOB = "alice@example.com", "bob@example.com"
OWNER = {"type": "user", "role": "owner", "emailAddress": BOB}
TO_ALICE = {"type": "user", "role": "reader", "emailAddress": ALICE}
TO_ENG = {"type": "group", "role": "reader", "emailAddress": "eng@example.com"}


@pytest.fixture
def store() -> Store:
    store = Store()
    store.users = {email: User(email, email) for email in (ALICE, BOB)}
    store.groups["eng@example.com"] = Group(
        "eng@example.com", "Eng", members=[{"email": ALICE, "type": "USER"}]
    )
    return store


@pytest.fixture
def feeds(store: Store) -> Feeds:
    return Feeds(store)


def doc(file_id: str, *grants: dict[str, Any], drive_id: str | None = None) -> DriveFile:
    return DriveFile(file_id, file_id, "text/plain", drive_id=drive_id, permissions=[OWNER, *grants])


def seen(feeds: Feeds, email: str, token: int = 1) -> list[tuple[str, bool]]:
    return [(c.key, c.removed) for c in feeds.feed(email).since(token)]


def test_a_user_feed_holds_only_what_they_see(store: Store, feeds: Feeds) -> None:
    store.add(doc("shared", TO_ALICE))
    store.add(doc("private"))

    assert seen(feeds, ALICE) == [("file:shared", False)]
    assert seen(feeds, BOB) == [("file:shared", False), ("file:private", False)]


def test_losing_access_is_one_removal_that_stays_in_the_log(store: Store, feeds: Feeds) -> None:
    store.add(doc("f", TO_ALICE))
    token = int(store.start_page_token())

    store.update("f", "permissions", permissions=[OWNER])
    store.update("f", "content", content=b"new")

    assert seen(feeds, ALICE, token) == [("file:f", True)]
    assert seen(feeds, ALICE, token) == [("file:f", True)]  # read again, e.g. after a crash
    assert [c.removed for c in feeds.feed(ALICE).log] == [False, True]  # nothing after the removal
    assert seen(feeds, BOB, token) == [("file:f", False)]


def test_a_file_never_handed_out_is_never_taken_back(store: Store, feeds: Feeds) -> None:
    store.add(doc("f"))
    store.delete("f")

    assert seen(feeds, ALICE) == []
    assert seen(feeds, BOB) == [("file:f", True)]


def test_group_membership_is_settled_with_entries_of_their_own(store: Store, feeds: Feeds) -> None:
    store.add(doc("design", TO_ENG))
    token = int(store.start_page_token())

    store.groups["eng@example.com"].members = [{"email": BOB, "type": "USER"}]
    feeds.settle()
    store.groups["eng@example.com"].members = [{"type": "CUSTOMER"}]
    feeds.settle()

    [removal, back] = feeds.feed(ALICE).log[-2:]
    assert seen(feeds, ALICE, token) == [("file:design", False)]  # a reader sees the latest of each
    assert (removal.key, removal.removed, back.key, back.removed) == (
        "file:design",
        True,
        "file:design",
        False,
    )
    assert token <= removal.id < back.id < int(store.start_page_token())


def test_leaving_a_drive_takes_the_drive_and_its_files_back(store: Store, feeds: Feeds) -> None:
    bob = {**OWNER, "role": "organizer"}
    store.add_drive(SharedDrive("d", "Team", [TO_ALICE, bob]))
    store.add(DriveFile("in-drive", "In drive", "text/plain", drive_id="d", permissions=[]))
    token = int(store.start_page_token())

    store.update_drive("d", "permissions", members=[bob])

    assert seen(feeds, ALICE, token) == [("drive:d", True), ("file:in-drive", True)]
    assert [c.drive_id for c in feeds.feed(ALICE).since(token)] == ["d", "d"]
    assert seen(feeds, BOB, token) == [("drive:d", False)]  # still a member: the drive changed, not its files


def test_a_feed_opened_late_starts_with_what_its_user_sees_now(store: Store, feeds: Feeds) -> None:
    store.add(doc("old", TO_ALICE))
    store.add(doc("gone", TO_ALICE))
    store.update("gone", "permissions", permissions=[OWNER])

    assert seen(feeds, "carol@example.com") == []
    store.add(doc("later", {**TO_ALICE, "emailAddress": "carol@example.com"}))
    assert seen(feeds, "carol@example.com") == [("file:later", False)]
    assert seen(feeds, ALICE) == [("file:old", False), ("file:gone", True)]


def test_listeners_hear_which_feeds_an_event_reached(store: Store, feeds: Feeds) -> None:
    heard: list[tuple[str, Touched]] = []
    feeds.on_change(lambda what, touched: heard.append((what, touched)))

    store.add(doc("private"))
    store.groups["eng@example.com"].members = []
    feeds.settle("permissions")

    [(what, touched), (settled, nothing)] = heard
    assert (what, sorted(touched, key=str)) == ("content", [None, BOB])
    assert (settled, nothing) == ("permissions", {})


@pytest.mark.parametrize(
    ("change", "drive_id", "all_drives", "expected"),
    [
        (Change(1, "f", False, now()), None, False, True),
        (Change(1, "f", False, now(), "d"), None, False, False),
        (Change(1, "f", False, now(), "d"), None, True, True),
        (Change(1, None, False, now(), "d"), None, False, True),  # drive changes are in every feed
        (Change(1, "f", False, now(), "d"), "d", False, True),
        (Change(1, "f", False, now(), "e"), "d", True, False),
        (Change(1, "f", False, now()), "d", True, False),
    ],
)
def test_feed_scopes(change: Change, drive_id: str | None, all_drives: bool, expected: bool) -> None:
    assert in_scope(change, drive_id, all_drives) is expected
