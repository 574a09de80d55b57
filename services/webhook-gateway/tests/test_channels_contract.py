"""The Channels port: the same behaviour from the fake the handler tests use and from PostgreSQL."""

from __future__ import annotations

from datetime import timedelta
from typing import Protocol

import pytest

from shared.channel_tokens import token_digest
from webhook_gateway.ports import Channels

from .conftest import FakeChannels, PostgresTable, Registered


class ChannelTable(Channels, Protocol):
    """A Channels adapter whose channels a test can register and stop, as the operator CLI does."""

    async def register(self, *, expires_in: timedelta | None = ..., stopped: bool = ...) -> Registered: ...

    async def stop(self, channel_id: str) -> None: ...


@pytest.fixture(params=["fake", "postgres"])
def table(request: pytest.FixtureRequest) -> ChannelTable:
    """Each behaviour below runs against the fake and against the real table."""
    if request.param == "fake":
        return FakeChannels()
    return PostgresTable(request.getfixturevalue("pool"))


class TestChannels:
    async def test_an_unregistered_channel_is_not_found(self, table: ChannelTable) -> None:
        assert await table.find("no-such-channel") is None

    async def test_a_registered_channel_names_its_source_and_token(self, table: ChannelTable) -> None:
        registered = await table.register()
        channel = await table.find(registered.channel_id)
        assert channel is not None
        assert (channel.id, channel.source_id) == (registered.channel_id, registered.source_id)
        assert channel.has_token(token_digest(registered.token))
        assert not channel.has_token(token_digest("not-the-token"))
        assert channel.stopped_at is None
        assert channel.last_message_number is None

    async def test_a_stopped_channel_is_found_with_when_it_stopped(self, table: ChannelTable) -> None:
        registered = await table.register()
        await table.stop(registered.channel_id)
        channel = await table.find(registered.channel_id)
        assert channel is not None
        assert channel.stopped_at is not None

    async def test_the_newest_message_number_is_kept_when_retries_come_out_of_order(
        self, table: ChannelTable
    ) -> None:
        registered = await table.register()
        for number in (3, 7, 5):
            await table.record_message(registered.channel_id, number)
        channel = await table.find(registered.channel_id)
        assert channel is not None
        assert channel.last_message_number == 7
        assert channel.last_message_at is not None

    async def test_recording_a_message_of_an_unknown_channel_changes_nothing(
        self, table: ChannelTable
    ) -> None:
        await table.record_message("no-such-channel", 4)
        assert await table.find("no-such-channel") is None

    async def test_active_channels_and_the_first_expiry_are_summarised(self, table: ChannelTable) -> None:
        before, _ = await table.active_summary()
        await table.register(expires_in=timedelta(hours=3))
        await table.register(expires_in=timedelta(hours=30))
        await table.register(expires_in=timedelta(hours=1), stopped=True)
        expired = await table.register(expires_in=timedelta(hours=-1))  # expired, never renewed
        active, expires_in = await table.active_summary()
        # Stopped now, as renewing it would: the session's database is shared, and
        # `drive-index doctor` in the e2e tests fails on an expired channel.
        await table.stop(expired.channel_id)
        assert active == before + 2
        # Other tests' channels may expire sooner, never later than this test's 3-hour one.
        assert expires_in is not None
        assert 0 < expires_in <= 3 * 3600
