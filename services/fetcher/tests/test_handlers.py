"""The drive.changed handler's decisions, with fakes for Drive, the store and the publisher."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import pytest

from devstack.fakes import RecordingPublisher
from drive.client import (
    DriveExportTooLarge,
    DriveForbidden,
    DriveNotFound,
    DriveRateLimited,
    DriveUnauthorized,
)
from drive.models import Change, ChangesPage, DriveFile, FilesPage
from fetcher.failures import Failure, Retry
from fetcher.files import REMOVED, Limits
from fetcher.handlers import Options, handle_drive_changed, retry_failed_files
from fetcher.ports import Indexed, SameDrive
from fetcher.scope import Scope
from shared import mime
from shared.access import Permission
from shared.events import DocFetched, DriveChanged, FetchAction

SOURCE = "src"


class FakeDrive:
    """Drive in memory: files, a change log whose page tokens are positions in it, and content."""

    def __init__(self) -> None:
        self.files: dict[str, DriveFile] = {}
        self.content: dict[str, bytes] = {}
        self.log: list[Change] = []
        self.too_large: set[str] = set()
        self.running = self.most_running = 0
        self.downloads: list[str] = []
        # permissions.list answers: a file's own grants (plus its drive's members, if any).
        self.permissions: dict[str, list[Permission]] = {}
        self.members: dict[str, list[Permission]] = {}
        self.unreadable: set[str] = set()
        self.refusals: dict[str, Exception] = {}  # file id -> what its download raises
        self.incomplete_search = False
        self.unlisted: set[str] = set()  # files a listing leaves out although they exist

    def put(
        self, file_id: str, mime_type: str = mime.PLAIN_TEXT, content: bytes = b"text", **fields: Any
    ) -> None:
        """Create or update a file; every update bumps its version, as Drive does."""
        old = self.files[file_id].model_dump() if file_id in self.files else {"name": f"{file_id}.txt"}
        version = old.get("version", 0) + 1
        file = DriveFile(**{**old, "id": file_id, "mime_type": mime_type, **fields, "version": version})
        self.files[file_id] = file
        self.content[file_id] = content
        self.log.append(Change(file_id=file_id, file=file))

    def share(self, file_id: str, permissions: list[Permission]) -> None:
        """Change a file's sharing only: a new version at the same modified time, as in Drive."""
        self.permissions[file_id] = permissions
        self.put(file_id, self.files[file_id].mime_type, self.content[file_id])

    def set_members(self, drive_id: str, members: list[Permission]) -> None:
        """Change a shared drive's members: a change of the drive, not of its files."""
        self.members[drive_id] = members
        self.log.append(Change(change_type="drive", drive_id=drive_id))

    def remove(self, file_id: str) -> None:
        del self.files[file_id]
        self.log.append(Change(file_id=file_id, removed=True))

    async def get_start_page_token(self) -> str:
        return str(len(self.log))

    async def list_changes(self, page_token: str, page_size: int = 100) -> ChangesPage:
        start = int(page_token)
        end = min(start + page_size, len(self.log))
        more = end < len(self.log)
        return ChangesPage(tuple(self.log[start:end]), str(end) if more else None, None if more else str(end))

    async def list_files(self, page_token: str | None = None, page_size: int = 100) -> FilesPage:
        files = [f for f in self.files.values() if not f.trashed and f.id not in self.unlisted]
        start = int(page_token or 0)
        more = start + page_size < len(files)
        token = str(start + page_size) if more else None
        return FilesPage(tuple(files[start : start + page_size]), token, self.incomplete_search)

    async def get_file(self, file_id: str) -> DriveFile:
        if file_id not in self.files:
            raise DriveNotFound(f"no file {file_id}", status=404)
        return self.files[file_id]

    async def list_permissions(self, file_id: str) -> list[Permission]:
        if file_id in self.unreadable:
            raise DriveForbidden("The user does not have sufficient permissions", status=403)
        file = self.files.get(file_id)
        members = self.members.get(file.drive_id, []) if file and file.drive_id else []
        return [*members, *self.permissions.get(file_id, [])]

    async def download(self, file_id: str, max_bytes: int | None = None) -> bytes:
        self.downloads.append(file_id)
        if file_id in self.refusals:
            raise self.refusals[file_id]
        self.running += 1
        self.most_running = max(self.most_running, self.running)
        await asyncio.sleep(0.01)  # lets other downloads start, so the bound is exercised
        self.running -= 1
        return self.content[file_id]

    async def export(self, file_id: str, mime_type: str) -> bytes:
        self.downloads.append(file_id)
        if file_id in self.too_large:
            raise DriveExportTooLarge("too big", status=403, reason="exportSizeLimitExceeded")
        return self.content[file_id]


