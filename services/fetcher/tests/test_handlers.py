"""The drive.changed handler's decisions, with fakes for Drive, the store and the publisher."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import pytest

from fetcher.files import FOLDER, REMOVED, SHORTCUT, Limits
from fetcher.handlers import Options, handle_drive_changed
from shared.drive import ChangesPage, DriveExportTooLarge, DriveNotFound, FilesPage
from shared.events import DocFetched, DriveChanged, Event, FetchAction

DOC = "application/vnd.google-apps.document"
SOURCE = "src"


class FakeDrive:
    """Drive in memory: files, a change log whose page tokens are positions in it, and content."""

    def __init__(self) -> None:
        self.files: dict[str, dict[str, Any]] = {}
        self.content: dict[str, bytes] = {}
        self.log: list[dict[str, Any]] = []
        self.too_large: set[str] = set()
        self.running = self.most_running = 0

    def put(
        self, file_id: str, mime_type: str = "text/plain", content: bytes = b"text", **fields: Any
    ) -> None:
        """Create or update a file; every update bumps its version, as Drive does."""
        old = self.files.get(file_id, {})
        version = int(old.get("version", 0)) + 1
        file = {"id": file_id, "name": f"{file_id}.txt", **old, "mimeType": mime_type, **fields}
        file["version"] = str(version)
        self.files[file_id] = file
        self.content[file_id] = content
        self.log.append({"changeType": "file", "fileId": file_id, "removed": False, "file": dict(file)})

    def remove(self, file_id: str) -> None:
        del self.files[file_id]
        self.log.append({"changeType": "file", "fileId": file_id, "removed": True})

    async def get_start_page_token(self) -> str:
        return str(len(self.log))

    async def list_changes(self, page_token: str, page_size: int = 100) -> ChangesPage:
        start = int(page_token)
        end = min(start + page_size, len(self.log))
        more = end < len(self.log)
        return ChangesPage(self.log[start:end], str(end) if more else None, None if more else str(end))

    async def list_files(self, page_token: str | None = None, page_size: int = 100) -> FilesPage:
        files = [f for f in self.files.values() if not f.get("trashed")]
        start = int(page_token or 0)
        more = start + page_size < len(files)
        return FilesPage(files[start : start + page_size], str(start + page_size) if more else None)

    async def get_file(self, file_id: str) -> dict[str, Any]:
        if file_id not in self.files:
            raise DriveNotFound(f"no file {file_id}", status=404)
        return dict(self.files[file_id])

    async def download(self, file_id: str) -> bytes:
        self.running += 1
        self.most_running = max(self.most_running, self.running)
        await asyncio.sleep(0.01)  # lets other downloads start, so the bound is exercised
        self.running -= 1
        return self.content[file_id]

    async def export(self, file_id: str, mime_type: str) -> bytes:
        if file_id in self.too_large:
            raise DriveExportTooLarge("too big", status=403, reason="exportSizeLimitExceeded")
        return self.content[file_id]


class FakeStore:
    """The Store port in memory; `versions` plays the embedder's documents table."""

    def __init__(self) -> None:
        self.tokens: dict[str, str | None] = {}
        self.indexed: dict[str, int] = {}
        self.texts: dict[str, str] = {}

    async def ensure_source(self, source_id: str) -> None:
        self.tokens.setdefault(source_id, None)

    async def page_token(self, source_id: str) -> str | None:
        return self.tokens.get(source_id)

    async def save_page_token(self, source_id: str, token: str) -> None:
        self.tokens[source_id] = token

    async def versions(self, file_ids: list[str]) -> dict[str, int]:
        return {f: v for f, v in self.indexed.items() if f in file_ids}

    async def indexed_files(self, source_id: str) -> set[str]:
        return set(self.indexed)

    async def save_text(self, content_hash: str, text: str) -> None:
        self.texts[content_hash] = text


class FakePublisher:
    """Record what was published; fail once `fail_after` events went out."""

    def __init__(self, fail_after: int | None = None) -> None:
        self.events: list[DocFetched] = []
        self.fail_after = fail_after

    async def publish(self, topic: str, key: str, event: Event) -> None:
        assert topic == "doc.fetched"
        assert isinstance(event, DocFetched)
        assert key == event.file_id
        if self.fail_after is not None and len(self.events) >= self.fail_after:
            raise ConnectionError("broker gone")
        self.events.append(event)

    def by_file(self) -> dict[str, DocFetched]:
        return {event.file_id: event for event in self.events}


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
    publisher: FakePublisher | None = None,
    **options: Any,
) -> FakePublisher:
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
    assert sorted(published.by_file()) == list("abcde")
    assert published.by_file()["a"].text == "a2"
    assert all(e.action == FetchAction.UPSERT for e in published.events)
    assert store.tokens[SOURCE] == "6"


