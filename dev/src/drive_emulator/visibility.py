"""Who sees what: the rules that answer a request as the user it impersonates.

Drive keeps two circles apart. A user's *corpus* (what files.list with corpora=user and their
change feed hold) is what they own or what is shared with them by name: a user grant, or a grant
to a group they belong to, directly or through nested groups; plus, for shared-drive items, every
item of a drive they are a member of. A grant to their domain or to anyone lets them *open* a file
(files.get, downloads, permissions.list) but does not put it into their Drive: such files are found
by search (corpora=domain) only when the grant allows discovery, and never by a link-only grant.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from drive_emulator.store import DriveFile, Group, SharedDrive, Store

SERVICE_ACCOUNT_SUFFIX = ".gserviceaccount.com"


@dataclass(frozen=True)
class Viewer:
    """A caller acting as one address, with the groups it belongs to (lower-cased)."""

    email: str
    groups: frozenset[str] = frozenset()
    admin: bool = False

    @property
    def domain(self) -> str:
        return domain_of(self.email)


def domain_of(email: str) -> str:
    return email.rpartition("@")[2].lower()


def _contains(group: Group, who: str, everyone: bool) -> bool:
    """Whether `who` is a direct member; a CUSTOMER member stands for every user of the account."""
    for member in group.members:
        if member["type"] == "CUSTOMER":
            if everyone:
                return True
        elif str(member.get("email", "")).lower() == who:
            return True
    return False


def groups_of(groups: Mapping[str, Group], email: str, in_account: bool = False) -> frozenset[str]:
    """Every group `email` belongs to, directly or through nested groups."""
    email = email.lower()
    found: set[str] = set()
    frontier = [email]
    while frontier:
        who = frontier.pop()
        for address, group in groups.items():
            if address not in found and _contains(group, who, in_account and who == email):
                found.add(address)
                frontier.append(address)
    return frozenset(found)


def _live(permissions: Iterable[dict[str, Any]]) -> Iterable[dict[str, Any]]:
    """Grants that still grant: one to a deleted account grants nothing."""
    return (p for p in permissions if not p.get("deleted"))


def shared_with(viewer: Viewer, permissions: Iterable[dict[str, Any]]) -> bool:
    """Whether a grant names the viewer or one of their groups (ownership is a user grant too)."""
    for grant in _live(permissions):
        address = str(grant.get("emailAddress", "")).lower()
        if grant["type"] == "user" and address == viewer.email:
            return True
        if grant["type"] == "group" and address in viewer.groups:
            return True
    return False


def _to_everyone(viewer: Viewer, grant: dict[str, Any]) -> bool:
    if grant["type"] == "anyone":
        return True
    return grant["type"] == "domain" and str(grant.get("domain", "")).lower() == viewer.domain


def by_link(viewer: Viewer, permissions: Iterable[dict[str, Any]]) -> bool:
    """Whether a grant to the viewer's domain or to anyone lets them open the file, link or not."""
    return any(_to_everyone(viewer, grant) for grant in _live(permissions))


def discoverable(viewer: Viewer, permissions: Iterable[dict[str, Any]]) -> bool:
    """Whether a domain or anyone grant lets the viewer find the file by search."""
    return any(_to_everyone(viewer, g) and g.get("allowFileDiscovery") for g in _live(permissions))


def member_of(viewer: Viewer, drive: SharedDrive) -> bool:
    """Whether the viewer belongs to a shared drive: as a user, through a group, or by domain."""
    return shared_with(viewer, drive.members) or any(
        m["type"] == "domain" and _to_everyone(viewer, m) for m in _live(drive.members)
    )


def in_corpus(viewer: Viewer, file: DriveFile, drives: Mapping[str, SharedDrive]) -> bool:
    """Whether the file is in the viewer's Drive: theirs, shared with them, or in a drive of theirs."""
    if shared_with(viewer, file.permissions):
        return True
    drive = drives.get(file.drive_id) if file.drive_id else None
    return drive is not None and member_of(viewer, drive)


def can_open(viewer: Viewer, file: DriveFile, drives: Mapping[str, SharedDrive]) -> bool:
    """Whether files.get, downloads, exports and permissions.list answer the viewer."""
    return in_corpus(viewer, file, drives) or by_link(viewer, file.permissions)


def _modelled(store: Store, email: str) -> bool:
    """Whether the address is in a domain the emulator has users of (elsewhere anything goes)."""
    return domain_of(email) in {domain_of(address) for address in store.users}


def may_sign_in(store: Store, email: str) -> bool:
    """Whether domain-wide delegation may act as `email`: not as a suspended, archived or unknown user."""
    user = store.users.get(email.lower())
    if user is None:
        return not _modelled(store, email)
    return not (user.suspended or user.archived)


def is_admin(store: Store, email: str) -> bool:
    """Whether `email` may use useDomainAdminAccess: a domain admin, or anyone in an unmodelled domain."""
    if email.lower().endswith(SERVICE_ACCOUNT_SUFFIX):
        return False  # a service account acting as itself administers nothing
    user = store.users.get(email.lower())
    return user.admin if user is not None else not _modelled(store, email)


def viewer_of(store: Store, email: str) -> Viewer:
    """The viewer for an address, with its groups and admin rights read from the store now."""
    email = email.lower()
    groups = groups_of(store.groups, email, email in store.users)
    return Viewer(email, groups, is_admin(store, email))
