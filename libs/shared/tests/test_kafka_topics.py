"""Topic creation with replication settings, checked against what the real broker answers."""

from __future__ import annotations

import uuid
from types import SimpleNamespace

import pytest
from aiokafka.errors import InvalidReplicationFactorError

from shared import kafka, topics
from shared.kafka import TopicState


def _names(prefix: str) -> list[str]:
    return [topics.with_prefix(prefix, t) for t in topics.ALL]


async def test_new_topics_get_the_layout_and_the_broker_describes_it(kafka_bootstrap: str) -> None:
    prefix = f"t{uuid.uuid4().hex[:10]}."
    states = await kafka.ensure_topics(kafka_bootstrap, _names(prefix), topics.Layout(3, 1, 1))
    expected = [n for name in _names(prefix) for n in (name, topics.dead_letter(name))]
    assert [s.name for s in states] == expected
    assert {(s.partitions, s.replication_factor, s.min_insync_replicas) for s in states} == {(3, 1, 1)}
    assert all(not s.short_of(topics.Layout(3, 1, 1)) for s in states)


async def test_tansu_takes_three_replicas_on_one_broker_and_reports_them(kafka_bootstrap: str) -> None:
    # Apache Kafka refuses a replication factor above its broker count (INVALID_REPLICATION_FACTOR).
    # Tansu 0.6 accepts it and reports the one broker three times; it also keeps
    # min.insync.replicas without enforcing it. This pins what the broker answers.
    prefix = f"t{uuid.uuid4().hex[:10]}."
    [state, dlq] = await kafka.ensure_topics(kafka_bootstrap, _names(prefix)[:1], topics.Layout(2, 3, 2))
    assert (state.partitions, state.replication_factor, state.min_insync_replicas) == (2, 3, 2)
    assert dlq.replication_factor == 3


async def test_existing_topics_are_left_alone_and_their_shortfall_reported(kafka_bootstrap: str) -> None:
    prefix = f"t{uuid.uuid4().hex[:10]}."
    await kafka.ensure_topics(kafka_bootstrap, _names(prefix), topics.Layout(2, 1, 1))
    states = await kafka.ensure_topics(kafka_bootstrap, _names(prefix), topics.Layout(4, 1, 1))
    assert {s.partitions for s in states} == {2}
    assert states[0].short_of(topics.Layout(4, 3, 2)) == [
        "partitions 2 < 4",
        "replication factor 1 < 3",
        "min.insync.replicas 1 < 2",
    ]


def test_a_topic_the_broker_refuses_raises_its_error() -> None:
    refused = SimpleNamespace(topic_errors=[("a", 0, None), ("b", 36, "exists"), ("c", 38, "3 > 1 broker")])
    with pytest.raises(InvalidReplicationFactorError, match="creating c: 3 > 1 broker"):
        kafka._raise_errors(refused)


def test_shortfall_ignores_what_the_broker_did_not_say() -> None:
    state = TopicState("t", partitions=4, replication_factor=3, min_insync_replicas=None)
    assert state.short_of(topics.Layout(4, 3, 2)) == []
