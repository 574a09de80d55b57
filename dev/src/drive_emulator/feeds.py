"""Change feeds as each user sees them: what a user's changes.list hands out, and takes back.

Every caller acting as a user has a log of their own, kept in step with the store: a change to a
file or drive they can see is copied into it; a change after which they no longer can (unshared,
removed from a group or drive, deleted) becomes a `removed` entry, once, if their feed had handed
that file out. Sharing that changes without a change to the file (group membership, users of the
domain) is settled feed by feed, each new entry with a change id of its own. Entries keep the
global ids, so page tokens mean the same in every feed.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from drive_emulator.store import Change, Store, now, since
from drive_emulator.visibility import Viewer, in_corpus, is_admin, member_of, viewer_of

# Each feed's new entries after one event; the key None is the all-seeing caller's (global) feed.
Touched = dict[str | None, list[Change]]
Listener = Callable[[str, Touched], None]


def in_scope(change: Change, drive_id: str | None, all_drives: bool) -> bool:
    """Whether a feed asked for with `driveId` / `includeItemsFromAllDrives` holds this entry."""
    if drive_id is not None:
        return change.drive_id == drive_id
    return all_drives or change.file_id is None or change.drive_id is None


@dataclass
class Feed:
    """One user's change log and what it has handed out (key -> the drive the item is in)."""

    email: str
    log: list[Change] = field(default_factory=list)
    seen: dict[str, str | None] = field(default_factory=dict)

    def since(self, token: int) -> list[Change]:
        return since(self.log, token)

    def add(self, entry: Change) -> Change:
        self.log.append(entry)
        if entry.removed:
            self.seen.pop(entry.key, None)
        else:
            self.seen[entry.key] = entry.drive_id
        return entry


class Audience:
    """Which feeds an item can concern: a superset, each member then checked by the rules.

    Indexes feeds by what a grant names (address, group, domain) and by what they hold, so an
    event costs the feeds it concerns, not every feed of the domain.
    """

    def __init__(self) -> None:
        self.holders: dict[str, set[str]] = defaultdict(set)  # key -> feeds that hold it
        self.by_domain: dict[str, set[str]] = defaultdict(set)
        self.by_group: dict[str, set[str]] | None = None  # rebuilt after membership changes
        self.emails: set[str] = set()

    def add_feed(self, feed: Feed, viewer: Viewer) -> None:
        self.emails.add(feed.email)
        self.by_domain[viewer.domain].add(feed.email)
        for key in feed.seen:
            self.holders[key].add(feed.email)
        if self.by_group is not None:
            for group in viewer.groups:
                self.by_group.setdefault(group, set()).add(feed.email)

    def named(
        self, grants: Iterable[dict[str, Any]], groups: dict[str, set[str]], *, domains: bool
    ) -> set[str]:
        """Feeds a list of grants may reach: users named, members of groups named, domains (for drives)."""
        found: set[str] = set()
        for grant in grants:
            address = str(grant.get("emailAddress", "")).lower()
            if grant["type"] == "user" and address in self.emails:
                found.add(address)
            elif grant["type"] == "group":
                found |= groups.get(address, set())
            elif grant["type"] == "domain" and domains:
                found |= self.by_domain.get(str(grant.get("domain", "")).lower(), set())
        return found


