"""Requests the API refuses, each with a JSON error that says what to change."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize(
    ("params", "complaint"),
    [
        ({}, "q: expected the text to search for"),
        ({"q": "   "}, "q: expected the text to search for"),
        ({"q": "x" * 1001}, "1 to 1000 characters"),
        ({"q": "x", "k": "0"}, "k: expected a whole number from 1 to 50"),
        ({"q": "x", "k": "51"}, "k: expected a whole number from 1 to 50"),
        ({"q": "x", "k": "ten"}, "k: expected a whole number from 1 to 50"),
        ({"q": "x", "modified_after": "last week"}, "modified_after: expected an ISO 8601 date"),
        ({"q": "x", "modified_after": "2024-02-01", "modified_before": "2024-01-01"}, "must be earlier"),
        ({"q": "x", "colour": "red"}, "colour: unknown field"),
    ],
)
async def test_get_refuses_bad_parameters(client, params: dict[str, str], complaint: str) -> None:
    response = await client.get("/search", params=params)
    assert response.status == 400
    body = await response.json()
    assert body["error"] == "invalid query"
    assert complaint in body["detail"]


@pytest.mark.parametrize(
    ("payload", "complaint"),
    [
        (b"{not json", "the body must be a JSON object"),
        (b'["q"]', "the body must be a JSON object"),
        (b'{"q": "x", "k": 100}', "k: expected a whole number from 1 to 50"),
        (b'{"q": 42}', "q: expected the text to search for"),
    ],
)
async def test_post_refuses_bad_bodies(client, payload: bytes, complaint: str) -> None:
    response = await client.post("/search", data=payload, headers={"Content-Type": "application/json"})
    assert response.status == 400
    assert complaint in (await response.json())["detail"]


async def test_the_largest_allowed_request_is_answered(client) -> None:
    response = await client.get("/search", params={"q": "x" * 1000, "k": "50"})
    assert response.status == 200


async def test_other_methods_get_a_json_405(client) -> None:
    response = await client.delete("/search")
    assert response.status == 405
    assert (await response.json())["detail"] == "/search accepts GET, HEAD, POST"
