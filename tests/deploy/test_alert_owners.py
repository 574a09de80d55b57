"""Each alert watches metrics that the service it is about exports, and that no other service does.

A metric declared in a module every service imports is exported by all of them: an unlabelled
gauge then reads 0 in the services that never set it, and an alert over it fires forever. So
each service is imported in a process of its own, as it runs, and its registry is read.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from functools import cache
from pathlib import Path

import pytest
import yaml

ALERTS = Path(__file__).resolve().parents[2] / "helm" / "drive-index" / "files" / "alerts.yaml"
PACKAGES = {
    "webhook-gateway": "webhook_gateway",
    "fetcher": "fetcher",
    "embedder": "embedder",
    "search": "search",
}
CONSUMERS = frozenset({"fetcher", "embedder"})
GATEWAY = frozenset({"webhook-gateway"})
# Which services each alert is about; a new alert must say so here.
OWNERS: dict[str, frozenset[str]] = {
    "DriveIndexConsumerStopped": CONSUMERS,
    "DriveIndexConsumerStalled": CONSUMERS,
    "DriveIndexMessagesDeadLettered": CONSUMERS,
    "DriveIndexIngestionFailing": CONSUMERS,
    "DriveIndexDatabaseErrors": GATEWAY,
    "DriveIndexWebhooksMissing": GATEWAY,
    "DriveIndexWatchChannelExpiring": GATEWAY,
    "DriveIndexWatchChannelsNone": GATEWAY,
    "DriveIndexWebhooksUnavailable": GATEWAY,
    "DriveIndexWebhooksRefused": GATEWAY,
    "DriveIndexSearchSlow": frozenset({"search"}),
}
SUFFIXES = {"counter": ("_total",), "histogram": ("_bucket", "_sum", "_count"), "summary": ("_sum", "_count")}
READ_REGISTRY = """
import importlib, json, sys
from prometheus_client import REGISTRY
importlib.import_module(sys.argv[1] + ".app")
print(json.dumps({m.name: [m.type, sorted({s.name for s in m.samples})] for m in REGISTRY.collect()}))
"""


@cache
def exported(service: str) -> tuple[set[str], set[str]]:
    """The metric names a service declares, and those it exports samples for before doing anything."""
    out = subprocess.run(
        [sys.executable, "-c", READ_REGISTRY, PACKAGES[service]], capture_output=True, text=True, check=True
    ).stdout
    families = json.loads(out.splitlines()[-1])
    declared = {name + suffix for name, (kind, _) in families.items() for suffix in SUFFIXES.get(kind, ("",))}
    sampled = {sample for _, samples in families.values() for sample in samples}
    return declared, sampled


def rules() -> list[dict[str, str]]:
    return list(yaml.safe_load(ALERTS.read_text())["groups"][0]["rules"])


def test_every_alert_names_the_services_it_is_about() -> None:
    assert {rule["alert"] for rule in rules()} == set(OWNERS)


@pytest.mark.parametrize("rule", rules(), ids=lambda rule: rule["alert"])
def test_an_alerts_metrics_come_from_its_services_only(rule: dict[str, str]) -> None:
    used = set(re.findall(r"drive_index_[a-z_]+", rule["expr"]))
    assert used, f"{rule['alert']} watches no Drive Index metric"
    for service in PACKAGES:
        declared, sampled = exported(service)
        if service in OWNERS[rule["alert"]]:
            assert used <= declared, f"{service} does not export {used - declared}"
        else:
            assert not used & sampled, (
                f"{service} exports {used & sampled}, which {rule['alert']} is not about"
            )
