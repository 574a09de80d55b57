"""Search shows each caller exactly what Drive shares with them, on the whole running pipeline.

Files with every kind of grant go through the emulator, the gateway, the fetcher and the embedder;
callers ask search as a trusted proxy would tell it. For every caller, query, mode, filter and k
the results must be exactly the files Drive lets that caller find, and a revoked grant must
disappear from the results within seconds.
"""

from __future__ import annotations

import itertools
import json
import time
import urllib.parse
from typing import Any

import pytest

from devstack.stack import Stack
from drive_emulator.client import EmulatorControl
from drive_index_cli import checks
from tests.e2e.conftest import drive_index
from tests.polling import wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

DEADLINE_SECONDS = 60.0
REVOCATION_SECONDS = 15.0
DOMAIN = "example.com"
OWNER = {"type": "user", "role": "owner", "emailAddress": f"owner@{DOMAIN}"}
TEXT = "# {title}\n\nThe quarterly budget forecast for the northern region, prepared for {who}."

# (key, grants besides the owner's, shared drive?)
FILES: list[tuple[str, list[dict[str, Any]], bool]] = [
    ("alice-reader", [{"type": "user", "role": "reader", "emailAddress": f"Alice@{DOMAIN}"}], False),
    ("carol-commenter", [{"type": "user", "role": "commenter", "emailAddress": f"carol@{DOMAIN}"}], False),
    ("eng-group", [{"type": "group", "role": "writer", "emailAddress": f"eng@{DOMAIN}"}], False),
    ("sales-group", [{"type": "group", "role": "reader", "emailAddress": f"sales@{DOMAIN}"}], False),
    (
        "domain-discoverable",
        [{"type": "domain", "role": "reader", "domain": DOMAIN, "allowFileDiscovery": True}],
        False,
    ),
    (
        "domain-link-only",
        [{"type": "domain", "role": "reader", "domain": DOMAIN, "allowFileDiscovery": False}],
        False,
    ),
    ("anyone-link-only", [{"type": "anyone", "role": "reader", "allowFileDiscovery": False}], False),
    ("public", [{"type": "anyone", "role": "reader", "allowFileDiscovery": True}], False),
    ("owner-only", [], False),
    ("finance-drive", [], True),  # readable through the shared drive's members only
]

# Caller -> (identity headers, files Drive lets them find). Alice is in eng@ through platform@.
CALLERS: dict[str, tuple[dict[str, str], set[str]]] = {
    "alice": (
        {"X-Forwarded-Email": f"alice@{DOMAIN}"},
        {"alice-reader", "eng-group", "domain-discoverable", "public"},
    ),
    "bob": ({"X-Forwarded-Email": f"bob@{DOMAIN}"}, {"sales-group", "domain-discoverable", "public"}),
    "carol": ({"X-Forwarded-Email": f"carol@{DOMAIN}"}, {"carol-commenter", "domain-discoverable", "public"}),
    "dave": (  # a group the proxy vouches for, not in the directory
        {"X-Forwarded-Email": f"dave@{DOMAIN}", "X-Forwarded-Groups": f"finance@{DOMAIN}"},
        {"finance-drive", "domain-discoverable", "public"},
    ),
    "eve": ({"X-Forwarded-Email": "eve@outsider.example"}, {"public"}),
    "owner": ({"X-Forwarded-Email": f"owner@{DOMAIN}"}, {key for key, _, _ in FILES}),
}
QUERIES = ("quarterly budget forecast", "money planning for the north", "northern region")


def search(stack: Stack, headers: dict[str, str], method: str = "GET", **params: Any) -> list[dict[str, Any]]:
    url = f"{stack.url('search')}/search"
    if method == "GET":
        status, body = checks.http_json(f"{url}?{urllib.parse.urlencode(params)}", headers=headers)
    else:
        data = json.dumps(params).encode()
        status, body = checks.http_json(
            url, method="POST", body=data, headers={**headers, "content-type": "application/json"}
        )
    assert status == 200, body
    return list(body["results"])


