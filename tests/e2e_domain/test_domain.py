"""A whole Workspace domain indexed by the running stack, with DRIVE_SCOPE=domain.

Three users and two shared drives in the emulator, read as each user through delegation; search
asked as different users through the trusted proxy's header. The tests change the domain the way
an administrator and its users would (sharing, new and suspended users, moving files into an
excluded folder) and follow each change to the index and to what search answers. The suspension
test runs last: it takes carol's files out of the domain the other tests look at.
"""

from __future__ import annotations

import time

import pytest

from drive_emulator.sample_domain import ALICE, BOB, CAROL, DOMAIN, OUTSIDER, owner, reader
from tests.e2e_domain.conftest import FORMER, SEARCHABLE, TEXT, Domain
from tests.polling import wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

CHANGE_SECONDS = 30.0
SAMPLE = set().union(*SEARCHABLE.values()) | {"outsider-tip"}
SOURCES = {ALICE: f"user:{ALICE}", BOB: f"user:{BOB}", CAROL: f"user:{CAROL}"}


def shown_by(domain: Domain, name: str) -> set[str]:
    """The sources the index records as still showing a file."""
    query = "SELECT source_id FROM document_sources WHERE file_id = $1 AND NOT removed"
    return {row["source_id"] for row in domain.fetch(query, domain.files[name])}


def embeddings(domain: Domain, name: str) -> list[dict[str, object]]:
    """The embedder's log lines for each time it embedded the file's text."""
    return domain.logged("embedder", "document.indexed", file_id=domain.files[name], reembedded=True)


def left_out(domain: Domain, name: str) -> list[dict[str, object]]:
    """The fetcher's log lines for each time it judged the file out of scope."""
    return domain.logged("fetcher", "file.out_of_scope", file_id=domain.files[name])


def test_every_user_and_shared_drive_is_indexed_and_each_caller_finds_only_theirs(domain: Domain) -> None:
    for user, names in SEARCHABLE.items():
        assert domain.found(user) & SAMPLE == names, user
    # Someone outside the domain finds only what Drive makes discoverable to anyone.
    assert domain.found(OUTSIDER) & SAMPLE == {"press-kit"}

    listed = domain.cli("sources", "list")
    engineering, sales = domain.drives["Engineering"], domain.drives["Sales"]
    for source in [*SOURCES.values(), f"drive:{engineering}", f"drive:{sales}?as={BOB}"]:
        assert source in listed, listed
    # Files seen through two or three sources (eng-design, bob-plan, pricing) were fetched and
    # embedded once: one source claims each version, the others only record that they show it.
    every_source = {SOURCES[BOB], SOURCES[CAROL], f"drive:{sales}?as={BOB}"}
    wait_until(
        lambda: shown_by(domain, "pricing") == every_source,
        lambda: f"pricing is shown by {shown_by(domain, 'pricing')}, not {every_source}",
        CHANGE_SECONDS,
    )
    for name in SAMPLE - {"outsider-tip"}:
        file_id = domain.files[name]
        assert len(embeddings(domain, name)) == 1, name
        assert len(domain.logged("fetcher", "file.fetched", file_id=file_id, action="upsert")) == 1, name


def test_a_file_shared_in_from_another_domain_is_not_indexed(domain: Domain) -> None:
    refused = wait_until(
        lambda: left_out(domain, "outsider-tip"),
        lambda: "alice's source reads the outsider's file",
        CHANGE_SECONDS,
    )
    assert refused[0]["reason"] == "owned outside DRIVE_ALLOWED_DOMAINS"
    assert "outsider-tip" not in domain.indexed()
    # alice may open it and mallory owns it: indexed, either would find it.
    assert "outsider-tip" not in domain.found(ALICE, "outsider-tip harbour project status")
    assert "outsider-tip" not in domain.found(OUTSIDER)


