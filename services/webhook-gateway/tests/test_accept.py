"""Accepting a notification, with fakes for the channel table and the broker."""

from __future__ import annotations

import time
from typing import Any

import pytest

from devstack.fakes import RecordingPublisher
from shared import topics
from shared.channel_tokens import token_digest
from webhook_gateway.accept import Outcome, accept
from webhook_gateway.catch_up import Missed
from webhook_gateway.errors import (
    BadTokenError,
    CannotQueueError,
    DatabaseUnavailableError,
    RefusedError,
    UnknownChannelError,
)
from webhook_gateway.notification import Notification, parse

from .conftest import FakeChannels, Registered


class Accepting:
    """accept() bound to fresh fakes."""

    def __init__(self) -> None:
        self.channels, self.publisher, self.missed = FakeChannels(), RecordingPublisher(), Missed()

    async def __call__(self, note: Notification, request_id: str | None = None) -> Outcome:
        return await accept(
            note,
            channels=self.channels,
            publisher=self.publisher,
            missed=self.missed,
            publish_timeout=0.2,
            request_id=request_id,
        )


@pytest.fixture
def accepting() -> Accepting:
    return Accepting()


def note(channel: Registered, number: int, state: str = "change", **overrides: str) -> Notification:
    return parse(channel.headers(number, state, **overrides))


async def test_sync_is_recorded_and_not_published(accepting: Accepting) -> None:
    channel = await accepting.channels.register()
    assert await accepting(note(channel, 1, "sync")) == Outcome.SYNC
    assert accepting.publisher.events == []
    known = await accepting.channels.find(channel.channel_id)
    assert known is not None
    assert known.last_message_number == 1


async def test_a_change_is_published_for_the_channels_source(accepting: Accepting) -> None:
    channel = await accepting.channels.register()
    assert await accepting(note(channel, 2, "update"), request_id="req-1") == Outcome.PUBLISHED
    [sent] = accepting.publisher.events
    assert (sent.topic, sent.key) == (topics.DRIVE_CHANGED, channel.source_id)
    [event] = accepting.publisher.events
    assert (event.source_id, event.channel_id, event.message_number) == (
        channel.source_id,
        channel.channel_id,
        2,
    )
    assert (event.resource_state, event.resource_id, event.request_id) == ("update", "resource-1", "req-1")
    known = await accepting.channels.find(channel.channel_id)
    assert known is not None
    assert known.last_message_number == 2


@pytest.mark.parametrize("token", ["wrong-token", ""])
async def test_a_bad_or_missing_token_is_refused(accepting: Accepting, token: str) -> None:
    channel = await accepting.channels.register()
    with pytest.raises(BadTokenError, match="drive-index watch start"):
        await accepting(note(channel, 2, **{"X-Goog-Channel-Token": token}))
    assert accepting.publisher.events == []


async def test_an_unknown_or_stopped_channel_is_refused(accepting: Accepting) -> None:
    channel = await accepting.channels.register()
    with pytest.raises(UnknownChannelError, match="is not registered"):
        await accepting(note(channel, 2, **{"X-Goog-Channel-ID": "no-such-channel"}))
    await accepting.channels.stop(channel.channel_id)
    with pytest.raises(UnknownChannelError, match="was stopped"):
        await accepting(note(channel, 3))
    assert accepting.publisher.events == []


async def test_a_database_outage_refuses_for_a_retry_and_remembers_the_channel(accepting: Accepting) -> None:
    channel = await accepting.channels.register()
    accepting.channels.down = ConnectionRefusedError()
    with pytest.raises(DatabaseUnavailableError, match="ConnectionRefusedError") as refused:
        await accepting(note(channel, 2))
    assert refused.value.retriable
    assert accepting.missed.channels == {channel.channel_id: token_digest(channel.token)}


@pytest.mark.parametrize("fault", [{"down": ConnectionError("broker gone")}, {"stalled": True}])
async def test_a_broker_that_does_not_acknowledge_refuses_in_time(
    accepting: Accepting, fault: dict[str, Any]
) -> None:
    channel = await accepting.channels.register()
    for name, value in fault.items():
        setattr(accepting.publisher, name, value)
    started = time.monotonic()
    with pytest.raises(CannotQueueError, match=r"did not acknowledge within 0\.2s") as refused:
        await accepting(note(channel, 2))
    assert time.monotonic() - started < 1, "the publish timeout bounds the answer"
    assert refused.value.retriable
    assert channel.channel_id in accepting.missed.channels
    known = await accepting.channels.find(channel.channel_id)
    assert known is not None
    assert known.last_message_number is None, "a change that was not queued is not recorded"


async def test_refusals_that_a_retry_cannot_help_are_not_remembered(accepting: Accepting) -> None:
    channel = await accepting.channels.register()
    with pytest.raises(RefusedError) as refused:
        await accepting(note(channel, 2, **{"X-Goog-Channel-Token": "forged"}))
    assert not refused.value.retriable
    accepting.channels.down = ConnectionRefusedError()
    with pytest.raises(DatabaseUnavailableError):
        await accepting(note(channel, 3, **{"X-Goog-Channel-Token": ""}))  # nothing to check it by later
    assert accepting.missed.channels == {}


async def test_a_failed_record_still_accepts_the_queued_change(accepting: Accepting) -> None:
    channel = await accepting.channels.register()
    accepting.channels.recording_down = ConnectionRefusedError()
    assert await accepting(note(channel, 2)) == Outcome.PUBLISHED
    assert len(accepting.publisher.events) == 1
