"""The parts that decide whom to believe, on their own."""

from __future__ import annotations

import pytest

from search.identity import Identity
from search.proxies import TrustedProxies, parse_networks
from search.settings import SearchSettings
from shared.settings import SettingsError, load


def test_trusted_proxies_are_cidrs_or_addresses() -> None:
    proxies = TrustedProxies(parse_networks(" 10.0.0.0/8, ,192.168.1.7, fd00::/8 "))
    assert proxies.trusts("10.1.2.3")
    assert proxies.trusts("192.168.1.7")
    assert proxies.trusts("::ffff:10.9.9.9")  # an IPv4 peer on a dual-stack socket
    assert proxies.trusts("fd00::1")
    for peer in ("192.168.1.8", "127.0.0.1", "", None, "not-an-ip", "/run/search.sock"):
        assert not proxies.trusts(peer)
    assert not TrustedProxies(parse_networks("")).trusts("127.0.0.1")


@pytest.mark.parametrize("bad", ["10.0.0.1/8", "localhost", "10.0.0.0/33"])
def test_a_bad_proxy_list_stops_the_service_naming_the_setting(monkeypatch, bad: str) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://x/y")
    monkeypatch.setenv("SEARCH_TRUSTED_PROXIES", bad)
    with pytest.raises(SettingsError, match="SEARCH_TRUSTED_PROXIES"):
        load(SearchSettings)


def test_oidc_needs_issuer_audience_and_keys_together(monkeypatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://x/y")
    monkeypatch.setenv("SEARCH_OIDC_ISSUER", "https://issuer.test")
    with pytest.raises(SettingsError, match="SEARCH_OIDC_AUDIENCE, SEARCH_OIDC_JWKS_URL"):
        load(SearchSettings)


def test_no_setting_turns_permission_filtering_off(monkeypatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://x/y")
    settings = load(SearchSettings)
    assert settings.search_anonymous == "deny"
    assert settings.search_trusted_proxies == ""
    assert not hasattr(settings, "search_trust_forwarded_identity")
    monkeypatch.setenv("SEARCH_ANONYMOUS", "everything")
    with pytest.raises(SettingsError, match="SEARCH_ANONYMOUS"):
        load(SearchSettings)


def test_identities_are_compared_as_drive_compares_them() -> None:
    identity = Identity.of(
        " Alice@Example.COM ", ["SRE@example.com", " ", "eng@example.com", "sre@EXAMPLE.com"], "proxy"
    )
    assert identity == Identity("alice@example.com", ("eng@example.com", "sre@example.com"), "proxy")