@pytest.fixture(scope="module")
def shared_files(stack: Stack, stack_env: dict[str, str], emulator_url: str) -> dict[str, Any]:
    """Create the directory, a shared drive, a folder and the files; wait until all are indexed."""
    drive = EmulatorControl(emulator_url)
    drive.create_group(f"platform@{DOMAIN}", [{"email": f"alice@{DOMAIN}", "type": "USER"}])
    drive.create_group(f"eng@{DOMAIN}", [{"email": f"platform@{DOMAIN}", "type": "GROUP"}])
    drive.create_group(f"sales@{DOMAIN}", [{"email": f"bob@{DOMAIN}", "type": "USER"}])
    drive_index(stack_env, "groups", "sync")
    finance = drive.create_drive(
        "Finance",
        [
            {"type": "group", "role": "reader", "emailAddress": f"finance@{DOMAIN}"},
            {**OWNER, "role": "organizer"},
        ],
    )
    folder = drive.create_file(
        "Budgets", "application/vnd.google-apps.folder", permissions=[OWNER], parents=[]
    )
    ids: dict[str, str] = {}
    for key, grants, in_drive in FILES:
        text = TEXT.format(title=key.replace("-", " ").title(), who=key)
        options: dict[str, Any] = (
            {"drive_id": finance["id"]} if in_drive else {"permissions": [OWNER, *grants]}
        )
        ids[key] = drive.create_doc(key, text, parents=[folder["id"]], **options)["id"]
    everything = set(ids.values())

    def all_indexed() -> bool:
        found = {hit["file_id"] for hit in search(stack, CALLERS["owner"][0], q="quarterly budget", k=50)}
        return everything <= found

    wait_until(all_indexed, lambda: "every shared file is searchable by its owner", DEADLINE_SECONDS)
    return {"ids": ids, "folder": folder["id"], "drive": finance["id"], "control": drive}


def visible(results: list[dict[str, Any]], ids: dict[str, str]) -> set[str]:
    keys = {file_id: key for key, file_id in ids.items()}
    return {keys[hit["file_id"]] for hit in results if hit["file_id"] in keys}


def test_every_caller_finds_exactly_what_drive_shares_with_them(
    stack: Stack, shared_files: dict[str, Any]
) -> None:
    ids, folder = shared_files["ids"], shared_files["folder"]
    filters: list[dict[str, Any]] = [
        {},
        {"mime_type": "application/vnd.google-apps.document"},
        {"folder": folder},
        {"modified_after": "2000-01-01T00:00:00Z"},
    ]
    for (name, (headers, allowed)), query, method, extra in itertools.product(
        CALLERS.items(), QUERIES, ("GET", "POST"), filters
    ):
        for k in (1, 3, 50):
            found = visible(search(stack, headers, method, q=query, k=k, **extra), ids)
            assert found <= allowed, f"{name} saw {found - allowed} for {query!r} {method} {extra} k={k}"
        # With room for every file, the whole visible set comes back for the shared phrase.
        if query == QUERIES[0]:
            assert visible(search(stack, headers, method, q=query, k=50, **extra), ids) == allowed, name


def test_unverified_callers_are_refused_and_forged_headers_from_afar_do_not_count(
    stack: Stack, shared_files: dict[str, Any]
) -> None:
    status, body = checks.http_json(f"{stack.url('search')}/search?q=quarterly+budget")
    assert status == 401
    assert "detail" in body
    twice = [("X-Forwarded-Email", f"owner@{DOMAIN}"), ("X-Forwarded-Email", f"alice@{DOMAIN}")]
    status, _ = _raw_get(f"{stack.url('search')}/search?q=quarterly+budget", twice)
    assert status in (400, 401)


def _raw_get(url: str, headers: list[tuple[str, str]]) -> tuple[int, bytes]:
    """GET with repeated headers, which urllib cannot send."""
    import http.client

    parsed = urllib.parse.urlsplit(url)
    connection = http.client.HTTPConnection(parsed.hostname or "", parsed.port, timeout=10)
    try:
        connection.putrequest("GET", f"{parsed.path}?{parsed.query}")
        for name, value in headers:
            connection.putheader(name, value)
        connection.endheaders()
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def test_revoking_a_grant_hides_the_file_within_seconds(stack: Stack, shared_files: dict[str, Any]) -> None:
    ids, drive = shared_files["ids"], shared_files["control"]
    alice, dave = CALLERS["alice"][0], CALLERS["dave"][0]

    def sees(headers: dict[str, str], key: str) -> bool:
        return key in visible(search(stack, headers, q="quarterly budget forecast", k=50), ids)

    assert sees(alice, "alice-reader")
    started = time.monotonic()
    drive.share(ids["alice-reader"], [OWNER])
    wait_until(lambda: not sees(alice, "alice-reader"), lambda: "alice lost the file", REVOCATION_SECONDS)
    revoked_file = time.monotonic() - started

    assert sees(dave, "finance-drive")
    started = time.monotonic()
    drive.set_drive_members(shared_files["drive"], [{**OWNER, "role": "organizer"}])
    wait_until(lambda: not sees(dave, "finance-drive"), lambda: "dave lost the drive", REVOCATION_SECONDS)
    revoked_drive = time.monotonic() - started

    assert sees(CALLERS["owner"][0], "alice-reader"), "the owner keeps the file"
    print(f"grant revoked → hidden in {revoked_file:.1f}s")
    print(f"shared-drive member removed → hidden in {revoked_drive:.1f}s")
