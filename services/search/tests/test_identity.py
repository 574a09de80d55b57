"""Reading the caller from the headers an authenticating proxy sets."""

from __future__ import annotations

from search.identity import Caller, caller_from

HEADERS = {
    "X-Forwarded-Email": " Alice@Example.COM ",
    "X-Forwarded-Groups": "SRE@example.com, ,eng@example.com",
}


def test_untrusted_headers_mean_no_permission_filter() -> None:
    assert caller_from(HEADERS, trusted=False) is None


def test_trusted_headers_name_the_caller_in_lower_case() -> None:
    caller = caller_from(HEADERS, trusted=True)
    assert caller == Caller("alice@example.com", ("sre@example.com", "eng@example.com"))
    assert caller.domain == "example.com"


def test_a_trusted_request_without_headers_is_anonymous() -> None:
    caller = caller_from({}, trusted=True)
    assert caller == Caller(None, ())
    assert caller.domain is None
    assert Caller("not-an-address").domain is None