class FakeStore:
    """The Store port in memory; `versions` plays the embedder's documents table."""

    def __init__(self) -> None:
        self.tokens: dict[str, str | None] = {}
        self.versions: dict[str, int] = {}
        self.modified: dict[str, str] = {}  # modified time of the stored content, as Drive wrote it
        self.drives: dict[str, str] = {}  # file id -> shared drive id
        self.access: dict[str, tuple[int, list[str], str | None]] = {}
        self.failures: dict[str, tuple[int, str, int]] = {}  # file id -> (version, kind, attempts)
        self.sources: dict[str, str] = {}
        self.texts: dict[str, str] = {}
        self.removed_sources: set[str] = set()
        self.shown_by: dict[str, set[str]] = {}  # file id -> sources showing it (default: SOURCE)
        self.claims: dict[str, tuple[int, str]] = {}  # file id -> (version, source) fetching it
        self.source_errors: dict[str, str | None] = {}

    async def ensure_source(self, source_id: str) -> None:
        self.tokens.setdefault(source_id, None)

    async def is_removed(self, source_id: str) -> bool:
        return source_id in self.removed_sources

    async def record_source_error(self, source_id: str, error: str | None) -> None:
        self.source_errors[source_id] = error

    async def page_token(self, source_id: str) -> str | None:
        return self.tokens.get(source_id)

    async def save_page_token(self, source_id: str, token: str) -> None:
        self.tokens[source_id] = token

    async def indexed(self, file_ids: list[str]) -> dict[str, Indexed]:
        return {
            f: Indexed(
                v,
                _time(self.modified.get(f)),
                has_content=f in self.modified,
                shown_by=frozenset(self.shown_by.get(f, {SOURCE})),
            )
            for f, v in self.versions.items()
            if f in file_ids
        }

    async def claim(self, file_id: str, version: int, source_id: str) -> bool:
        held = self.claims.get(file_id)
        if held is None or held[0] < version or held[1] == source_id:
            self.claims[file_id] = (version, source_id)
            return True
        return False

    async def save_access(self, file_id: str, version: int, readers: list[str], reason: str | None) -> None:
        if self.access.get(file_id, (-1,))[0] <= version:
            self.access[file_id] = (version, readers, reason)

    async def drive_access_versions(self, drive_id: str) -> dict[str, int]:
        return {f: self.access[f][0] for f, d in self.drives.items() if d == drive_id and f in self.access}

    async def record_failure(
        self, file_id: str, source_id: str, version: int, failure: Failure, retry: Retry
    ) -> int:
        old_version, _, attempts = self.failures.get(file_id, (version, "", 0))
        attempts = attempts + 1 if old_version == version else 1
        self.failures[file_id] = (version, failure.kind, attempts)
        self.sources[file_id] = source_id
        return attempts

    async def clear_failure(self, file_id: str, version: int) -> None:
        if self.failures.get(file_id, (version + 1,))[0] <= version:
            del self.failures[file_id]

    async def due_failures(self, limit: int, lease_seconds: float) -> list[tuple[str, str]]:
        return [(f, self.sources[f]) for f, (_, kind, _) in self.failures.items() if kind == "transient"][
            :limit
        ]

    async def indexed_files(self, source_id: str) -> set[str]:
        return set(self.versions)

    async def save_text(self, content_hash: str, text: str) -> None:
        self.texts[content_hash] = text


def _time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def FakePublisher(fail_after: int | None = None) -> RecordingPublisher:  # noqa: N802 - reads as the fake it makes
    """Record what was published; refuse doc.fetched once `fail_after` of them went out."""
    return RecordingPublisher(fail_after=fail_after, failing=DocFetched)


