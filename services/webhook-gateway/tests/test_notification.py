"""Reading Google's push-notification headers."""

from __future__ import annotations

import pytest

from webhook_gateway.notification import MalformedError, log_context, parse

GOOGLE = {
    "X-Goog-Channel-ID": "channel-1",
    "X-Goog-Channel-Token": "secret",
    "X-Goog-Message-Number": "7",
    "X-Goog-Resource-ID": "resource-1",
    "X-Goog-Resource-State": "update",
    "X-Goog-Changed": "content, properties",
}


def test_reads_every_header_google_sends() -> None:
    note = parse(GOOGLE)
    assert (note.channel_id, note.token, note.message_number) == ("channel-1", "secret", 7)
    assert (note.resource_state, note.resource_id) == ("update", "resource-1")
    assert note.changed == ("content", "properties")


@pytest.mark.parametrize(
    ("name", "value", "complaint"),
    [
        ("X-Goog-Channel-ID", "", "X-Goog-Channel-ID is missing"),
        ("X-Goog-Message-Number", "", "X-Goog-Message-Number is missing"),
        ("X-Goog-Message-Number", "seven", "must be a positive integer"),
        ("X-Goog-Message-Number", "-1", "must be a positive integer"),
        ("X-Goog-Message-Number", "²", "must be a positive integer"),
        ("X-Goog-Message-Number", "9" * 19, "must be a positive integer"),
        ("X-Goog-Resource-State", "exploded", "must be one of"),
        ("X-Goog-Resource-State", "backfill", "must be one of"),
    ],
)
def test_refuses_missing_or_malformed_headers(name: str, value: str, complaint: str) -> None:
    with pytest.raises(MalformedError, match=complaint):
        parse({**GOOGLE, name: value})


def test_request_id_prefers_the_callers_then_channel_and_message_number() -> None:
    assert log_context(GOOGLE)["request_id"] == "channel-1:7"
    assert log_context({**GOOGLE, "X-Request-Id": "abc"})["request_id"] == "abc"
    assert len(log_context({**GOOGLE, "X-Goog-Channel-ID": "x" * 5000})["channel_id"] or "") == 200
