"""Catching up the notifications refused in an outage, with fakes for the channels and the broker."""

from __future__ import annotations

import pytest

from devstack.fakes import RecordingPublisher
from shared import topics
from shared.channel_tokens import token_digest
from webhook_gateway.catch_up import MAX_MISSED, Missed, catch_up

from .conftest import FakeChannels


async def test_a_real_channel_gets_one_poll_of_its_source() -> None:
    channels, publisher, missed = FakeChannels(), RecordingPublisher(), Missed()
    channel = await channels.register()
    missed.add(channel.channel_id, token_digest(channel.token))
    missed.add(channel.channel_id, token_digest(channel.token))  # Google's retries, refused too
    await catch_up(missed, channels=channels, publisher=publisher)
    [sent] = publisher.events
    assert (sent.topic, sent.key) == (topics.DRIVE_CHANGED, channel.source_id)
    [event] = publisher.events
    assert (event.resource_state, event.channel_id) == ("poll", channel.channel_id)
    assert missed.channels == {}


async def test_forged_unknown_and_stopped_channels_are_dropped_without_a_poll() -> None:
    channels, publisher, missed = FakeChannels(), RecordingPublisher(), Missed()
    forged, stopped = await channels.register(), await channels.register()
    await channels.stop(stopped.channel_id)
    missed.add(forged.channel_id, token_digest("not-the-token"))
    missed.add(stopped.channel_id, token_digest(stopped.token))
    missed.add("no-such-channel", token_digest("t"))
    await catch_up(missed, channels=channels, publisher=publisher)
    assert publisher.events == []
    assert missed.channels == {}


async def test_a_channel_stays_remembered_while_the_outage_lasts() -> None:
    channels, publisher, missed = FakeChannels(), RecordingPublisher(), Missed()
    channel = await channels.register()
    missed.add(channel.channel_id, token_digest(channel.token))
    publisher.down = ConnectionError("broker still gone")
    with pytest.raises(ConnectionError):
        await catch_up(missed, channels=channels, publisher=publisher)
    assert channel.channel_id in missed.channels
    publisher.down = None
    await catch_up(missed, channels=channels, publisher=publisher)
    assert len(publisher.events) == 1
    assert missed.channels == {}


def test_made_up_channels_cannot_grow_the_memory_without_bound() -> None:
    missed = Missed()
    for n in range(MAX_MISSED + 5):
        missed.add(f"channel-{n}", b"digest")
    assert len(missed.channels) == MAX_MISSED
    missed.add("channel-0", b"newer digest")  # a remembered channel is still updated
    assert missed.channels["channel-0"] == b"newer digest"
