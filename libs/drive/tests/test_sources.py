"""Source ids, and the Drive client each source reads through (its user, its shared drive)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from drive.client import DriveClient, DriveNotFound, DriveSettings
from drive.clients import DriveClients
from drive.models import Change
from drive.sources import InvalidSourceError, SourceKind, SourceRef
from drive_emulator import EmulatorControl, EmulatorServer, sample_domain
from drive_emulator.auth import service_account_key
from drive_emulator.sample_domain import ALICE, BOB, CAROL, EXPECTED, SampleDomain
from shared.errors import is_retriable


@pytest.mark.parametrize(
    ("source_id", "kind", "subject", "drive_id"),
    [
        ("user:alice@corp.example", SourceKind.USER, "alice@corp.example", None),
        ("user:Alice@Corp.Example", SourceKind.USER, "alice@corp.example", None),
        ("drive:0AbCdEf", SourceKind.DRIVE, None, "0AbCdEf"),
        ("drive:0AbC?as=bob@corp.example", SourceKind.DRIVE, "bob@corp.example", "0AbC"),
        ("default", SourceKind.FEED, None, None),
        ("src-1234", SourceKind.FEED, None, None),
    ],
)
def test_a_source_id_names_whom_to_act_as_and_which_drive(
    source_id: str, kind: SourceKind, subject: str | None, drive_id: str | None
) -> None:
    ref = SourceRef.parse(source_id)
    assert (ref.kind, ref.subject, ref.drive_id) == (kind, subject, drive_id)
    assert ref.id == (f"user:{subject}" if kind is SourceKind.USER else source_id)


@pytest.mark.parametrize(
    ("source_id", "hint"),
    [
        ("user:", "user:<email>"),
        ("user:alice", "user:<email>"),
        ("user:alice@localhost", "user:<email>"),
        ("drive:", "drive:<shared drive id>"),
        ("drive:a/b", "drive:<shared drive id>"),
        ("drive:0AbC?as=nobody", "drive:<shared drive id>"),
        ("  ", "must not be empty"),
    ],
)
def test_a_malformed_source_id_names_the_expected_form(source_id: str, hint: str) -> None:
    with pytest.raises(ValueError, match=hint.replace("?", r"\?")):
        SourceRef.parse(source_id)


def test_user_and_drive_build_their_ids() -> None:
    assert SourceRef.user("bob@corp.example").id == "user:bob@corp.example"
    assert SourceRef.drive("0AbC").id == "drive:0AbC"


@pytest.fixture
def emulator() -> Iterator[EmulatorServer]:
    with EmulatorServer(require_auth=True) as server:
        yield server


@pytest.fixture
def domain(emulator: EmulatorServer) -> SampleDomain:
    return sample_domain.build(EmulatorControl(emulator.url))


@pytest.fixture
def settings(emulator: EmulatorServer, tmp_path: Path) -> DriveSettings:
    key = service_account_key(tmp_path / "key.json", f"{emulator.url}/token")
    return DriveSettings(
        drive_api_endpoint=emulator.api_endpoint,
        google_application_credentials=str(key),
        google_subject=ALICE,
        drive_backoff_seconds=0.01,
        drive_max_retries=1,
    )


async def listed(drive: DriveClient) -> set[str]:
    return {f.id async for page in drive.file_pages() for f in page.files}


async def changed(drive: DriveClient, token: str) -> list[Change]:
    return [c async for page in drive.change_pages(token) for c in page.changes]


async def test_a_user_source_reads_as_that_user(settings: DriveSettings, domain: SampleDomain) -> None:
    async with DriveClients(settings) as clients:
        for user in (ALICE, BOB, CAROL):
            drive = clients.for_source(f"user:{user}")
            assert domain.names(await listed(drive)) == EXPECTED[user]
            assert drive is clients.for_source(f"user:{user}")  # one client per identity


async def test_a_drive_source_follows_that_drive_only(settings: DriveSettings, domain: SampleDomain) -> None:
    engineering, sales = domain.drives["Engineering"], domain.drives["Sales"]
    async with DriveClients(settings) as clients:
        eng = clients.for_source(f"drive:{engineering}")  # as GOOGLE_SUBJECT, a member through eng@
        assert domain.names(await listed(eng)) == {"runbook"}
        token = await eng.get_start_page_token()
        sample = EmulatorControl(settings.drive_api_endpoint.split("/drive/")[0])  # type: ignore[union-attr]
        sample.update_file(domain.files["runbook"], content="# runbook v2\n")
        sample.update_file(domain.files["alice-notes"], content="# notes v2\n")
        assert {c.file_id for c in await changed(eng, token) if c.change_type == "file"} == {
            domain.files["runbook"]
        }
        with pytest.raises(DriveNotFound):  # alice is no member of Sales
            await clients.for_source(f"drive:{sales}").get_start_page_token()
        as_bob = clients.for_source(f"drive:{sales}?as={BOB}")
        assert domain.names(await listed(as_bob)) == {"pricing"}


def test_a_malformed_source_id_is_a_permanent_error() -> None:
    with pytest.raises(InvalidSourceError) as raised:
        SourceRef.parse("user:nobody")
    assert not is_retriable(raised.value)  # its message goes to the DLQ, not round and round
