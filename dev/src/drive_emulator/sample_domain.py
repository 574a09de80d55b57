"""A small Workspace domain for tests: three users, nested groups, two shared drives, shared files.

Who sees what (files.list with corpora=allDrives, and each user's change feed):
- alice (engineer, through eng@ -> platform@): alice-notes, eng-design, runbook (Engineering
  drive), outsider-tip (shared in from another domain);
- bob (sales): bob-plan, eng-design (his own), pricing (Sales drive);
- carol (people ops): bob-plan (shared with her), salaries, press-kit (public), reorg-draft (link
  only), pricing (Sales drive).
press-kit and reorg-draft can be opened by anyone, yet are in nobody's Drive but carol's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from drive_emulator.client import EmulatorControl

DOMAIN = "example.com"
ALICE, BOB, CAROL = (f"{name}@{DOMAIN}" for name in ("alice", "bob", "carol"))
OUTSIDER = "mallory@elsewhere.example"
ENG, PLATFORM = f"eng@{DOMAIN}", f"platform@{DOMAIN}"
# What each user's Drive holds, by file name.
EXPECTED = {
    ALICE: {"alice-notes", "eng-design", "runbook", "outsider-tip"},
    BOB: {"bob-plan", "eng-design", "pricing"},
    CAROL: {"bob-plan", "salaries", "press-kit", "reorg-draft", "pricing"},
}


def owner(email: str) -> dict[str, Any]:
    return {"type": "user", "role": "owner", "emailAddress": email}


def reader(kind: str, email: str) -> dict[str, Any]:
    return {"type": kind, "role": "reader", "emailAddress": email}


@dataclass
class SampleDomain:
    """Ids of what `build` created: files by name, shared drives by name."""

    files: dict[str, str] = field(default_factory=dict)
    drives: dict[str, str] = field(default_factory=dict)

    def names(self, ids: set[str]) -> set[str]:
        """Turn file ids back into names (ids of other files are left out)."""
        by_id = {file_id: name for name, file_id in self.files.items()}
        return {by_id[file_id] for file_id in ids if file_id in by_id}


def build(control: EmulatorControl) -> SampleDomain:
    """Create the users, groups, drives and files described above."""
    domain = SampleDomain()
    for email in (ALICE, BOB, CAROL):
        control.create_user(email)
    control.create_group(PLATFORM, [{"email": ALICE, "type": "USER"}])
    control.create_group(ENG, [{"email": PLATFORM, "type": "GROUP"}])
    engineering = [{"type": "group", "role": "organizer", "emailAddress": ENG}]
    sales = [{"type": "user", "role": "writer", "emailAddress": BOB}, {**reader("user", CAROL)}]
    domain.drives["Engineering"] = control.create_drive("Engineering", engineering)["id"]
    domain.drives["Sales"] = control.create_drive("Sales", sales)["id"]
    public = {"type": "anyone", "role": "reader", "allowFileDiscovery": True}
    link_only = {"type": "anyone", "role": "reader", "allowFileDiscovery": False}
    mine: dict[str, list[dict[str, Any]]] = {
        "alice-notes": [owner(ALICE)],
        "bob-plan": [owner(BOB), reader("user", CAROL)],
        "eng-design": [owner(BOB), reader("group", ENG)],
        "salaries": [owner(CAROL)],
        "press-kit": [owner(CAROL), public],
        "reorg-draft": [owner(CAROL), link_only],
        "outsider-tip": [owner(OUTSIDER), reader("user", ALICE)],
    }
    for name, permissions in mine.items():
        domain.files[name] = control.create_doc(name, f"# {name}\n", permissions=permissions)["id"]
    for name, drive in (("runbook", "Engineering"), ("pricing", "Sales")):
        created = control.create_doc(name, f"# {name}\n", drive_id=domain.drives[drive])
        domain.files[name] = created["id"]
    return domain