class Feeds:
    """Every user's feed, following the store; listeners hear which feeds each event reached."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._feeds: dict[str, Feed] = {}
        self._viewers: dict[str, Viewer] = {}  # by address, until group membership changes
        self._audience = Audience()
        self._listeners: list[Listener] = []
        self._users = 0  # how many users the store had when feeds were last opened for them
        self._open_users()
        store.on_change(self.observe)

    def on_change(self, listener: Listener) -> None:
        """Call `listener(what_changed, touched)` after every event (the notifier subscribes here)."""
        self._listeners.append(listener)

    def viewer(self, email: str) -> Viewer:
        """The viewer for an address: groups as cached, admin rights read afresh."""
        return replace(self._viewer(email), admin=is_admin(self._store, email))

    def feed(self, email: str) -> Feed:
        """The feed of an address, opened on first use with what it can see now."""
        email = email.lower()
        if email not in self._feeds:
            self._start(email)
        return self._feeds[email]

    def observe(self, change: Change, what: str) -> None:
        """Copy a store change into every feed that sees it, or take it back from those that lost it."""
        opened = self._open_users()  # feeds opened now already reflect this change
        touched: Touched = {None: [change]}
        # A drive's change may be one of its members: each feed then settles the drive's files.
        files = [] if change.file_id is not None else self._files_of(change.drive_id)
        for email in self._candidates([change.key, *files]) - opened:
            feed = self._feeds[email]
            entries = self._follow(feed, change)
            if change.file_id is None:
                dropped = [key for key, drive in feed.seen.items() if drive == change.drive_id]
                entries += self._settle(feed, [*files, *dropped])
            if entries:
                touched[email] = entries
        self._tell(what, touched)

    def settle(self, what: str = "permissions") -> None:
        """Bring every feed in step after group membership or the domain's users changed.

        Only items granted to a group (or in a drive with a group member) can change hands then.
        """
        self._viewers.clear()
        self._audience.by_group = None
        self._open_users(check=False)
        touched: Touched = {}
        for key in list(self._group_targets()):
            for email in self._candidates([key]):
                touched.setdefault(email, []).extend(self._settle(self._feeds[email], [key]))
        self._tell(what, {email: entries for email, entries in touched.items() if entries})

    def users_changed(self, email: str) -> None:
        """Open a new user's feed; settle every feed if a group stands for all users (CUSTOMER)."""
        if any(m["type"] == "CUSTOMER" for g in self._store.groups.values() for m in g.members):
            self.settle()
        else:
            self._viewers.pop(email.lower(), None)
            self._open_users(check=False)

    def _start(self, email: str) -> None:
        """Open a feed with what its user sees now, and index it."""
        viewer = self._viewer(email)
        feed = Feed(email)
        feed.seen = {key: drive for key, drive in self._targets() if self._visible(viewer, key)}
        feed.log = [change for change in self._store.changes if change.key in feed.seen]
        self._feeds[email] = feed
        self._audience.add_feed(feed, viewer)

    def _open_users(self, *, check: bool = True) -> set[str]:
        """Open a feed for every user of the domain that has none yet; return their addresses.

        Users come and go through the control API (which calls `users_changed`) or the seed (which
        only adds), so between those a count that did not move means nobody is new.
        """
        if check and len(self._store.users) == self._users:
            return set()
        missing = self._store.users.keys() - self._feeds.keys()
        for email in missing:
            self._start(email)
        self._users = len(self._store.users)
        return missing

    def _candidates(self, keys: list[str]) -> set[str]:
        """Feeds that may see these items now, or held them before."""
        groups = self._groups()
        found: set[str] = set()
        for key in keys:
            found |= self._audience.holders.get(key, set())
            kind, _, ident = key.partition(":")
            drive_id: str | None = ident
            if kind == "file":
                file = self._store.files.get(ident)
                drive_id = file.drive_id if file is not None else None
                if file is not None:
                    found |= self._audience.named(file.permissions, groups, domains=False)
            drive = self._store.drives.get(drive_id) if drive_id else None
            if drive is not None:
                found |= self._audience.named(drive.members, groups, domains=True)
        return found

    def _groups(self) -> dict[str, set[str]]:
        """Feeds by the groups their users belong to (built again after membership changes)."""
        if self._audience.by_group is None:
            index: dict[str, set[str]] = defaultdict(set)
            for email in self._feeds:
                for group in self._viewer(email).groups:
                    index[group].add(email)
            self._audience.by_group = index
        return self._audience.by_group

    def _add(self, feed: Feed, entry: Change) -> Change:
        holders = self._audience.holders[entry.key]
        if entry.removed:
            holders.discard(feed.email)
        else:
            holders.add(feed.email)
        return feed.add(entry)

    def _follow(self, feed: Feed, change: Change) -> list[Change]:
        if self._visible(self._viewer(feed.email), change.key):
            return [self._add(feed, change)]
        if change.key in feed.seen:
            return [self._add(feed, replace(change, removed=True))]
        return []

    def _settle(self, feed: Feed, keys: Iterable[str]) -> list[Change]:
        """Add an entry, with an id of its own, for each key whose visibility differs from the feed's."""
        viewer = self._viewer(feed.email)
        entries = []
        for key in dict.fromkeys(keys):
            visible = self._visible(viewer, key)
            if visible != (key in feed.seen):
                entry = self._entry(key, removed=not visible, drive=feed.seen.get(key))
                entries.append(self._add(feed, entry))
        return entries

    def _entry(self, key: str, *, removed: bool, drive: str | None) -> Change:
        kind, _, ident = key.partition(":")
        if kind == "drive":
            return Change(self._store.next_change_id(), None, removed, now(), ident)
        file = self._store.files.get(ident)
        drive_id = file.drive_id if file is not None else drive
        return Change(self._store.next_change_id(), ident, removed, now(), drive_id)

    def _viewer(self, email: str) -> Viewer:
        email = email.lower()
        if email not in self._viewers:
            self._viewers[email] = viewer_of(self._store, email)
        return self._viewers[email]

    def _files_of(self, drive_id: str | None) -> list[str]:
        return [f"file:{f.id}" for f in self._store.files.values() if f.drive_id == drive_id]

    def _group_targets(self) -> Iterable[str]:
        """Items whose visibility group membership decides: group grants, drives with group members."""
        drives = {d.id for d in self._store.drives.values() if any(m["type"] == "group" for m in d.members)}
        yield from (f"drive:{drive_id}" for drive_id in drives)
        for file in self._store.files.values():
            if file.drive_id in drives or any(p["type"] == "group" for p in file.permissions):
                yield f"file:{file.id}"

    def _targets(self) -> Iterable[tuple[str, str | None]]:
        """Every file and drive there is, as feed keys with the drive each is in."""
        yield from ((f"drive:{drive_id}", drive_id) for drive_id in self._store.drives)
        yield from ((f"file:{f.id}", f.drive_id) for f in self._store.files.values())

    def _visible(self, viewer: Viewer, key: str) -> bool:
        kind, _, ident = key.partition(":")
        if kind == "drive":
            drive = self._store.drives.get(ident)
            return drive is not None and member_of(viewer, drive)
        file = self._store.files.get(ident)
        return file is not None and in_corpus(viewer, file, self._store.drives)

    def _tell(self, what: str, touched: Touched) -> None:
        for listener in self._listeners:
            listener(what, touched)
