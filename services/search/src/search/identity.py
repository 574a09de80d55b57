"""Who is asking, as an authenticating proxy in front of the service says."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Caller:
    """A caller's e-mail address and groups, lower-cased as Drive compares them."""

    email: str | None
    groups: tuple[str, ...] = ()

    @property
    def domain(self) -> str | None:
        if not self.email or "@" not in self.email:
            return None
        return self.email.rpartition("@")[2] or None


def caller_from(headers: Mapping[str, str], trusted: bool) -> Caller | None:
    """Read the caller from X-Forwarded-Email/-Groups; None means "do not filter by permission".

    Untrusted headers are ignored entirely: anyone could send them. A trusted request without an
    e-mail is anonymous and only sees files shared with anyone.
    """
    if not trusted:
        return None
    email = headers.get("X-Forwarded-Email", "").strip().lower() or None
    groups = headers.get("X-Forwarded-Groups", "")
    return Caller(email, tuple(g.strip().lower() for g in groups.split(",") if g.strip()))