def by_file(publisher: RecordingPublisher) -> dict[str, DocFetched]:
    """The last doc.fetched published for each file."""
    return {event.file_id: event for event in publisher.of(DocFetched)}


@pytest.fixture
def drive() -> FakeDrive:
    return FakeDrive()


@pytest.fixture
def store() -> FakeStore:
    fake = FakeStore()
    fake.tokens[SOURCE] = "0"
    return fake


async def _handle(
    drive: FakeDrive,
    store: FakeStore,
    state: str = "change",
    publisher: RecordingPublisher | None = None,
    **options: Any,
) -> RecordingPublisher:
    publisher = publisher or FakePublisher()
    event = DriveChanged(source_id=SOURCE, resource_state=state, received_at=datetime.now(UTC))  # type: ignore[arg-type]
    await handle_drive_changed(
        event, drive=drive, store=store, publisher=publisher, options=Options(**options)
    )
    return publisher


async def test_sync_message_reads_nothing(drive: FakeDrive) -> None:
    store = FakeStore()
    drive.put("a")
    published = await _handle(drive, store, "sync")
    assert published.events == []
    assert store.tokens == {}


async def test_first_message_of_a_source_only_takes_the_cursor(drive: FakeDrive) -> None:
    store = FakeStore()
    drive.put("before")
    published = await _handle(drive, store)
    assert published.events == []
    assert store.tokens[SOURCE] == "1"
    drive.put("after")
    published = await _handle(drive, store)
    assert [e.file_id for e in published.events] == ["after"]


async def test_pages_of_changes_publish_each_file_once_and_move_the_cursor(
    drive: FakeDrive, store: FakeStore
) -> None:
    for name in "abcde":
        drive.put(name, content=name.encode())
    drive.put("a", content=b"a2")  # two changes of one file: only the latest is fetched
    published = await _handle(drive, store, page_size=2)
    assert sorted(by_file(published)) == list("abcde")
    assert by_file(published)["a"].text == "a2"
    assert all(e.action == FetchAction.UPSERT for e in published.events)
    assert store.tokens[SOURCE] == "6"


async def test_versions_already_indexed_are_not_fetched_again(drive: FakeDrive, store: FakeStore) -> None:
    drive.put("old")
    drive.put("new")
    store.versions = {"old": 1, "new": 0}
    published = await _handle(drive, store)
    assert [e.file_id for e in published.events] == ["new"]


async def test_trashed_and_removed_files_are_deleted(drive: FakeDrive, store: FakeStore) -> None:
    drive.put("binned", trashed=True)
    drive.put("gone")
    drive.remove("gone")
    store.versions = {"gone": 7}
    events = by_file(await _handle(drive, store))
    assert events["binned"].action == FetchAction.DELETE
    assert events["binned"].version == 1
    assert events["gone"].action == FetchAction.DELETE
    assert events["gone"].version == REMOVED


async def test_folders_publish_metadata_without_text(drive: FakeDrive, store: FakeStore) -> None:
    drive.put("dir", mime.FOLDER, name="Plans", parents=("root",))
    event = by_file(await _handle(drive, store))["dir"]
    assert event.action == FetchAction.METADATA
    assert event.metadata is not None
    assert (event.metadata.name, event.metadata.parents, event.text) == ("Plans", ["root"], None)


async def test_shortcuts_publish_their_target_and_folder_shortcuts_are_ignored(
    drive: FakeDrive, store: FakeStore
) -> None:
    drive.put("target", mime.DOCUMENT, content=b"# Target")
    drive.put("dir", mime.FOLDER)
    store.tokens[SOURCE] = str(len(drive.log))
    drive.put("link", mime.SHORTCUT, target_id="target", target_mime_type=mime.DOCUMENT)
    drive.put("dirlink", mime.SHORTCUT, target_id="dir", target_mime_type=mime.FOLDER)
    drive.put("dangling", mime.SHORTCUT, target_id="nowhere", target_mime_type=mime.DOCUMENT)
    published = await _handle(drive, store)
    assert [(e.file_id, e.text) for e in published.events] == [("target", "# Target")]


