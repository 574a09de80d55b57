"""Who can reach what: compose's published ports, the chart's NetworkPolicies and search's front door.

The NetworkPolicies are rendered by Helm's engine, checked against the Kubernetes schemas, then
evaluated (tests/deploy/netpol.py) for the connections that matter: the ingress controller,
Prometheus, a neighbour in the namespace, a pod elsewhere, the release's own pods, the stores.
"""

from __future__ import annotations

import json
import re
from typing import Any

import helm_python as helm
import pytest
import yaml

from tests.deploy.netpol import Peer, address, admits, lets_out, reachable
from tests.deploy.tools import (
    CHART,
    ENVIRONMENTS,
    ROOT,
    compose,
    effective_values,
    merged,
    of_kind,
    render,
    rendered,
    validate,
    values_of,
)

pytestmark = pytest.mark.deploy

PORTS = {"webhook-gateway": 8080, "fetcher": 8081, "embedder": 8082, "search": 8083}
OAUTH2_PROXY_PORT = 4180
PROTECTED = ["values-staging.yaml", "values-production.yaml"]
SNIPPETS = re.compile(r"(configuration|auth|server|stream)-snippet")

# Pods outside the release, labelled as the chart's default selectors expect them.
INGRESS_NGINX = Peer({"app.kubernetes.io/name": "ingress-nginx"}, namespace="ingress-nginx", ip="10.4.1.5")
PROMETHEUS = Peer({"app.kubernetes.io/name": "prometheus"}, namespace="monitoring", ip="10.4.2.5")
NEIGHBOUR = Peer({"app.kubernetes.io/name": "something-else"}, ip="10.4.3.5")  # same namespace
ELSEWHERE = Peer({"app.kubernetes.io/name": "something-else"}, namespace="team-x", ip="10.4.4.5")
STRANGERS = [NEIGHBOUR, ELSEWHERE]


