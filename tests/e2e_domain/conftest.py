"""The whole stack indexing a Workspace domain: the Drive emulator as the sample domain, DRIVE_SCOPE=domain.

The emulator demands a token for every API call. The services hold a service-account key whose
`token_uri` is the emulator and act, through domain-wide delegation, as each user and as the admin
GOOGLE_SUBJECT (alice), exactly as against Google. Every file the tests need is created before the
stack starts, so the first `drive-index sources sync` backfills the whole domain at once; the
stack has a database of its own, so sources other tests left behind cannot get in the way.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import asyncpg
import pytest

from devstack import stack as devstack
from devstack.stack import Stack
from drive_emulator import EmulatorControl, sample_domain
from drive_emulator.auth import service_account_key
from drive_emulator.sample_domain import ALICE, BOB, DOMAIN, EXPECTED, owner, reader
from drive_index_cli import checks
from tests.e2e.conftest import drive_index
from tests.polling import wait_until

FOLDER = "application/vnd.google-apps.folder"
INDEXED_SECONDS = 60.0
# Owns joint-brief: an address of the domain that is no Directory user, so no source shows his
# My Drive and the file is in the index only through the users it is shared with.
FORMER = f"dave@{DOMAIN}"
# Every file says this phrase, so one search with room for all lists everything a caller may find.
PHRASE = "harbour project status"
TEXT = "# {name}\n\nThe harbour project status for {name}: the budget, the owners and the next steps.\n"
# What search lets each user find of the sample domain: what their Drive holds, but outsider-tip
# (owned outside the domain), and press-kit, which Drive lets anyone find.
SEARCHABLE = {user: names - {"outsider-tip"} | {"press-kit"} for user, names in EXPECTED.items()}


@dataclass
class Domain:
    """The running stack, the emulated domain it indexes, and the means to look inside."""

    control: EmulatorControl
    stack: Stack
    env: dict[str, str]
    files: dict[str, str]  # file id by name: the sample domain's and the tests' own
    drives: dict[str, str]  # shared drive id by name
    folders: dict[str, str]  # folder id by path; DRIVE_EXCLUDE_FOLDERS names "Archive"

    def found(self, caller: str, query: str = PHRASE) -> set[str]:
        """Names of the domain's files search gives `caller` (a trusted proxy's header) for `query`."""
        url = f"{self.stack.url('search')}/search?{urllib.parse.urlencode({'q': query, 'k': 50})}"
        status, body = checks.http_json(url, headers={"X-Forwarded-Email": caller})
        assert status == 200, body
        names = {file_id: name for name, file_id in self.files.items()}
        return {names[hit["file_id"]] for hit in body["results"] if hit["file_id"] in names}

    def indexed(self) -> set[str]:
        """Names of the domain's files that have a row in the index."""
        rows = self.fetch(
            "SELECT file_id FROM documents WHERE file_id = ANY($1::text[])", list(self.files.values())
        )
        names = {file_id: name for name, file_id in self.files.items()}
        return {names[row["file_id"]] for row in rows}

    def fetch(self, sql: str, *args: Any) -> list[asyncpg.Record]:
        """Run one query on the stack's database and return its rows."""

        async def run() -> list[asyncpg.Record]:
            connection = await asyncpg.connect(self.env["DATABASE_URL"])
            try:
                return list(await connection.fetch(sql, *args))
            finally:
                await connection.close()

        return asyncio.run(run())

    def logged(self, service: str, event: str, **fields: Any) -> list[dict[str, Any]]:
        """The JSON log lines of `service` for `event` whose fields have these values."""
        lines = (self.stack.log_dir / f"{service}.log").read_text(errors="replace").splitlines()
        found = []
        for line in lines:
            try:
                entry = json.loads(line)
            except ValueError:
                continue  # a line some library printed itself
            if isinstance(entry, dict) and entry.get("event") == event and fields.items() <= entry.items():
                found.append(entry)
        return found

    def cli(self, *args: str) -> str:
        """Run `drive-index` as the operator; return what it printed."""
        return drive_index(self.env, *args)

    def wait_found(self, caller: str, names: set[str], timeout: float = INDEXED_SECONDS) -> None:
        """Wait until search gives `caller` at least these files."""
        wait_until(
            lambda: names <= self.found(caller),
            lambda: f"{caller} finds {sorted(self.found(caller))}, not all of {sorted(names)}",
            timeout,
        )


