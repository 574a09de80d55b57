"""DriveClient acting as users of a domain through delegation (GOOGLE_SUBJECT), against the emulator.

The key file's token_uri points at the emulator, which answers the JWT-bearer grant for the
requested subject and then every call as that user: their files, their change feed.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from google.auth.exceptions import RefreshError

from drive.client import DriveClient, DriveNotFound, DriveSettings
from drive.models import Change
from drive_emulator import EmulatorControl, EmulatorServer, sample_domain
from drive_emulator.auth import service_account_key
from drive_emulator.sample_domain import ALICE, BOB, CAROL, EXPECTED, SampleDomain
from shared import mime

SERVICE_ACCOUNT = "indexer@drive-index-dev.iam.gserviceaccount.com"  # service_account_key's


@pytest.fixture
def emulator() -> Iterator[EmulatorServer]:
    with EmulatorServer(require_auth=True) as server:
        yield server


@pytest.fixture
def control(emulator: EmulatorServer) -> EmulatorControl:
    return EmulatorControl(emulator.url)


@pytest.fixture
def key(emulator: EmulatorServer, tmp_path: Path) -> Path:
    return service_account_key(tmp_path / "key.json", f"{emulator.url}/token")


@pytest.fixture
def domain(control: EmulatorControl) -> SampleDomain:
    return sample_domain.build(control)


@pytest.fixture
def as_user(emulator: EmulatorServer, key: Path) -> Any:
    """`async with as_user("alice@…") as drive:` — a DriveClient impersonating that user."""

    @asynccontextmanager
    async def client(subject: str | None) -> AsyncIterator[DriveClient]:
        settings = DriveSettings(
            drive_api_endpoint=emulator.api_endpoint,
            google_application_credentials=str(key),
            google_subject=subject,
            drive_backoff_seconds=0.01,
            drive_max_retries=1,
        )
        async with DriveClient.from_settings(settings) as drive:
            yield drive

    return client


async def listed(drive: DriveClient) -> set[str]:
    return {f.id async for page in drive.file_pages() for f in page.files}


async def changed(drive: DriveClient, token: str) -> list[Change]:
    return [c async for page in drive.change_pages(token) for c in page.changes]


def file_changes(changes: list[Change]) -> dict[str, bool]:
    """File id -> removed, for the file changes of a feed."""
    return {c.file_id: c.removed for c in changes if c.change_type == "file" and c.file_id}


async def test_each_user_lists_and_follows_exactly_their_files(as_user: Any, domain: SampleDomain) -> None:
    for user, expected in EXPECTED.items():
        async with as_user(user) as drive:
            files = await listed(drive)
            changes = await changed(drive, "1")

        assert domain.names(files) == expected, user
        assert domain.names(set(file_changes(changes))) == expected, user
        assert not any(file_changes(changes).values())


async def test_drive_changes_reach_members_only(as_user: Any, domain: SampleDomain) -> None:
    async with as_user(ALICE) as alice, as_user(CAROL) as carol:
        alices = await changed(alice, "1")
        carols = await changed(carol, "1")

    def drives(changes: list[Change]) -> set[str | None]:
        return {c.drive_id for c in changes if c.change_type == "drive"}

    assert drives(alices) == {domain.drives["Engineering"]}
    assert drives(carols) == {domain.drives["Sales"]}


async def test_a_file_out_of_reach_is_not_found(as_user: Any, domain: SampleDomain) -> None:
    salaries, runbook = domain.files["salaries"], domain.files["runbook"]
    async with as_user(ALICE) as alice:
        for call in (alice.get_file, alice.list_permissions, lambda f: alice.export(f, mime.PLAIN_TEXT)):
            with pytest.raises(DriveNotFound):
                await call(salaries)
        assert (await alice.get_file(runbook)).drive_id == domain.drives["Engineering"]
        # Shared with anyone, by link or not: alice may open them, though they are not in her Drive.
        assert await alice.export(domain.files["reorg-draft"], mime.PLAIN_TEXT)
        assert [p.type for p in await alice.list_permissions(domain.files["press-kit"])] == [
            "user",
            "anyone",
        ]


async def test_a_file_shared_by_two_is_in_both_feeds_and_unsharing_removes_it_from_one(
    as_user: Any, control: EmulatorControl, domain: SampleDomain
) -> None:
    plan = domain.files["bob-plan"]
    async with as_user(BOB) as bob, as_user(CAROL) as carol:
        bobs, carols = await bob.get_start_page_token(), await carol.get_start_page_token()
        control.update_file(plan, content="# plan\n\nv2")
        edited = (await changed(bob, bobs), await changed(carol, carols))
        bobs, carols = await bob.get_start_page_token(), await carol.get_start_page_token()

        control.share(plan, [sample_domain.owner(BOB)])
        unshared = (await changed(bob, bobs), await changed(carol, carols))
        again = await changed(carol, carols)  # the same range read twice: the removal is still there
        later = await carol.get_start_page_token()
        control.update_file(plan, content="# plan\n\nv3")
        after = (await changed(bob, later), await changed(carol, later))
        with pytest.raises(DriveNotFound):
            await carol.get_file(plan)

    assert [file_changes(feed) for feed in edited] == [{plan: False}, {plan: False}]
    assert [file_changes(feed) for feed in unshared] == [{plan: False}, {plan: True}]
    assert "file" not in unshared[1][0]
    assert file_changes(again) == {plan: True}
    assert [file_changes(feed) for feed in after] == [{plan: False}, {}]  # taken back once only


async def test_leaving_a_group_or_a_drive_takes_its_files_away(
    as_user: Any, control: EmulatorControl, domain: SampleDomain
) -> None:
    engineering, sales = domain.drives["Engineering"], domain.drives["Sales"]
    async with as_user(ALICE) as alice, as_user(BOB) as bob, as_user(CAROL) as carol:
        tokens = [await user.get_start_page_token() for user in (alice, bob, carol)]
        control.set_group_members(sample_domain.PLATFORM, [])
        control.set_drive_members(sales, [{"type": "user", "role": "organizer", "emailAddress": BOB}])
        alices, bobs, carols = [
            await changed(user, token) for user, token in zip((alice, bob, carol), tokens, strict=True)
        ]
        assert await listed(alice) == {domain.files["alice-notes"], domain.files["outsider-tip"]}

    assert domain.names({f for f, removed in file_changes(alices).items() if removed}) == {
        "eng-design",
        "runbook",
    }
    assert [(c.drive_id, c.removed) for c in alices if c.change_type == "drive"] == [(engineering, True)]
    assert file_changes(carols) == {domain.files["pricing"]: True}
    assert [(c.drive_id, c.removed) for c in carols if c.change_type == "drive"] == [(sales, True)]
    assert file_changes(bobs) == {}  # bob stays in both: the drive changed, his files did not
    assert [(c.drive_id, c.removed) for c in bobs if c.change_type == "drive"] == [(sales, False)]


async def test_deleting_a_file_removes_it_from_the_feeds_that_had_it(
    as_user: Any, control: EmulatorControl, domain: SampleDomain
) -> None:
    async with as_user(ALICE) as alice, as_user(BOB) as bob:
        tokens = (await alice.get_start_page_token(), await bob.get_start_page_token())
        control.delete(domain.files["eng-design"])
        control.delete(domain.files["salaries"])

        assert file_changes(await changed(alice, tokens[0])) == {domain.files["eng-design"]: True}
        assert file_changes(await changed(bob, tokens[1])) == {domain.files["eng-design"]: True}


async def test_the_service_account_itself_sees_what_is_shared_with_it(
    as_user: Any, control: EmulatorControl, domain: SampleDomain
) -> None:
    mine = control.create_doc(
        "for-the-indexer",
        "# x\n",
        permissions=[sample_domain.owner(ALICE), sample_domain.reader("user", SERVICE_ACCOUNT)],
    )["id"]

    async with as_user(None) as indexer:
        files = await listed(indexer)
        changes = await changed(indexer, "1")

    assert files == {mine}
    assert set(file_changes(changes)) == {mine}
    [grant] = [g for g in control.tokens() if g["subject"] is None]
    assert grant["issuer"] == SERVICE_ACCOUNT


async def test_suspended_and_unknown_users_cannot_be_impersonated(
    as_user: Any, control: EmulatorControl, domain: SampleDomain
) -> None:
    async with as_user(CAROL) as carol:
        await carol.get_start_page_token()  # a token is issued and cached
        control.update_user(CAROL, suspended=True)
        with pytest.raises(RefreshError, match="invalid_grant"):
            await carol.get_start_page_token()  # 401 for the lapsed token, and no new one
    async with as_user("dave@example.com") as dave:
        with pytest.raises(RefreshError, match="invalid_grant"):
            await dave.get_start_page_token()
    control.update_user(CAROL, suspended=False)
    async with as_user(CAROL) as carol:
        assert await carol.get_start_page_token()
