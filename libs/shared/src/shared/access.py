"""Drive's sharing model reduced to principals: who a file grants, and who a caller is.

A file's readers and a caller's principals are sets of the same strings; the caller may find the
file when the two overlap. Search does that with one indexed array overlap in SQL, and the
property tests check it against `may_read`, the plain reading of Drive's rules.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

from pydantic import BaseModel, ConfigDict

ANYONE = "anyone"
# Every role Drive has lets its holder open the file; "organizer" and "fileOrganizer" are the
# shared-drive roles. A role Drive adds later grants nothing until it is named here.
READ_ROLES = frozenset({"owner", "organizer", "fileOrganizer", "writer", "commenter", "reader"})


class Permission(BaseModel):
    """One grant on a file, as Drive states it (permissions.list or the file's `permissions`)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    type: Literal["user", "group", "domain", "anyone"]
    role: str
    email_address: str | None = None
    domain: str | None = None
    # Drive's "anyone with the link" and "people in the domain with the link" are grants with
    # allowFileDiscovery false: they let a link open the file, not a search find it. Absent
    # means not discoverable, so a grant read without the field never widens access.
    allow_file_discovery: bool = False
    # A user or group permission whose account was deleted.
    deleted: bool = False


def user(email: str) -> str:
    return f"user:{email.strip().lower()}"


def group(email: str) -> str:
    return f"group:{email.strip().lower()}"


def domain(name: str) -> str:
    return f"domain:{name.strip().lower()}"


def domain_of(email: str | None) -> str | None:
    """The domain part of an address, lower-cased; None for anything that is not an address."""
    if not email or email.count("@") != 1:
        return None
    return email.rpartition("@")[2].strip().lower() or None


def grant(permission: Permission) -> str | None:
    """The principal one permission lets find the file, or None when it lets nobody find it."""
    if permission.role not in READ_ROLES or permission.deleted:
        return None
    if permission.type == "user" and permission.email_address:
        return user(permission.email_address)
    if permission.type == "group" and permission.email_address:
        return group(permission.email_address)
    if permission.type == "domain" and permission.domain and permission.allow_file_discovery:
        return domain(permission.domain)
    if permission.type == "anyone" and permission.allow_file_discovery:
        return ANYONE
    return None  # link-only sharing, or a grant missing the address it names


def readers(permissions: Iterable[Permission]) -> list[str]:
    """Every principal the file's permissions let find it, sorted, without repeats."""
    return sorted({p for p in map(grant, permissions) if p is not None})


def principals(email: str | None, groups: Iterable[str] = ()) -> list[str]:
    """Every principal a caller holds: themselves, their groups, their domain, and anyone.

    `email` must be verified (a trusted proxy, a checked token, an API key): the domain grant
    follows from it. An anonymous caller holds `anyone` only.
    """
    held = {ANYONE}
    caller_domain = domain_of(email)
    if email and caller_domain:
        held |= {user(email), domain(caller_domain)}
    held |= {group(g) for g in groups if g.strip()}
    return sorted(held)


def may_read(permissions: Iterable[Permission], email: str | None, groups: Iterable[str] = ()) -> bool:
    """Drive's rule for "can this caller find this file by searching", written out plainly."""
    caller = (email or "").strip().lower()
    member_of = {g.strip().lower() for g in groups}
    for p in permissions:
        if p.role not in READ_ROLES or p.deleted:
            continue
        address = (p.email_address or "").strip().lower()
        if p.type == "user" and caller and address == caller:
            return True
        if p.type == "group" and address and address in member_of:
            return True
        same_domain = bool(p.domain) and domain_of(caller) == (p.domain or "").strip().lower()
        if p.type == "domain" and p.allow_file_discovery and caller and same_domain:
            return True
        if p.type == "anyone" and p.allow_file_discovery:
            return True
    return False
