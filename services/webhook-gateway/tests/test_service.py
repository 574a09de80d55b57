"""The gateway on real PostgreSQL and a real Kafka-protocol broker: what the fakes cannot show."""

from __future__ import annotations

import asyncio

import asyncpg

from shared import topics
from shared.events import DriveChanged

URL = "/webhooks/google-drive"


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