def test_a_file_two_users_see_is_embedded_once_and_leaves_when_both_lost_access(domain: Domain) -> None:
    brief, control = domain.files["joint-brief"], domain.control
    wait_until(
        lambda: shown_by(domain, "joint-brief") == {SOURCES[ALICE], SOURCES[BOB]},
        lambda: f"shown by {shown_by(domain, 'joint-brief')}",
        CHANGE_SECONDS,
    )
    assert {ALICE, BOB, FORMER} == {
        u for u in (ALICE, BOB, CAROL, FORMER) if "joint-brief" in domain.found(u)
    }
    [embedded] = embeddings(domain, "joint-brief")
    fetched = domain.logged(
        "fetcher", "file.fetched", file_id=brief, action="upsert", version=embedded["version"]
    )
    assert len(fetched) == 1, "both backfills saw this version; one fetched it"

    started = time.monotonic()
    control.share(brief, [owner(FORMER), reader("user", BOB)])
    wait_until(
        lambda: shown_by(domain, "joint-brief") == {SOURCES[BOB]},
        lambda: f"alice's removal arrives; shown by {shown_by(domain, 'joint-brief')}",
        CHANGE_SECONDS,
    )
    one_lost = time.monotonic() - started
    assert "joint-brief" in domain.indexed(), "bob still sees it"
    assert "joint-brief" in domain.found(BOB)
    wait_until(lambda: "joint-brief" not in domain.found(ALICE), lambda: "alice lost it", CHANGE_SECONDS)

    started = time.monotonic()
    control.share(brief, [owner(FORMER)])
    wait_until(lambda: "joint-brief" not in domain.indexed(), lambda: "bob lost it too", CHANGE_SECONDS)
    both_lost = time.monotonic() - started
    assert "joint-brief" not in domain.found(FORMER), "out of the index, even for its owner"
    assert len(embeddings(domain, "joint-brief")) == 1, "sharing changes never embed the text again"
    print(f"one of two users lost a file → still indexed, recorded in {one_lost:.1f}s")
    print(f"the second lost it too → out of the index in {both_lost:.1f}s")


def test_a_new_user_is_indexed_after_sources_sync(domain: Domain) -> None:
    erin = f"erin@{DOMAIN}"
    domain.control.create_user(erin)
    permissions = [owner(erin)]
    domain.files["erin-plan"] = domain.control.create_doc(
        "erin-plan", TEXT.format(name="erin-plan"), permissions=permissions
    )["id"]
    assert f"user:{erin}" not in domain.cli("sources", "list")

    started = time.monotonic()
    out = domain.cli("sources", "sync")
    assert f"added user:{erin}; its backfill is queued" in out
    domain.wait_found(erin, {"erin-plan"}, CHANGE_SECONDS)
    print(f"new user → after `sources sync` her files are found in {time.monotonic() - started:.1f}s")
    assert f"user:{erin}" in domain.cli("sources", "list")
    assert "erin-plan" not in domain.found(BOB), "hers alone"


def test_files_in_an_excluded_folder_or_below_it_leave_the_index(domain: Domain) -> None:
    archived = {"archive-minutes", "archive-2019-minutes"}  # in Archive, and in Archive/2019
    wait_until(
        lambda: all(left_out(domain, name) for name in archived),
        lambda: f"alice's backfill reads {sorted(archived)}",
        CHANGE_SECONDS,
    )
    assert not archived & domain.indexed()
    assert "alice-retro" in domain.found(ALICE)

    started = time.monotonic()
    domain.control.update_file(domain.files["alice-retro"], parents=[domain.folders["Archive"]])
    wait_until(lambda: "alice-retro" not in domain.indexed(), lambda: "the moved file leaves", CHANGE_SECONDS)
    print(f"file moved into an excluded folder → out of the index in {time.monotonic() - started:.1f}s")
    assert not (archived | {"alice-retro"}) & domain.found(ALICE)


def test_a_folder_moved_into_an_excluded_folder_takes_its_files_out(domain: Domain) -> None:
    assert "team-notes" in domain.found(ALICE)

    started = time.monotonic()
    domain.control.update_file(domain.folders["Team"], parents=[domain.folders["Archive"]])
    wait_until(
        lambda: "team-notes" not in domain.indexed(), lambda: "the folder's file leaves", CHANGE_SECONDS
    )
    print(f"folder moved into an excluded folder → its files out in {time.monotonic() - started:.1f}s")
    assert "team-notes" not in domain.found(ALICE)


def test_a_suspended_users_files_nobody_else_sees_leave_the_index(domain: Domain) -> None:
    carol_only, also_elsewhere = {"salaries", "press-kit", "reorg-draft"}, {"bob-plan", "pricing"}
    assert carol_only | also_elsewhere <= domain.indexed()
    domain.control.update_user(CAROL, suspended=True)

    started = time.monotonic()
    out = domain.cli("sources", "sync")
    assert f"removed user:{CAROL} (gone from the domain)" in out
    wait_until(
        lambda: not carol_only & domain.indexed(),
        lambda: f"carol's own files leave; still indexed: {carol_only & domain.indexed()}",
        CHANGE_SECONDS,
    )
    print(f"suspended user → her files gone in {time.monotonic() - started:.1f}s")
    assert also_elsewhere <= domain.indexed()
    assert also_elsewhere <= domain.found(BOB)
    assert "press-kit" not in domain.found(BOB), "the public file was carol's alone"
    assert domain.found(OUTSIDER) & SAMPLE == set()
    assert SOURCES[CAROL] not in domain.cli("sources", "list")