async def test_files_that_cannot_become_text_are_skipped_with_a_reason(
    drive: FakeDrive, store: FakeStore
) -> None:
    drive.put("photo", "image/png", content=b"\x89PNG")
    drive.put("huge", mime.PDF, size=15 * 1024 * 1024)
    drive.put("broken", mime.PDF, content=b"%PDF-1.4 nonsense")
    drive.put("bigdoc", mime.DOCUMENT)
    drive.too_large.add("bigdoc")
    reasons = {f: e.reason for f, e in by_file(await _handle(drive, store)).items()}
    assert reasons == {
        "photo": "unsupported type image/png",
        "huge": "too large: 15 MB exceeds the 10 MB limit",
        "broken": reasons["broken"],
        "bigdoc": "too large: exceeds Drive's 10 MB export limit",
    }
    assert reasons["broken"].startswith("unparsable PDF")
    assert store.tokens[SOURCE] == "4"


async def test_large_texts_travel_by_reference(drive: FakeDrive, store: FakeStore) -> None:
    drive.put("long", content=b"x" * 100)
    drive.put("short", content=b"y" * 10)
    events = by_file(await _handle(drive, store, limits=Limits(inline_text_limit=50)))
    assert events["long"].text is None
    assert events["long"].text_ref == events["long"].content_hash
    assert store.texts[events["long"].content_hash or ""] == "x" * 100
    assert events["short"].text == "y" * 10
    assert events["short"].text_ref is None


async def test_cursor_stays_on_the_page_whose_events_were_not_all_published(
    drive: FakeDrive, store: FakeStore
) -> None:
    for name in "abcd":
        drive.put(name)
    with pytest.raises(ConnectionError):
        await _handle(drive, store, publisher=FakePublisher(fail_after=3), page_size=2, max_concurrency=1)
    assert store.tokens[SOURCE] == "2"
    published = await _handle(drive, store, page_size=2)
    assert sorted(by_file(published)) == ["c", "d"]


async def test_downloads_of_a_source_are_bounded(drive: FakeDrive, store: FakeStore) -> None:
    for number in range(12):
        drive.put(f"f{number}")
    published = await _handle(drive, store, max_concurrency=3)
    assert len(published.events) == 12
    assert drive.most_running == 3


async def test_backfill_goes_one_page_per_message_and_takes_a_cursor_first(drive: FakeDrive) -> None:
    store = FakeStore()
    for name in "abcde":
        drive.put(name)
    store.versions = {"b": 1}
    published = await _handle(drive, store, "backfill", page_size=2)
    assert sorted(by_file(published)) == ["a"]
    assert store.tokens[SOURCE] == "5"
    # Each message handles one page and queues the next, behind whatever was queued meanwhile.
    pages = 1
    while len(queued := published.of(DriveChanged)) >= pages:
        following = queued[pages - 1]
        assert following.resource_state == "backfill"
        assert following.files_page_token
        await handle_drive_changed(
            following, drive=drive, store=store, publisher=published, options=Options(page_size=2)
        )
        pages += 1
    assert (pages, sorted(by_file(published))) == (3, ["a", "c", "d", "e"])
    assert store.tokens[SOURCE] == "5"


async def test_reconcile_deletes_indexed_files_that_are_gone(drive: FakeDrive, store: FakeStore) -> None:
    drive.put("kept")
    drive.put("binned", trashed=True)
    store.versions = {"kept": 1, "binned": 1, "vanished": 4}
    events = by_file(await _handle(drive, store, "reconcile", max_delete_share=1.0))
    assert {f: (e.action, e.version) for f, e in events.items()} == {
        "binned": (FetchAction.DELETE, REMOVED),
        "vanished": (FetchAction.DELETE, REMOVED),
    }


async def test_a_shortcut_and_its_target_changed_together_publish_the_target_once(
    drive: FakeDrive, store: FakeStore
) -> None:
    drive.put("target", mime.DOCUMENT, content=b"# Target")
    drive.put("link", mime.SHORTCUT, target_id="target", target_mime_type=mime.DOCUMENT)
    published = await _handle(drive, store)
    assert [e.file_id for e in published.events] == ["target"]


ALICE = Permission(type="user", role="writer", email_address="Alice@Example.com")
LINK_ONLY = Permission(type="anyone", role="reader", allow_file_discovery=False)
DISCOVERABLE = Permission(type="domain", role="reader", domain="example.com", allow_file_discovery=True)
MODIFIED = "2025-03-01T12:00:00.000Z"


