"""The search page and the service's operational endpoints."""

from __future__ import annotations


async def test_the_page_is_served_with_a_search_form(client) -> None:
    response = await client.get("/")
    assert response.status == 200
    assert response.content_type == "text/html"
    html = await response.text()
    assert '<form id="form" role="search"' in html
    assert 'fetch("search?' in html
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]


async def test_ready_once_the_database_answers(client) -> None:
    response = await client.get("/readyz")
    assert response.status == 200
    assert (await response.json())["checks"] == {"database": "ok"}
