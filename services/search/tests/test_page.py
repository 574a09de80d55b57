"""The search page and the service's operational endpoints."""

from __future__ import annotations

from search.app import Deps

from .conftest import ON_POSTGRES
from .fakes import FakeApiKeys, FakeDirectory, FakeIndex


async def test_the_page_is_served_with_a_search_form(client) -> None:
    response = await client.get("/")
    assert response.status == 200
    assert response.content_type == "text/html"
    html = await response.text()
    assert '<form id="form" role="search"' in html
    # Relative URLs: the page works wherever a proxy mounts the service.
    assert 'fetch("search?' in html
    assert 'fetch("whoami"' in html
    assert 'fetch("/' not in html
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]


async def test_the_page_and_probes_need_no_identity_but_nothing_else_is_open(make_client) -> None:
    client = await make_client(headers={})
    for path in ("/", "/healthz", "/readyz", "/metrics"):
        assert (await client.get(path)).status == 200, path
    assert (await client.get("/whoami")).status == 401
    assert (await client.get("/search", params={"q": "x"})).status == 401
    missing = await client.get("/no-such-page")
    assert missing.status == 404  # unknown routes stay 404, not 401
    assert (await missing.json())["error"] == "not found"


@ON_POSTGRES
async def test_ready_once_the_database_answers(client) -> None:
    response = await client.get("/readyz")
    assert response.status == 200
    assert (await response.json())["checks"] == {"database": "ok"}


async def test_given_every_port_no_database_is_opened_or_checked(client) -> None:
    response = await client.get("/readyz")
    assert response.status == 200
    assert await response.json() == {"ready": True, "checks": {}}


def test_the_database_is_opened_while_any_port_is_left_to_it() -> None:
    index, directory, api_keys = FakeIndex(), FakeDirectory(), FakeApiKeys()
    assert Deps().needs_database
    assert Deps(index=index, directory=directory).needs_database
    assert Deps(directory=directory, api_keys=api_keys).needs_database
    assert not Deps(index=index, directory=directory, api_keys=api_keys).needs_database