async def test_readers_are_stored_before_the_file_is_published(drive: FakeDrive, store: FakeStore) -> None:
    drive.put("doc", mime.DOCUMENT, content=b"# Plan", modified_time=MODIFIED)
    drive.permissions["doc"] = [ALICE, LINK_ONLY]
    published = await _handle(drive, store)
    assert by_file(published)["doc"].action == FetchAction.UPSERT
    assert store.access["doc"] == (1, ["user:alice@example.com"], None)


async def test_permissions_in_the_file_resource_are_used_without_listing(
    drive: FakeDrive, store: FakeStore
) -> None:
    drive.put(
        "doc",
        mime.DOCUMENT,
        permissions=(
            Permission(type="domain", role="reader", domain="Example.com", allow_file_discovery=True),
        ),
    )
    drive.unreadable.add("doc")  # permissions.list would fail: it must not be called
    await _handle(drive, store)
    assert store.access["doc"] == (1, ["domain:example.com"], None)


async def test_a_file_whose_permissions_cannot_be_read_is_indexed_for_nobody(
    drive: FakeDrive, store: FakeStore
) -> None:
    drive.put("doc", mime.DOCUMENT)
    drive.unreadable.add("doc")
    published = await _handle(drive, store)
    assert by_file(published)["doc"].action == FetchAction.UPSERT
    version, readers, reason = store.access["doc"]
    assert (version, readers) == (1, [])
    assert "permissions unreadable" in (reason or "")


async def test_a_change_of_sharing_only_updates_readers_without_downloading(
    drive: FakeDrive, store: FakeStore
) -> None:
    drive.put("doc", mime.DOCUMENT, content=b"# Plan", modified_time=MODIFIED)
    drive.permissions["doc"] = [ALICE, DISCOVERABLE]
    store.versions, store.modified = {"doc": 1}, {"doc": MODIFIED}
    drive.share("doc", [ALICE])  # the domain loses access; the text is the same
    drive.downloads.clear()
    published = await _handle(drive, store)
    assert [(e.action, e.version) for e in published.events] == [(FetchAction.METADATA, 2)]
    assert drive.downloads == []
    assert store.access["doc"] == (2, ["user:alice@example.com"], None)


async def test_an_edit_at_a_new_modified_time_is_downloaded_again(drive: FakeDrive, store: FakeStore) -> None:
    drive.put("doc", mime.DOCUMENT, content=b"# Plan", modified_time=MODIFIED)
    store.versions, store.modified = {"doc": 1}, {"doc": MODIFIED}
    drive.put("doc", mime.DOCUMENT, content=b"# Plan B", modified_time="2025-03-02T08:00:00.000Z")
    published = await _handle(drive, store)
    assert [e.action for e in published.events] == [FetchAction.UPSERT]
    assert drive.downloads == ["doc"]


async def test_a_change_of_shared_drive_members_rewrites_the_readers_of_its_files(
    drive: FakeDrive, store: FakeStore
) -> None:
    drive.put("plan", mime.DOCUMENT, drive_id="drive-1")
    drive.members["drive-1"] = [
        ALICE,
        Permission(type="user", role="reader", email_address="bob@example.com"),
    ]
    await _handle(drive, store)
    assert store.access["plan"][1] == ["user:alice@example.com", "user:bob@example.com"]
    store.versions, store.drives = {"plan": 1}, {"plan": "drive-1"}

    drive.set_members("drive-1", [ALICE])
    published = await _handle(drive, store)
    assert published.events == []  # nothing to re-fetch: only who may read it changed
    assert store.access["plan"] == (1, ["user:alice@example.com"], None)


async def test_a_file_drive_will_not_hand_over_is_recorded_and_the_page_goes_on(
    drive: FakeDrive, store: FakeStore
) -> None:
    drive.put("locked", content=b"secret")
    drive.put("open", content=b"hello")
    drive.refusals["locked"] = DriveForbidden("cannot download", status=403, reason="cannotDownloadFile")
    published = await _handle(drive, store)
    assert [e.file_id for e in published.events] == ["open"]  # no skip: indexed text stays as it was
    assert store.failures == {"locked": (1, "permanent", 1)}
    assert store.tokens[SOURCE] == "2"  # the cursor moved past both


