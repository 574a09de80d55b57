"""The alert rules load in Prometheus and fire when they should (promtool), and say what to do."""

from __future__ import annotations

import shutil
import subprocess

import pytest
import yaml

from tests.deploy.tools import CHART, ROOT

pytestmark = pytest.mark.deploy

ALERTS = CHART / "files" / "alerts.yaml"


def _promtool(*args: str) -> str:
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.skip("promtool is missing: apt-get install prometheus")
    result = subprocess.run(
        [promtool, *args], cwd=ROOT, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_rules_load_in_prometheus() -> None:
    assert "SUCCESS" in _promtool("check", "rules", str(ALERTS))


def test_consumer_alerts_fire_when_a_loop_stops_or_stalls() -> None:
    assert "SUCCESS" in _promtool("test", "rules", "tests/deploy/alerts_test.yaml")


def test_every_rule_names_its_severity_and_what_to_do() -> None:
    rules = yaml.safe_load(ALERTS.read_text())["groups"][0]["rules"]
    names = {rule["alert"] for rule in rules}
    assert {"DriveIndexConsumerStopped", "DriveIndexConsumerStalled"} <= names
    for rule in rules:
        assert rule["labels"]["severity"] in ("warning", "critical"), rule["alert"]
        assert rule["annotations"]["summary"], rule["alert"]
        assert rule["annotations"]["description"], rule["alert"]
        assert rule.get("for"), f"{rule['alert']} fires on a single scrape"
