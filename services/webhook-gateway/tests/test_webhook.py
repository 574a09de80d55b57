"""The webhook endpoint's answers, on fake channels and a recording publisher."""

from __future__ import annotations

from typing import Any

import pytest
from prometheus_client import REGISTRY

from webhook_gateway.app import ROUTE

Gateway = Registered = Any  # fixtures from conftest.py


def webhooks_counted(outcome: str) -> float:
    return REGISTRY.get_sample_value("drive_index_webhooks_total", {"outcome": outcome}) or 0.0


async def test_file_level_states_are_published_with_the_callers_request_id(
    gateway: Gateway, registered: Registered, caplog: pytest.LogCaptureFixture
) -> None:
    response = await gateway.post({**registered.headers(5, "trash"), "X-Request-Id": "req-42"})
    assert response.status == 200
    assert await response.json() == {"outcome": "published"}
    summaries = [
        r.msg for r in caplog.records if isinstance(r.msg, dict) and r.msg["event"].startswith("webhook.")
    ]
    assert len(summaries) == 1, "one summary line per notification"
    assert summaries[0]["request_id"] == "req-42"
    assert (summaries[0]["channel_id"], summaries[0]["message_number"]) == (registered.channel_id, "5")
    assert (summaries[0]["resource_state"], summaries[0]["outcome"]) == ("trash", "published")
    [event] = gateway.publisher.events
    assert (event.resource_state, event.request_id) == ("trash", "req-42")


async def test_the_request_id_defaults_to_channel_and_message_number(
    gateway: Gateway, registered: Registered
) -> None:
    assert (await gateway.post(registered.headers(2))).status == 200
    [event] = gateway.publisher.events
    assert event.request_id == f"{registered.channel_id}:2"


async def test_sync_is_acknowledged_without_an_event(gateway: Gateway, registered: Registered) -> None:
    sync = await gateway.post(registered.headers(1, "sync"))
    assert sync.status == 200
    assert await sync.json() == {"outcome": "sync"}
    assert gateway.publisher.events == []


@pytest.mark.parametrize("token", ["wrong-token", ""])
async def test_a_bad_or_missing_token_is_forbidden(
    gateway: Gateway, registered: Registered, token: str
) -> None:
    before = webhooks_counted("forbidden")
    response = await gateway.post(registered.headers(2, **{"X-Goog-Channel-Token": token}))
    assert response.status == 403
    body = await response.json()
    assert body["error"] == "bad channel token"
    assert "drive-index watch start" in body["detail"]
    assert webhooks_counted("forbidden") == before + 1


async def test_an_unknown_or_stopped_channel_is_not_found(gateway: Gateway, registered: Registered) -> None:
    unknown = await gateway.post(registered.headers(2, **{"X-Goog-Channel-ID": "no-such-channel"}))
    assert unknown.status == 404
    assert "is not registered" in (await unknown.json())["detail"]

    await gateway.channels.stop(registered.channel_id)
    stopped = await gateway.post(registered.headers(3))
    assert stopped.status == 404
    assert "was stopped" in (await stopped.json())["detail"]


@pytest.mark.parametrize(
    ("override", "complaint"),
    [
        ({"X-Goog-Message-Number": "two"}, "X-Goog-Message-Number must be a positive integer"),
        ({"X-Goog-Message-Number": ""}, "X-Goog-Message-Number is missing"),
        ({"X-Goog-Resource-State": "exploded"}, "X-Goog-Resource-State must be one of"),
        ({"X-Goog-Channel-ID": ""}, "X-Goog-Channel-ID is missing"),
    ],
)
async def test_malformed_notifications_are_bad_requests(
    gateway: Gateway, registered: Registered, override: dict[str, str], complaint: str
) -> None:
    response = await gateway.post(registered.headers(2, **override))
    assert response.status == 400
    body = await response.json()
    assert body["error"] == "malformed notification"
    assert complaint in body["detail"]


async def test_a_body_is_refused_as_too_large(gateway: Gateway, registered: Registered) -> None:
    response = await gateway.post(registered.headers(2), data=b"x" * 10_000)
    assert response.status == 413
    assert (await response.json())["error"] == "body too large"
    assert gateway.publisher.events == []


async def test_other_methods_and_paths_get_json_errors(gateway: Gateway) -> None:
    wrong_method = await gateway.client.get(ROUTE)
    assert wrong_method.status == 405
    assert wrong_method.headers["Allow"] == "POST"
    assert (await wrong_method.json())["detail"] == f"{ROUTE} accepts POST"
    missing = await gateway.client.post("/webhooks/dropbox")
    assert missing.status == 404
    assert (await missing.json())["error"] == "not found"


@pytest.mark.parametrize(
    ("port", "error"), [("publisher", "cannot queue the change"), ("channels", "database unavailable")]
)
async def test_an_outage_answers_503_with_retry_after(
    gateway: Gateway, registered: Registered, port: str, error: str
) -> None:
    before = webhooks_counted("unavailable")
    getattr(gateway, port).down = ConnectionRefusedError()
    response = await gateway.post(registered.headers(2))
    assert response.status == 503
    assert response.headers["Retry-After"].isdigit()
    assert (await response.json())["error"] == error
    assert webhooks_counted("unavailable") == before + 1
    assert gateway.publisher.events == []