def policies(docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [doc for doc in docs if doc["kind"] == "NetworkPolicy"]


def pod_labels(doc: dict[str, Any]) -> dict[str, str]:
    """The labels of the pods a workload makes."""
    spec = doc["spec"]
    template = {
        "Deployment": lambda: spec["template"],
        "Job": lambda: spec["template"],
        "CronJob": lambda: spec["jobTemplate"]["spec"]["template"],
        "Pod": lambda: doc,
    }[doc["kind"]]()
    return dict(template["metadata"]["labels"])


def release_pods(docs: list[dict[str, Any]]) -> dict[str, Peer]:
    """Every pod the release runs, by component: services, jobs, the toolbox, the helm test."""
    pods = {}
    for doc in docs:
        if doc["kind"] in {"Deployment", "Job", "CronJob", "Pod"}:
            labels = pod_labels(doc)
            pods[labels["app.kubernetes.io/component"]] = Peer(labels, ip="10.4.9.9")
    return pods


def store_pod(values: dict[str, Any], store: str) -> Peer:
    selector = values["networkPolicy"]["stores"][store]["podSelector"]
    assert selector.get("matchLabels"), f"networkPolicy.stores.{store}.podSelector is empty"
    return Peer(selector["matchLabels"], ip="10.4.7.7")


def with_values(values_file: str, override: dict[str, Any]) -> list[dict[str, Any]]:
    return render(merged(values_of(values_file), override))


# ---- compose ----------------------------------------------------------------------------------


def test_compose_publishes_ports_on_loopback_only() -> None:
    services = json.loads(compose("--profile", "*", "config", "--format", "json"))["services"]
    published = {name: service.get("ports", []) for name, service in services.items()}
    assert published["search"], "search is reachable from the host (for a TLS proxy on it)"
    for name, ports in published.items():
        for port in ports:
            assert port.get("host_ip") == "127.0.0.1", (
                f"{name} publishes {port['published']} on every interface"
            )


def test_compose_search_believes_only_its_oauth2_proxy_sidecar() -> None:
    services = json.loads(compose("--profile", "*", "config", "--format", "json"))["services"]
    assert services["search"]["environment"]["SEARCH_TRUSTED_PROXIES"] == "127.0.0.1/32"
    proxy = services["oauth2-proxy"]
    # The sidecar shares search's network namespace: its requests come from 127.0.0.1, nobody else's do.
    assert proxy["network_mode"] == "service:search"
    assert proxy["profiles"] == ["auth"]
    assert proxy["environment"]["OAUTH2_PROXY_UPSTREAMS"] == "http://127.0.0.1:8083/"
    assert proxy["environment"]["OAUTH2_PROXY_PASS_USER_HEADERS"] == "true"
    for name, service in services.items():
        assert "SEARCH_TRUST_FORWARDED_IDENTITY" not in service.get("environment", {}), name


# ---- chart: rendering and toggles ---------------------------------------------------------------


@pytest.mark.parametrize("values_file", ENVIRONMENTS)
def test_network_policies_render_and_validate(values_file: str) -> None:
    found = policies(rendered(values_file))
    assert found, "networkPolicy.enabled is on by default"
    for policy in found:
        validate(policy)
        own_pods = [{"podSelector": policy["spec"]["podSelector"]}]
        for rule in policy["spec"].get("ingress", []):
            assert rule.get("from"), f"{policy['metadata']['name']}: a rule without `from` admits everyone"
            # Only a store's own pods talk to each other on any port (replication, quorum).
            if rule["from"] != own_pods:
                assert rule.get("ports"), (
                    f"{policy['metadata']['name']}: a rule without `ports` opens every port"
                )
        for rule in policy["spec"].get("egress", []):
            assert rule.get("to"), f"{policy['metadata']['name']}: a rule without `to` reaches everywhere"
            assert rule.get("ports"), f"{policy['metadata']['name']}: a rule without `ports` opens every port"


def test_every_option_renders_valid_policies() -> None:
    docs = with_values(
        "values-production.yaml",
        {
            "networkPolicy": {
                "searchClients": [{"podSelector": {"matchLabels": {"app": "reports"}}}],
                "stores": {
                    "postgres": {"podSelector": {"matchLabels": {"app.kubernetes.io/name": "postgresql"}}},
                    "kafka": {"podSelector": {"matchLabels": {"app.kubernetes.io/name": "kafka"}}},
                },
                "egress": {
                    "extra": [{"to": [{"ipBlock": {"cidr": "169.254.169.254/32"}}], "ports": [{"port": 80}]}]
                },
            }
        },
    )
    names = {policy["metadata"]["name"] for policy in policies(docs)}
    assert {"drive-index-store-postgres", "drive-index-store-kafka", "drive-index-egress"} <= names
    for policy in policies(docs):
        validate(policy)


def test_network_policies_are_on_unless_turned_off() -> None:
    assert policies(render({"secrets": {"values": {"DATABASE_URL": "postgresql://db/drive_index"}}}))
    assert policies(with_values("values-dev.yaml", {"networkPolicy": {"enabled": False}})) == []


@pytest.mark.parametrize("values_file", PROTECTED)
def test_staging_and_production_enforce_network_policies_without_snippets(values_file: str) -> None:
    assert values_of(values_file)["networkPolicy"]["enabled"] is True
    assert values_of(values_file)["networkPolicy"]["egress"]["enabled"] is True
    for path in CHART.glob("values*.yaml"):
        assert not SNIPPETS.search(path.read_text()), f"{path.name} sets headers with an nginx snippet"
    for ingress in of_kind(rendered(values_file), "Ingress").values():
        annotations = ingress["metadata"].get("annotations", {})
        assert not [key for key in annotations if SNIPPETS.search(key)]


# ---- chart: who reaches the services ------------------------------------------------------------


@pytest.mark.parametrize("values_file", ENVIRONMENTS)
def test_release_pods_deny_ingress_by_default(values_file: str) -> None:
    docs = rendered(values_file)
    rules = policies(docs)
    for component, pod in release_pods(docs).items():
        for stranger in STRANGERS:
            for port in [*PORTS.values(), OAUTH2_PROXY_PORT, 5432, 9092]:
                assert not admits(rules, stranger, pod, port), f"{stranger} reaches {component}:{port}"


@pytest.mark.parametrize("values_file", ENVIRONMENTS)
def test_only_the_ingress_controller_reaches_the_gateway(values_file: str) -> None:
    docs = rendered(values_file)
    rules, pods = policies(docs), release_pods(docs)
    gateway = pods["webhook-gateway"]
    assert reachable(rules, INGRESS_NGINX, gateway, PORTS["webhook-gateway"])
    for other in ("fetcher", "embedder", "search"):
        assert not reachable(rules, pods[other], gateway, PORTS["webhook-gateway"]), (
            f"{other} reaches the gateway"
        )


@pytest.mark.parametrize("values_file", ENVIRONMENTS)
def test_only_the_front_door_reaches_search(values_file: str) -> None:
    docs = rendered(values_file)
    rules, pods = policies(docs), release_pods(docs)
    search, port = pods["search"], PORTS["search"]
    if effective_values(values_file)["oauth2Proxy"]["enabled"]:
        # The controller reaches the sidecar, which alone talks to search (over 127.0.0.1).
        assert reachable(rules, INGRESS_NGINX, search, OAUTH2_PROXY_PORT)
        assert not reachable(rules, INGRESS_NGINX, search, port)
    else:
        assert reachable(rules, INGRESS_NGINX, search, port)
    for other in ("webhook-gateway", "fetcher", "embedder"):
        assert not reachable(rules, pods[other], search, port), f"{other} reaches search"


@pytest.mark.parametrize("values_file", ENVIRONMENTS)
def test_consumers_are_reached_only_by_prometheus_and_the_operators(values_file: str) -> None:
    docs = rendered(values_file)
    rules, pods = policies(docs), release_pods(docs)
    for consumer in ("fetcher", "embedder"):
        target, port = pods[consumer], PORTS[consumer]
        assert reachable(rules, PROMETHEUS, target, port), f"Prometheus cannot scrape {consumer}"
        assert not reachable(rules, INGRESS_NGINX, target, port), f"the ingress controller reaches {consumer}"
        for other in ("webhook-gateway", "search"):
            assert not reachable(rules, pods[other], target, port), f"{other} reaches {consumer}"
    if "toolbox" in pods:  # `drive-index doctor` checks every service's /readyz
        for service, port in PORTS.items():
            assert reachable(rules, pods["toolbox"], pods[service], port), (
                f"the toolbox cannot reach {service}"
            )
    for service, port in PORTS.items():
        assert reachable(rules, pods["smoke"], pods[service], port), f"`helm test` cannot reach {service}"
        assert admits(rules, PROMETHEUS, pods[service], port), f"Prometheus cannot scrape {service}"


def test_search_clients_reach_search_itself_not_its_proxy() -> None:
    reports = Peer({"app": "reports"}, ip="10.4.5.5")
    docs = with_values(
        "values-production.yaml",
        {"networkPolicy": {"searchClients": [{"podSelector": {"matchLabels": {"app": "reports"}}}]}},
    )
    search = release_pods(docs)["search"]
    assert reachable(policies(docs), reports, search, PORTS["search"])
    assert not reachable(policies(docs), reports, search, OAUTH2_PROXY_PORT)
    assert not reachable(policies(rendered("values-production.yaml")), reports, search, PORTS["search"])


# ---- chart: stores --------------------------------------------------------------------------------


def test_in_namespace_stores_admit_only_the_release() -> None:
    """values-dev runs PostgreSQL and Kafka in the release's namespace: only its pods get in."""
    docs, values = rendered("values-dev.yaml"), effective_values("values-dev.yaml")
    rules, pods = policies(docs), release_pods(docs)
    for store, port in (("postgres", 5432), ("kafka", 9092)):
        target = store_pod(values, store)
        for component in ("webhook-gateway", "fetcher", "embedder", "search", "migrate", "smoke"):
            assert reachable(rules, pods[component], target, port), f"{component} cannot reach {store}"
        for stranger in STRANGERS:
            assert not reachable(rules, stranger, target, port), f"{stranger} reaches {store}"
        # Replication and the controller quorum: the store's own pods still talk to each other.
        assert admits(rules, target, target, 9093 if store == "kafka" else port)


def test_stores_in_their_own_namespace_admit_only_the_release() -> None:
    """deploy/networkpolicy-stores.yaml, applied in the stores' namespace, admits the chart's pods."""
    manifests = list(yaml.safe_load_all((ROOT / "deploy" / "networkpolicy-stores.yaml").read_text()))
    for manifest in manifests:
        manifest["metadata"]["namespace"] = "stores"
    pods = release_pods(rendered("values-production.yaml"))
    for store, port in (("kafka", 9092), ("postgresql", 5432)):
        target = Peer({"app.kubernetes.io/name": store}, namespace="stores")
        for component in ("fetcher", "migrate", "backup", "toolbox"):
            assert admits(manifests, pods[component], target, port), f"{component} cannot reach {store}"
        restore = yaml.safe_load((ROOT / "deploy" / "restore-pod.yaml").read_text())
        if store == "postgresql":
            assert admits(manifests, Peer(restore["metadata"]["labels"]), target, port)
        for stranger in (*STRANGERS, Peer({"app.kubernetes.io/name": "other"}, namespace="stores")):
            assert not admits(manifests, stranger, target, port), f"{stranger} reaches {store}"


def test_production_egress_reaches_only_the_declared_stores() -> None:
    docs, values = rendered("values-production.yaml"), effective_values("values-production.yaml")
    rules, pods = policies(docs), release_pods(docs)
    egress = values["networkPolicy"]["egress"]
    kafka_peer = egress["kafka"]["to"][0]
    kafka = Peer(
        kafka_peer["podSelector"]["matchLabels"],
        namespace=kafka_peer["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"],
    )
    database = address(egress["postgres"]["to"][0]["ipBlock"]["cidr"].split("/")[0])
    kube_dns = Peer({"k8s-app": "kube-dns"}, namespace="kube-system")
    for component in ("webhook-gateway", "fetcher", "embedder", "search", "migrate", "backup", "toolbox"):
        pod = pods[component]
        assert lets_out(rules, pod, database, 5432), f"{component} cannot reach PostgreSQL"
        assert lets_out(rules, pod, kube_dns, 53, "UDP"), f"{component} cannot resolve names"
        assert not lets_out(rules, pod, address("10.99.0.1"), 5432), f"{component} reaches any database"
        assert not lets_out(rules, pod, address("203.0.113.9"), 5432), f"{component} reaches any database"
        assert not lets_out(rules, pod, Peer(kafka.labels, namespace="team-x"), 9092)
        assert not lets_out(rules, pod, Peer({"app": "other"}, namespace=kafka.namespace), 9092)
    assert reachable(rules, pods["fetcher"], kafka, 9092)
    # Google's APIs and Cohere are public HTTPS; private addresses are not, on any port.
    assert lets_out(rules, pods["fetcher"], address("142.250.74.10"), 443)
    assert not lets_out(rules, pods["fetcher"], address("10.99.0.1"), 443)


def test_egress_without_a_database_address_does_not_render() -> None:
    with pytest.raises(helm.HelmRenderError, match=r"networkPolicy\.egress\.postgres\.to"):
        with_values("values-production.yaml", {"networkPolicy": {"egress": {"postgres": {"to": []}}}})


# ---- chart: identity settings ------------------------------------------------------------------


@pytest.mark.parametrize("values_file", PROTECTED)
def test_search_sits_behind_an_oauth2_proxy_sidecar_it_alone_trusts(values_file: str) -> None:
    docs = rendered(values_file)
    pod = of_kind(docs, "Deployment")["drive-index-search"]["spec"]["template"]["spec"]
    search, proxy = pod["containers"]
    env = {item["name"]: item.get("value") for item in search["env"]}
    assert env["SEARCH_TRUSTED_PROXIES"] == "127.0.0.1/32"
    assert "--upstream=http://127.0.0.1:8083/" in proxy["args"]
    assert "--pass-user-headers=true" in proxy["args"]
    assert [source["secretRef"]["name"] for source in proxy["envFrom"]], (
        "client and cookie secrets come from a Secret"
    )
    assert proxy["ports"][0]["containerPort"] == OAUTH2_PROXY_PORT
    service = of_kind(docs, "Service")["drive-index-search"]["spec"]
    assert {
        "name": "oauth2-proxy",
        "port": OAUTH2_PROXY_PORT,
        "targetPort": "oauth2-proxy",
        "protocol": "TCP",
    } in (service["ports"])
    backend = of_kind(docs, "Ingress")["drive-index-search"]["spec"]["rules"][0]["http"]["paths"][0][
        "backend"
    ]
    assert backend["service"] == {"name": "drive-index-search", "port": {"name": "oauth2-proxy"}}


@pytest.mark.parametrize("values_file", ENVIRONMENTS)
def test_identity_settings_are_current_and_secrets_stay_out_of_the_configmap(values_file: str) -> None:
    docs = rendered(values_file)
    config = of_kind(docs, "ConfigMap")["drive-index-config"]["data"]
    secret_names = {"DATABASE_URL", "COHERE_API_KEY", "DRIVE_INDEX_API_KEY"}
    assert not secret_names & config.keys()
    assert not [key for key in config if key.startswith("OAUTH2_PROXY_")]
    assert "SEARCH_TRUST_FORWARDED_IDENTITY" not in config
    for name in ("SEARCH_TRUSTED_PROXIES", "SEARCH_OIDC_ISSUER", "SEARCH_IAP_AUDIENCE", "SEARCH_ANONYMOUS"):
        assert name in effective_values(values_file)["config"], f"values.yaml documents {name}"


def test_no_deployment_file_names_the_removed_setting() -> None:
    paths = [
        ROOT / "docker-compose.yml",
        ROOT / "docs" / "deploy.md",
        *CHART.rglob("*.yaml"),
        *(ROOT / "deploy").glob("*"),
    ]
    for path in paths:
        assert "SEARCH_TRUST_FORWARDED_IDENTITY" not in path.read_text(), path


def test_deploy_guide_says_who_may_search() -> None:
    guide = (ROOT / "docs" / "deploy.md").read_text()
    section = guide.split("## Who may search", 1)[1].split("\n## ", 1)[0]
    for topic in (
        "SEARCH_TRUSTED_PROXIES",
        "oauth2-proxy",
        "IAP",
        "SEARCH_OIDC_ISSUER",
        "NetworkPolic",
        "apikey create",
    ):
        assert topic in section, f"docs/deploy.md 'Who may search' does not cover {topic}"
