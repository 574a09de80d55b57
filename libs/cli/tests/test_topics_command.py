"""`drive-index topics`, against the real broker: the settings' layout, and a shortfall refused."""

from __future__ import annotations

import argparse
import uuid

import pytest

from drive_index_cli import checks, infrastructure


async def test_drive_index_topics_uses_the_settings_and_fails_on_a_shortfall(
    kafka_bootstrap: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    prefix = f"t{uuid.uuid4().hex[:10]}."
    for name, value in {
        "DATABASE_URL": "postgresql://unused/db",
        "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
        "KAFKA_TOPIC_PREFIX": prefix,
        "KAFKA_PARTITIONS": "2",
    }.items():
        monkeypatch.setenv(name, value)
    assert await infrastructure.topics_command(argparse.Namespace(partitions=None)) == 0
    table = capsys.readouterr().out
    assert f"{prefix}drive.changed.dlq" in table
    rows = [line.split() for line in table.splitlines() if line.startswith(prefix)]
    assert [row[1:4] for row in rows] == [["2", "1", "1"]] * 6

    monkeypatch.setenv("KAFKA_PARTITIONS", "6")
    with pytest.raises(checks.CheckFailedError, match="left as they are"):
        await infrastructure.topics_command(argparse.Namespace(partitions=None))
    assert "partitions 2 < 6" in capsys.readouterr().out
