"""The webhook endpoint on real PostgreSQL and a real Kafka-protocol broker."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest
from prometheus_client import REGISTRY

from shared import topics
from shared.events import DriveChanged

URL = "/webhooks/google-drive"


def webhooks_counted(outcome: str) -> float:
    return REGISTRY.get_sample_value("drive_index_webhooks_total", {"outcome": outcome}) or 0.0


async def test_sync_is_acknowledged_without_an_event_and_a_change_is_published(
    client, channel, read_events, topics_created: str, pool: asyncpg.Pool
) -> None:
    sync = await client.post(URL, headers=channel.headers(1, "sync"))
    assert sync.status == 200
    assert await sync.json() == {"outcome": "sync"}
    recorded = "SELECT last_message_number FROM watch_channels WHERE id = $1"
    assert await pool.fetchval(recorded, channel.channel_id) == 1
    change = await client.post(URL, headers=channel.headers(2, "change"))
    assert change.status == 200
    assert await change.json() == {"outcome": "published"}

    records = await read_events(topics.with_prefix(topics_created, topics.DRIVE_CHANGED), 1)
    assert len(records) == 1, "the sync message must not be published"
    assert records[0].key == channel.source_id.encode()
    event = DriveChanged.model_validate_json(records[0].value)
    assert (event.source_id, event.channel_id, event.message_number) == (
        channel.source_id,
        channel.channel_id,
        2,
    )
    assert (event.resource_state, event.resource_id) == ("change", "resource-1")
    assert event.request_id == f"{channel.channel_id}:2"
    assert any(name == "traceparent" for name, _ in records[0].headers)

    row = await pool.fetchrow(
        "SELECT last_message_number, last_message_at FROM watch_channels WHERE id = $1", channel.channel_id
    )
    assert row["last_message_number"] == 2
    assert row["last_message_at"] is not None


async def test_file_level_states_are_published_with_the_callers_request_id(
    client, channel, read_events, topics_created: str, caplog: pytest.LogCaptureFixture
) -> None:
    response = await client.post(URL, headers={**channel.headers(5, "trash"), "X-Request-Id": "req-42"})
    assert response.status == 200
    summaries = [
        r.msg for r in caplog.records if isinstance(r.msg, dict) and r.msg["event"].startswith("webhook.")
    ]
    assert len(summaries) == 1, "one summary line per notification"
    assert summaries[0]["request_id"] == "req-42"
    assert (summaries[0]["channel_id"], summaries[0]["message_number"]) == (channel.channel_id, "5")
    assert (summaries[0]["resource_state"], summaries[0]["outcome"]) == ("trash", "published")
    records = await read_events(topics.with_prefix(topics_created, topics.DRIVE_CHANGED), 1)
    event = DriveChanged.model_validate_json(records[0].value)
    assert (event.resource_state, event.request_id) == ("trash", "req-42")


@pytest.mark.parametrize("token", ["wrong-token", ""])
async def test_a_bad_or_missing_token_is_forbidden(client, channel, token: str) -> None:
    before = webhooks_counted("forbidden")
    response = await client.post(URL, headers=channel.headers(2, **{"X-Goog-Channel-Token": token}))
    assert response.status == 403
    body = await response.json()
    assert body["error"] == "bad channel token"
    assert "drive-index watch start" in body["detail"]
    assert webhooks_counted("forbidden") == before + 1


async def test_an_unknown_or_stopped_channel_is_not_found(client, channel, pool: asyncpg.Pool) -> None:
    unknown = await client.post(URL, headers=channel.headers(2, **{"X-Goog-Channel-ID": "no-such-channel"}))
    assert unknown.status == 404
    assert "is not registered" in (await unknown.json())["detail"]

    await pool.execute("UPDATE watch_channels SET stopped_at = now() WHERE id = $1", channel.channel_id)
    stopped = await client.post(URL, headers=channel.headers(3))
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
    client, channel, override: dict[str, str], complaint: str
) -> None:
    response = await client.post(URL, headers=channel.headers(2, **override))
    assert response.status == 400
    body = await response.json()
    assert body["error"] == "malformed notification"
    assert complaint in body["detail"]


async def test_a_body_is_refused_as_too_large(client, channel) -> None:
    response = await client.post(URL, headers=channel.headers(2), data=b"x" * 10_000)
    assert response.status == 413
    assert (await response.json())["error"] == "body too large"


async def test_other_methods_and_paths_get_json_errors(client) -> None:
    wrong_method = await client.get(URL)
    assert wrong_method.status == 405
    assert wrong_method.headers["Allow"] == "POST"
    assert (await wrong_method.json())["detail"] == f"{URL} accepts POST"
    missing = await client.post("/webhooks/dropbox")
    assert missing.status == 404
    assert (await missing.json())["error"] == "not found"


async def test_ready_when_database_and_kafka_answer(client) -> None:
    response = await client.get("/readyz")
    assert response.status == 200
    assert (await response.json())["checks"] == {"database": "ok", "kafka": "ok"}


async def test_concurrent_notifications_are_all_published(
    client, channel, read_events, topics_created: str
) -> None:
    answers = await asyncio.gather(*(client.post(URL, headers=channel.headers(n)) for n in range(2, 22)))
    assert [answer.status for answer in answers] == [200] * 20
    records = await read_events(topics.with_prefix(topics_created, topics.DRIVE_CHANGED), 20)
    numbers = sorted(DriveChanged.model_validate_json(r.value).message_number or 0 for r in records)
    assert numbers == list(range(2, 22))
    # One key per source: every event of the source is in one partition, in order.
    assert len({record.partition for record in records}) == 1
