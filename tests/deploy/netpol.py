"""Decide whether rendered NetworkPolicies let one pod (or address) reach another, as Kubernetes does.

A plain model of the NetworkPolicy rules (label selectors, namespace selectors, ipBlocks, ports,
policy types), so that tests ask "can the ingress controller reach search on 8083?" instead of
comparing YAML. Ports are numbers here: the chart renders no named ports in its policies.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from tests.deploy.tools import NAMESPACE

Policy = dict[str, Any]


@dataclass(frozen=True)
class Peer:
    """A pod (labels in a namespace, with the namespace's labels) or a bare address outside."""

    labels: Mapping[str, str] = field(default_factory=dict)
    namespace: str | None = NAMESPACE  # None: not a pod, only an address (a managed database, the internet)
    ip: str = "10.4.0.10"
    namespace_labels: Mapping[str, str] = field(default_factory=dict)

    def namespace_label_set(self) -> Mapping[str, str]:
        return {"kubernetes.io/metadata.name": str(self.namespace), **self.namespace_labels}


def address(ip: str) -> Peer:
    return Peer(namespace=None, ip=ip)


def selects(selector: Mapping[str, Any], labels: Mapping[str, str]) -> bool:
    """Whether a label selector matches labels (an empty selector matches everything)."""
    if any(labels.get(key) != value for key, value in selector.get("matchLabels", {}).items()):
        return False
    for expression in selector.get("matchExpressions", []):
        key, operator, values = expression["key"], expression["operator"], expression.get("values", [])
        matched = {
            "In": key in labels and labels[key] in values,
            "NotIn": labels.get(key) not in values,
            "Exists": key in labels,
            "DoesNotExist": key not in labels,
        }[operator]
        if not matched:
            return False
    return True


def in_block(ip: str, block: Mapping[str, Any]) -> bool:
    address_ = ipaddress.ip_address(ip)
    if address_ not in ipaddress.ip_network(block["cidr"]):
        return False
    return not any(address_ in ipaddress.ip_network(cidr) for cidr in block.get("except", []))


def peer_matches(rule_peer: Mapping[str, Any], peer: Peer, policy_namespace: str) -> bool:
    """Whether one `from`/`to` entry of a policy covers this peer."""
    if "ipBlock" in rule_peer:
        return in_block(peer.ip, rule_peer["ipBlock"])
    if peer.namespace is None:
        return False  # pod and namespace selectors cover pods only
    namespace_selector = rule_peer.get("namespaceSelector")
    if namespace_selector is None:
        in_namespace = peer.namespace == policy_namespace
    else:
        in_namespace = selects(namespace_selector, peer.namespace_label_set())
    return in_namespace and selects(rule_peer.get("podSelector", {}), peer.labels)


def port_matches(ports: Iterable[Mapping[str, Any]] | None, port: int, protocol: str) -> bool:
    listed = list(ports or [])
    if not listed:
        return True  # no ports: every port
    for entry in listed:
        if entry.get("protocol", "TCP") != protocol:
            continue
        if "port" not in entry:
            return True
        assert isinstance(entry["port"], int), f"named port {entry['port']!r}: give numbers"
        if entry["port"] <= port <= entry.get("endPort", entry["port"]):
            return True
    return False


def _applying(policies: Iterable[Policy], pod: Peer, direction: str) -> list[Policy]:
    return [
        policy
        for policy in policies
        if policy["metadata"].get("namespace", NAMESPACE) == pod.namespace
        and direction in policy["spec"].get("policyTypes", ["Ingress"])
        and selects(policy["spec"]["podSelector"], pod.labels)
    ]


def _allows(policies: list[Policy], key: str, *, other: Peer, port: int, protocol: str) -> bool:
    peer_key = {"ingress": "from", "egress": "to"}[key]
    for policy in policies:
        namespace = policy["metadata"].get("namespace", NAMESPACE)
        for rule in policy["spec"].get(key) or []:
            peers = rule.get(peer_key)
            if port_matches(rule.get("ports"), port, protocol) and (
                not peers or any(peer_matches(entry, other, namespace) for entry in peers)
            ):
                return True
    return False


def admits(policies: Iterable[Policy], source: Peer, target: Peer, port: int, protocol: str = "TCP") -> bool:
    """Whether the target pod accepts a connection from source on port (ingress side only)."""
    applying = _applying(policies, target, "Ingress")
    return not applying or _allows(applying, "ingress", other=source, port=port, protocol=protocol)


def lets_out(
    policies: Iterable[Policy], source: Peer, target: Peer, port: int, protocol: str = "TCP"
) -> bool:
    """Whether the source pod may open a connection to target on port (egress side only)."""
    applying = _applying(policies, source, "Egress")
    return not applying or _allows(applying, "egress", other=target, port=port, protocol=protocol)


def reachable(policies: list[Policy], source: Peer, target: Peer, port: int, protocol: str = "TCP") -> bool:
    """Both ends agree: the source may send and the target (if a pod) accepts."""
    if not lets_out(policies, source, target, port, protocol):
        return False
    return target.namespace is None or admits(policies, source, target, port, protocol)