async def test_a_throttled_file_is_tried_again_later_and_its_failure_cleared(
    drive: FakeDrive, store: FakeStore
) -> None:
    drive.put("busy", content=b"later")
    drive.refusals["busy"] = DriveRateLimited("slow down", status=429, reason="rateLimitExceeded")
    assert (await _handle(drive, store)).events == []
    assert store.failures["busy"] == (1, "transient", 1)

    del drive.refusals["busy"]
    publisher = FakePublisher()
    tried = await retry_failed_files(
        drives=SameDrive(drive), store=store, publisher=publisher, options=Options()
    )
    assert tried == 1
    assert [(e.file_id, e.action) for e in publisher.of(DocFetched)] == [("busy", FetchAction.UPSERT)]
    assert store.failures == {}


async def test_a_retry_of_a_file_deleted_meanwhile_removes_it(drive: FakeDrive, store: FakeStore) -> None:
    drive.put("gone")
    drive.refusals["gone"] = DriveRateLimited("slow down", status=429, reason="rateLimitExceeded")
    await _handle(drive, store)
    drive.remove("gone")
    publisher = FakePublisher()
    await retry_failed_files(drives=SameDrive(drive), store=store, publisher=publisher, options=Options())
    assert [(e.file_id, e.action) for e in publisher.of(DocFetched)] == [("gone", FetchAction.DELETE)]
    assert store.failures == {}


async def test_refused_credentials_stop_the_page_and_keep_the_cursor(
    drive: FakeDrive, store: FakeStore
) -> None:
    drive.put("any")
    drive.refusals["any"] = DriveUnauthorized("Invalid Credentials", status=401, reason="authError")
    with pytest.raises(DriveUnauthorized):
        await _handle(drive, store)
    assert store.tokens[SOURCE] == "0"
    assert store.failures == {}  # not the file's fault: nothing recorded against it


async def test_reconcile_deletes_nothing_on_a_listing_drive_marks_incomplete(
    drive: FakeDrive, store: FakeStore
) -> None:
    drive.put("kept")
    drive.incomplete_search = True
    store.versions = {"kept": 0, "vanished": 4}
    events = await _handle(drive, store, "reconcile", max_delete_share=1.0)
    assert [e.action for e in events.events] == [FetchAction.UPSERT]  # "kept" is newer: fetched


async def test_reconcile_confirms_each_missing_file_before_deleting_it(
    drive: FakeDrive, store: FakeStore
) -> None:
    drive.put("flaky")  # exists, but the listing left it out
    drive.unlisted.add("flaky")
    store.versions = {"flaky": 1, "vanished": 1}
    events = await _handle(drive, store, "reconcile", max_delete_share=1.0)
    assert [(e.file_id, e.action) for e in events.events] == [("vanished", FetchAction.DELETE)]


async def test_reconcile_refuses_a_mass_delete_unless_forced(drive: FakeDrive, store: FakeStore) -> None:
    drive.put("kept")
    store.versions = {"kept": 1, **{f"gone-{n}": 1 for n in range(9)}}  # 90 % of the index vanished
    assert (await _handle(drive, store, "reconcile")).events == []

    forced = DriveChanged(
        source_id=SOURCE, resource_state="reconcile", received_at=datetime.now(UTC), force=True
    )
    publisher = FakePublisher()
    await handle_drive_changed(forced, drive=drive, store=store, publisher=publisher, options=Options())
    assert sorted(by_file(publisher)) == [f"gone-{n}" for n in range(9)]


async def test_a_truncated_text_says_so_on_its_event(drive: FakeDrive, store: FakeStore) -> None:
    from fetcher.extract import Extracted
    from fetcher.files import Limits as FileLimits

    async def cut_short(mime_type: str, data: bytes) -> Extracted:
        return Extracted(data.decode()[:5], truncated=True)

    drive.put("long", content=b"a very long text indeed")
    published = await _handle(drive, store, limits=FileLimits(extractor=cut_short))
    event = by_file(published)["long"]
    assert (event.action, event.text) == (FetchAction.UPSERT, "a ver")
    assert event.reason == "truncated: only the first 5 characters are indexed"


