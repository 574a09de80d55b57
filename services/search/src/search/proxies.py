"""Identity headers set by an authenticating proxy, believed only from the proxy's own address."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

import structlog
from aiohttp import web

from search.identity import Identity, InvalidCredentialsError, require_address

log = structlog.get_logger(__name__)

EMAIL, GROUPS = "X-Forwarded-Email", "X-Forwarded-Groups"
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(value: str) -> list[Network]:
    """Read a comma-separated list of CIDRs (a bare address is a /32 or /128)."""
    networks = []
    for part in (p.strip() for p in value.split(",")):
        if not part:
            continue
        try:
            networks.append(ipaddress.ip_network(part))
        except ValueError as exc:
            raise ValueError(f"{part!r} is not an address or CIDR with its host bits zero ({exc})") from None
    return networks


class TrustedProxies:
    """The peers whose X-Forwarded-Email/-Groups name the caller."""

    def __init__(self, networks: Sequence[Network]) -> None:
        self.networks = tuple(networks)

    def trusts(self, peer: str | None) -> bool:
        try:
            address = ipaddress.ip_address(peer or "")
        except ValueError:  # a Unix socket, or no peer at all
            return False
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
            address = address.ipv4_mapped
        return any(address in network for network in self.networks)

    def identity(self, request: web.Request) -> Identity | None:
        """The caller the proxy names; None when no identity header came, or came from a stranger."""
        email, groups = request.headers.get(EMAIL, "").strip(), request.headers.get(GROUPS, "")
        if not email and not groups.strip():
            return None
        if not self.trusts(request.remote):
            # Someone is trying, or a proxy is missing from SEARCH_TRUSTED_PROXIES; never echo the values.
            log.warning("identity.untrusted_headers", peer=request.remote, path=request.path)
            return None
        if not email:
            raise InvalidCredentialsError(f"the proxy sent {GROUPS} without {EMAIL}")
        return Identity.of(require_address(email, EMAIL), groups.split(","), "proxy")
