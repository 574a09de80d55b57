"""The channel gauges that let alerts tell "no channels" from "channels but no webhooks"."""

from __future__ import annotations

from datetime import timedelta

from prometheus_client import REGISTRY

from webhook_gateway.channel_gauges import refresh, refresh_or_count

from .conftest import FakeChannels


def gauge(name: str) -> float:
    value = REGISTRY.get_sample_value(name)
    assert value is not None
    return value


def database_errors() -> float:
    return (
        REGISTRY.get_sample_value("drive_index_database_errors_total", {"operation": "channel_gauges"}) or 0
    )


async def test_the_gauges_show_the_channels_summary() -> None:
    channels = FakeChannels()
    await channels.register(expires_in=timedelta(hours=3))
    await channels.register(expires_in=timedelta(hours=30))
    await refresh(channels)
    assert gauge("drive_index_watch_channels_active") == 2
    assert 3 * 3600 - 60 < gauge("drive_index_watch_channel_expiry_seconds") <= 3 * 3600


async def test_no_known_expiry_reads_as_never() -> None:
    channels = FakeChannels()
    await channels.register(expires_in=None)
    await refresh(channels)
    assert gauge("drive_index_watch_channels_active") == 1
    assert gauge("drive_index_watch_channel_expiry_seconds") == float("inf")


async def test_a_failed_refresh_is_counted_and_never_raised() -> None:
    channels, before = FakeChannels(), database_errors()
    channels.down = ConnectionRefusedError()
    await refresh_or_count(channels)
    assert database_errors() == before + 1