# ---- sources of a domain: scope, a refused identity, removed sources ----

USER_SOURCE = "user:alice@corp.example"


async def _handle_source(
    drive: FakeDrive, store: FakeStore, source_id: str, state: str = "change", **options: Any
) -> RecordingPublisher:
    publisher = FakePublisher()
    event = DriveChanged(source_id=source_id, resource_state=state, received_at=datetime.now(UTC))  # type: ignore[arg-type]
    await handle_drive_changed(
        event, drive=drive, store=store, publisher=publisher, options=Options(**options)
    )
    return publisher


async def test_files_out_of_scope_are_removed_without_being_fetched(
    drive: FakeDrive, store: FakeStore
) -> None:
    scope = Scope.of(allowed_domains=["corp.example"], exclude_folders=["private"])
    drive.put("ours", owner_emails=("a@corp.example",))
    drive.put("planted", owner_emails=("m@elsewhere.example",))
    drive.put("hidden", owner_emails=("a@corp.example",), parents=("private",))
    published = await _handle(drive, store, scope=scope)
    actions = {e.file_id: (e.action, e.source_id) for e in published.events}
    assert actions == {
        "ours": (FetchAction.UPSERT, SOURCE),
        "planted": (FetchAction.DELETE, SOURCE),
        "hidden": (FetchAction.DELETE, SOURCE),
    }
    assert drive.downloads == ["ours"]


async def test_a_user_source_refused_its_identity_records_the_error_and_does_not_raise(
    drive: FakeDrive, store: FakeStore
) -> None:
    store.tokens[USER_SOURCE] = "0"
    drive.put("any")
    drive.refusals["any"] = DriveUnauthorized("Invalid Credentials", status=401, reason="authError")
    published = await _handle_source(drive, store, USER_SOURCE)
    assert published.events == []
    assert "DriveUnauthorized" in (store.source_errors[USER_SOURCE] or "")
    assert store.tokens[USER_SOURCE] == "0"  # read again from here by the next poll
    del drive.refusals["any"]
    published = await _handle_source(drive, store, USER_SOURCE)
    assert [e.file_id for e in published.events] == ["any"]
    assert store.source_errors[USER_SOURCE] is None


async def test_a_removed_source_is_not_read(drive: FakeDrive, store: FakeStore) -> None:
    store.tokens[USER_SOURCE] = "0"
    store.removed_sources.add(USER_SOURCE)
    drive.put("any")
    assert (await _handle_source(drive, store, USER_SOURCE)).events == []
    assert store.tokens[USER_SOURCE] == "0"


async def test_a_poll_of_a_user_source_never_read_backfills_it(drive: FakeDrive) -> None:
    store = FakeStore()
    drive.put("before")
    published = await _handle_source(drive, store, USER_SOURCE, "poll")
    assert [e.file_id for e in published.events] == ["before"]
    assert store.tokens[USER_SOURCE] == "1"


async def test_a_file_two_sources_show_is_downloaded_once(drive: FakeDrive, store: FakeStore) -> None:
    store.tokens[USER_SOURCE] = "0"
    drive.put("shared")
    first = await _handle(drive, store)
    second = await _handle_source(drive, store, USER_SOURCE)
    assert [(e.file_id, e.action) for e in first.events] == [("shared", FetchAction.UPSERT)]
    # The second source only says that it shows the file too, at the same version.
    assert [(e.file_id, e.action, e.version) for e in second.events] == [("shared", FetchAction.METADATA, 1)]
    assert drive.downloads == ["shared"]


async def test_an_indexed_file_a_new_source_shows_costs_it_a_metadata_event(
    drive: FakeDrive, store: FakeStore
) -> None:
    drive.put("known")
    store.versions["known"] = 1  # indexed from SOURCE
    published = await _handle_source(drive, store, USER_SOURCE, "backfill")
    assert [(e.file_id, e.action, e.source_id) for e in published.events] == [
        ("known", FetchAction.METADATA, USER_SOURCE)
    ]
    store.shown_by["known"] = {SOURCE, USER_SOURCE}
    assert (await _handle_source(drive, store, USER_SOURCE, "reconcile")).events == []
    assert drive.downloads == []
