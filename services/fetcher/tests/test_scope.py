"""Scope.admits: which files the operator lets into the index, and why the others stay out."""

from __future__ import annotations

from typing import Any

import pytest

from drive.models import DriveFile
from fetcher.scope import Scope
from shared import mime
from shared.access import Permission
from shared.settings import names

SCOPE = Scope.of(
    allowed_domains=["Corp.example", "@sub.corp.example"],
    exclude_folders=["secret-folder"],
    exclude_drives=["hr-drive"],
)


def file(**fields: Any) -> DriveFile:
    return DriveFile(**{"id": "f1", "mime_type": mime.DOCUMENT, "version": 1, "parents": ("root",), **fields})


def owned_by(email: str) -> tuple[str, ...]:
    return (email,)


def granted(role: str, email: str) -> tuple[Permission, ...]:
    return (Permission(type="user", role=role, email_address=email),)


@pytest.mark.parametrize(
    ("scope", "given", "reason"),
    [
        (Scope(), file(owner_emails=owned_by("x@elsewhere.example")), None),
        (SCOPE, file(owner_emails=owned_by("alice@corp.example")), None),
        (SCOPE, file(owner_emails=owned_by("Bob@SUB.corp.example")), None),
        (
            SCOPE,
            file(owner_emails=owned_by("mallory@elsewhere.example")),
            "owned outside DRIVE_ALLOWED_DOMAINS",
        ),
        (
            SCOPE,
            file(owner_emails=owned_by("mallory@corp.example.evil")),
            "owned outside DRIVE_ALLOWED_DOMAINS",
        ),
        (SCOPE, file(), "owned outside DRIVE_ALLOWED_DOMAINS"),  # no owner known: not admitted
        # Without `owners`, the owner's grant among the permissions decides.
        (SCOPE, file(permissions=granted("owner", "a@corp.example")), None),
        (SCOPE, file(permissions=granted("reader", "a@corp.example")), "owned outside"),
        (SCOPE, file(drive_id="sales-drive"), None),  # shared-drive files have no owners
        (SCOPE, file(drive_id="hr-drive"), "in excluded shared drive hr-drive"),
        (SCOPE, file(drive_id="sales-drive", parents=("secret-folder",)), "in excluded folder secret-folder"),
        (Scope.of(mime_types=[mime.PDF]), file(), f"type {mime.DOCUMENT} is not in DRIVE_MIME_TYPES"),
        (Scope.of(mime_types=[mime.PDF, mime.DOCUMENT]), file(), None),
    ],
)
def test_a_file_is_admitted_or_told_why_not(scope: Scope, given: DriveFile, reason: str | None) -> None:
    found = scope.admits(given)
    assert found == reason if reason is None else (found or "").startswith(reason)


def test_settings_lists_are_comma_separated_and_trimmed() -> None:
    assert names(" corp.example, ,sub.corp.example ") == {"corp.example", "sub.corp.example"}
    assert names("") == frozenset()


def test_an_excluded_folder_keeps_out_everything_below_it_and_itself() -> None:
    scope = Scope.of(exclude_folders=["secret-folder"])
    assert scope.needs_ancestors
    deep = file(parents=("child",), owner_emails=owned_by("a@corp.example"))
    assert (
        scope.admits(deep, frozenset({"child", "secret-folder", "root"}))
        == "in excluded folder secret-folder"
    )
    assert scope.admits(deep, frozenset({"child", "root"})) is None
    assert scope.admits(file(id="secret-folder")) == "in excluded folder secret-folder"


def test_a_folder_source_keeps_its_folder_and_what_is_below_it_only() -> None:
    scope = Scope().for_source("folder:team?as=ann@corp.example")
    assert scope.within == "team"
    assert scope.needs_ancestors
    assert scope.admits(file(id="team")) is None
    assert scope.admits(file(parents=("specs",)), frozenset({"specs", "team", "root"})) is None
    assert scope.admits(file(parents=("other",)), frozenset({"other", "root"})) == "outside folder team"
    assert Scope().for_source("user:ann@corp.example") == Scope()  # other sources keep the whole feed
    assert not Scope().needs_ancestors  # and cost no walk up the tree
