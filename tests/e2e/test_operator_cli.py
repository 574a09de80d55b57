"""The runbook commands against the running stack: watch list, smoke, doctor, backfill."""

from __future__ import annotations

import pytest

from devstack.stack import Stack
from drive_emulator.client import EmulatorControl
from tests.e2e.conftest import drive_index

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def service_urls(stack: Stack) -> list[str]:
    return [
        "--gateway",
        stack.url("webhook-gateway"),
        "--fetcher",
        stack.url("fetcher"),
        "--embedder",
        stack.url("embedder"),
        "--search",
        stack.url("search"),
    ]


def test_smoke_replays_a_webhook_and_finds_a_document(
    stack: Stack, cli_env: dict[str, str], emulator_url: str
) -> None:
    EmulatorControl(emulator_url).create_doc(
        "Bike storage", "# Bike storage\n\nBicycles are kept in the locked basement room next to the lifts."
    )
    out = drive_index(
        cli_env,
        "smoke",
        *service_urls(stack),
        "--source",
        "e2e",
        "--query",
        "where can I park my bicycle",
        "--expect",
        "Bike storage",
        "--timeout",
        "30",
    )
    assert "replayed webhook queued" in out
    assert "smoke test passed" in out


def test_doctor_reports_every_dependency_healthy(stack: Stack, stack_env: dict[str, str]) -> None:
    out = drive_index(stack_env, "doctor", *service_urls(stack))
    assert "all checks passed" in out
    assert "watch channels" in out


def test_watch_list_shows_the_active_channel(stack: Stack, stack_env: dict[str, str]) -> None:
    out = drive_index(stack_env, "watch", "list")
    gateway = f"{stack.url('webhook-gateway')}/webhooks/google-drive"
    assert any(gateway in line and "active" in line for line in out.splitlines())


def test_backfill_indexes_files_that_sent_no_notification(
    stack: Stack, stack_env: dict[str, str], cli_env: dict[str, str], emulator_url: str
) -> None:
    gateway = f"{stack.url('webhook-gateway')}/webhooks/google-drive"
    drive_index(stack_env, "watch", "stop")  # from now on Drive tells nobody about changes
    try:
        EmulatorControl(emulator_url).create_doc(
            "Quiet room booking",
            "# Quiet rooms\n\nBook the quiet rooms on the third floor through the front desk.",
        )
        drive_index(stack_env, "backfill", "--source", "e2e")
        out = drive_index(
            cli_env,
            "smoke",
            *service_urls(stack),
            "--source",
            "e2e",
            "--query",
            "reserve a silent space to concentrate",
            "--expect",
            "Quiet room booking",
        )
        assert "smoke test passed" in out
    finally:
        drive_index(stack_env, "watch", "start", "--source", "e2e", "--address", gateway)
