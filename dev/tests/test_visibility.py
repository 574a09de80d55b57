"""Who sees what in the emulator: the pure rules, table by table."""

from __future__ import annotations

from typing import Any

import pytest

from drive_emulator.store import DriveFile, Group, SharedDrive, Store, User
from drive_emulator.visibility import (
    Viewer,
    can_open,
    discoverable,
    groups_of,
    in_corpus,
    is_admin,
    may_sign_in,
    member_of,
    viewer_of,
)

ALICE = Viewer("alice@example.com", frozenset({"eng@example.com"}))


def user(email: str, role: str = "reader", **extra: Any) -> dict[str, Any]:
    return {"type": "user", "role": role, "emailAddress": email, **extra}


def group(email: str) -> dict[str, Any]:
    return {"type": "group", "role": "reader", "emailAddress": email}


def domain(name: str, discovery: bool) -> dict[str, Any]:
    return {"type": "domain", "role": "reader", "domain": name, "allowFileDiscovery": discovery}


def anyone(discovery: bool) -> dict[str, Any]:
    return {"type": "anyone", "role": "reader", "allowFileDiscovery": discovery}


# grant -> (in alice's Drive, alice may open it, alice finds it by search)
GRANTS = [
    (user("alice@example.com", "owner"), (True, True, False)),
    (user("Alice@Example.com"), (True, True, False)),
    (user("alice@example.com", deleted=True), (False, False, False)),
    (user("bob@example.com"), (False, False, False)),
    (group("eng@example.com"), (True, True, False)),
    (group("sales@example.com"), (False, False, False)),
    (domain("example.com", True), (False, True, True)),
    (domain("EXAMPLE.com", False), (False, True, False)),
    (domain("elsewhere.example", True), (False, False, False)),
    (anyone(True), (False, True, True)),
    (anyone(False), (False, True, False)),
]


@pytest.mark.parametrize(("grant", "expected"), GRANTS)
def test_each_kind_of_grant(grant: dict[str, Any], expected: tuple[bool, bool, bool]) -> None:
    file = DriveFile("f", "F", "text/plain", permissions=[user("owner@example.com", "owner"), grant])

    found = (in_corpus(ALICE, file, {}), can_open(ALICE, file, {}), discoverable(ALICE, file.permissions))

    assert found == expected


@pytest.mark.parametrize(
    ("members", "expected"),
    [
        ([user("alice@example.com", "organizer")], True),
        ([group("eng@example.com")], True),
        ([domain("example.com", False)], True),
        ([user("bob@example.com")], False),
        ([user("alice@example.com", deleted=True)], False),
        ([], False),
    ],
)
def test_shared_drive_membership_shows_every_file_of_the_drive(
    members: list[dict[str, Any]], expected: bool
) -> None:
    drive = SharedDrive("d", "Team", members)
    file = DriveFile("f", "F", "text/plain", drive_id="d", permissions=[])

    assert member_of(ALICE, drive) is expected
    assert in_corpus(ALICE, file, {"d": drive}) is expected
    assert can_open(ALICE, file, {"d": drive}) is expected


def test_a_file_grant_in_a_drive_reaches_a_non_member() -> None:
    drive = SharedDrive("d", "Team", [user("bob@example.com")])
    file = DriveFile("f", "F", "text/plain", drive_id="d", permissions=[user("alice@example.com")])

    assert in_corpus(ALICE, file, {"d": drive})


GROUPS = {
    "all@example.com": Group("all@example.com", "All", members=[{"type": "CUSTOMER"}]),
    "eng@example.com": Group(
        "eng@example.com", "Eng", members=[{"email": "Platform@example.com", "type": "GROUP"}]
    ),
    "platform@example.com": Group(
        "platform@example.com", "P", members=[{"email": "alice@example.com", "type": "USER"}]
    ),
    "loop@example.com": Group(
        "loop@example.com", "L", members=[{"email": "loop@example.com", "type": "GROUP"}]
    ),
}


@pytest.mark.parametrize(
    ("email", "in_account", "expected"),
    [
        ("alice@example.com", True, {"all@example.com", "eng@example.com", "platform@example.com"}),
        ("ALICE@example.com", False, {"eng@example.com", "platform@example.com"}),
        ("bob@example.com", True, {"all@example.com"}),
        ("loop@example.com", False, {"loop@example.com"}),  # a cycle ends
    ],
)
def test_groups_are_expanded_through_nesting(email: str, in_account: bool, expected: set[str]) -> None:
    assert groups_of(GROUPS, email, in_account) == expected


def domain_store() -> Store:
    store = Store()
    store.users = {
        "alice@example.com": User("alice@example.com", "Alice"),
        "root@example.com": User("root@example.com", "Root", admin=True),
        "sam@example.com": User("sam@example.com", "Sam", suspended=True),
        "old@example.com": User("old@example.com", "Old", archived=True),
    }
    store.groups = dict(GROUPS)
    return store


@pytest.mark.parametrize(
    ("email", "signs_in", "admin"),
    [
        ("alice@example.com", True, False),
        ("ROOT@example.com", True, True),
        ("sam@example.com", False, False),
        ("old@example.com", False, False),
        ("dave@example.com", False, False),  # not a user of a domain the emulator models
        ("eve@elsewhere.example", True, True),  # a domain it does not model: anything goes
        ("indexer@p.iam.gserviceaccount.com", True, False),
    ],
)
def test_who_may_be_impersonated_and_who_administers(email: str, signs_in: bool, admin: bool) -> None:
    store = domain_store()

    assert may_sign_in(store, email) is signs_in
    assert is_admin(store, email) is admin


def test_without_users_every_subject_may_be_impersonated() -> None:
    assert may_sign_in(Store(), "anyone@example.com")


def test_a_viewer_is_read_from_the_store() -> None:
    viewer = viewer_of(domain_store(), "Alice@example.com")

    assert viewer == Viewer(
        "alice@example.com", frozenset({"all@example.com", "eng@example.com", "platform@example.com"})
    )
    assert viewer.domain == "example.com"