@pytest.fixture(scope="package")
def emulator_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The emulator as a domain: every API call must carry a token from its /token endpoint."""
    log = tmp_path_factory.mktemp("emulator") / "drive-emulator.log"
    with devstack.emulator(log, "--require-auth", "--log-level", "WARNING") as url:
        yield url


def build_domain(control: EmulatorControl) -> tuple[dict[str, str], dict[str, str], dict[str, str]]:
    """The sample domain, alice its admin, every file saying PHRASE, and the tests' own files and folders."""
    sample = sample_domain.build(control)
    control.update_user(ALICE, admin=True)
    files = dict(sample.files)
    for name, file_id in files.items():
        control.update_file(file_id, content=TEXT.format(name=name))
    folders: dict[str, str] = {}
    for path in ("Archive", "Archive/2019", "Team"):
        parent, _, name = path.rpartition("/")
        parents = [folders[parent]] if parent else []
        folders[path] = control.create_file(name, FOLDER, parents=parents, permissions=[owner(ALICE)])["id"]
    alices = [owner(ALICE)]
    extra: dict[str, dict[str, Any]] = {
        "archive-minutes": {"parents": [folders["Archive"]], "permissions": alices},
        "archive-2019-minutes": {"parents": [folders["Archive/2019"]], "permissions": alices},
        "alice-retro": {"permissions": alices},
        "team-notes": {"parents": [folders["Team"]], "permissions": alices},
        "joint-brief": {"permissions": [owner(FORMER), reader("user", ALICE), reader("user", BOB)]},
    }
    for name, options in extra.items():
        files[name] = control.create_doc(name, TEXT.format(name=name), **options)["id"]
    return files, sample.drives, folders


@pytest.fixture(scope="package")
def domain(
    postgres_server: str, kafka_bootstrap: str, emulator_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Domain]:
    """The four services indexing the whole domain, after a first `sources sync` has indexed it."""
    control = EmulatorControl(emulator_url)
    files, drives, folders = build_domain(control)
    work = tmp_path_factory.mktemp("domain")
    ports = devstack.free_ports()
    dsn, _ = devstack.database(postgres_server, "drive_index_domain", fresh=True)
    env = devstack.service_env(
        dsn,
        kafka_bootstrap,
        emulator=emulator_url,
        topic_prefix=f"domain{os.getpid()}.",
        rate_limit=False,
        CONSUMER_BACKOFF_SECONDS="0.1",
        GOOGLE_APPLICATION_CREDENTIALS=str(service_account_key(work / "key.json", f"{emulator_url}/token")),
        GOOGLE_SUBJECT=ALICE,
        DRIVE_SCOPE="domain",
        DRIVE_ALLOWED_DOMAINS=DOMAIN,
        DRIVE_EXCLUDE_FOLDERS=folders["Archive"],
        # `sources sync` opens a channel per source: changes reach the gateway as pushes.
        DRIVE_WEBHOOK_URL=f"http://127.0.0.1:{ports['webhook-gateway']}/webhooks/google-drive",
    )
    started = time.monotonic()
    with devstack.running(env, work / "logs", ports=ports) as stack:
        ready = time.monotonic() - started
        running = Domain(control, stack, env, files, drives, folders)
        started = time.monotonic()
        running.cli("sources", "sync")
        for user, names in SEARCHABLE.items():
            running.wait_found(user, names)
        running.wait_found(BOB, {"joint-brief"})
        running.wait_found(ALICE, {"joint-brief", "alice-retro", "team-notes"})
        print(f"stack ready in {ready:.1f}s; the domain indexed {time.monotonic() - started:.1f}s after sync")
        yield running