async def test_versions_already_indexed_are_not_fetched_again(drive: FakeDrive, store: FakeStore) -> None:
    drive.put("old")
    drive.put("new")
    store.indexed = {"old": 1, "new": 0}
    published = await _handle(drive, store)
    assert [e.file_id for e in published.events] == ["new"]


async def test_trashed_and_removed_files_are_deleted(drive: FakeDrive, store: FakeStore) -> None:
    drive.put("binned", trashed=True)
    drive.put("gone")
    drive.remove("gone")
    store.indexed = {"gone": 7}
    events = (await _handle(drive, store)).by_file()
    assert events["binned"].action == FetchAction.DELETE
    assert events["binned"].version == 1
    assert events["gone"].action == FetchAction.DELETE
    assert events["gone"].version == REMOVED


async def test_folders_publish_metadata_without_text(drive: FakeDrive, store: FakeStore) -> None:
    drive.put("dir", FOLDER, name="Plans", parents=["root"])
    event = (await _handle(drive, store)).by_file()["dir"]
    assert event.action == FetchAction.METADATA
    assert event.metadata is not None
    assert (event.metadata.name, event.metadata.parents, event.text) == ("Plans", ["root"], None)


async def test_shortcuts_publish_their_target_and_folder_shortcuts_are_ignored(
    drive: FakeDrive, store: FakeStore
) -> None:
    drive.put("target", DOC, content=b"# Target")
    drive.put("dir", FOLDER)
    store.tokens[SOURCE] = str(len(drive.log))
    drive.put("link", SHORTCUT, shortcutDetails={"targetId": "target", "targetMimeType": DOC})
    drive.put("dirlink", SHORTCUT, shortcutDetails={"targetId": "dir", "targetMimeType": FOLDER})
    drive.put("dangling", SHORTCUT, shortcutDetails={"targetId": "nowhere", "targetMimeType": DOC})
    published = await _handle(drive, store)
    assert [(e.file_id, e.text) for e in published.events] == [("target", "# Target")]


async def test_files_that_cannot_become_text_are_skipped_with_a_reason(
    drive: FakeDrive, store: FakeStore
) -> None:
    drive.put("photo", "image/png", content=b"\x89PNG")
    drive.put("huge", "application/pdf", size=str(15 * 1024 * 1024))
    drive.put("broken", "application/pdf", content=b"%PDF-1.4 nonsense")
    drive.put("bigdoc", DOC)
    drive.too_large.add("bigdoc")
    reasons = {f: e.reason for f, e in (await _handle(drive, store)).by_file().items()}
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
    events = (await _handle(drive, store, limits=Limits(inline_text_limit=50))).by_file()
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
    assert sorted(published.by_file()) == ["c", "d"]


async def test_downloads_of_a_source_are_bounded(drive: FakeDrive, store: FakeStore) -> None:
    for number in range(12):
        drive.put(f"f{number}")
    published = await _handle(drive, store, max_concurrency=3)
    assert len(published.events) == 12
    assert drive.most_running == 3


async def test_backfill_lists_every_file_and_takes_a_cursor_first(drive: FakeDrive) -> None:
    store = FakeStore()
    for name in "abc":
        drive.put(name)
    store.indexed = {"b": 1}
    published = await _handle(drive, store, "backfill", page_size=2)
    assert sorted(published.by_file()) == ["a", "c"]
    assert store.tokens[SOURCE] == "3"


async def test_reconcile_deletes_indexed_files_that_are_gone(drive: FakeDrive, store: FakeStore) -> None:
    drive.put("kept")
    drive.put("binned", trashed=True)
    store.indexed = {"kept": 1, "binned": 1, "vanished": 4}
    events = (await _handle(drive, store, "reconcile")).by_file()
    assert {f: (e.action, e.version) for f, e in events.items()} == {
        "binned": (FetchAction.DELETE, REMOVED),
        "vanished": (FetchAction.DELETE, REMOVED),
    }


async def test_a_shortcut_and_its_target_changed_together_publish_the_target_once(
    drive: FakeDrive, store: FakeStore
) -> None:
    drive.put("target", DOC, content=b"# Target")
    drive.put("link", SHORTCUT, shortcutDetails={"targetId": "target", "targetMimeType": DOC})
    published = await _handle(drive, store)
    assert [e.file_id for e in published.events] == ["target"]
