"""Origins compare by scheme, host and port (pure logic)."""

from __future__ import annotations

import pytest

from sandpit.security.origins import origin_allowed, parse_origin


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("http://localhost:3001", ("http", "localhost", 3001)),
        ("HTTPS://Sandpit.Example", ("https", "sandpit.example", 443)),
        ("http://sandpit.example", ("http", "sandpit.example", 80)),
        ("https://sandpit.example:443/", ("https", "sandpit.example", 443)),
        ("wss://sandpit.example", ("https", "sandpit.example", 443)),
        ("http://[::1]:8080", ("http", "::1", 8080)),
        ("null", None),
        ("file:///etc/passwd", None),
        ("https://sandpit.example/path", None),
        ("https://user@sandpit.example", None),
        ("https://sandpit.example:99999", None),
        ("https://", None),
        ("", None),
    ],
)
def test_parse_origin(value: str, expected: tuple[str, str, int] | None) -> None:
    assert parse_origin(value) == expected


def test_the_same_host_over_another_scheme_or_port_is_another_origin() -> None:
    host = "sandpit.example"
    assert origin_allowed("https://sandpit.example", "https", host, [])
    assert origin_allowed("https://SANDPIT.example:443", "https", host, [])
    assert not origin_allowed("http://sandpit.example", "https", host, [])
    assert not origin_allowed("https://sandpit.example:8443", "https", host, [])
    assert not origin_allowed("https://sandpit.example", "http", host, [])
    # A WebSocket request's scheme is ws/wss; its page's origin is http(s).
    assert origin_allowed("https://sandpit.example", "wss", host, [])
    assert not origin_allowed("http://sandpit.example", "wss", host, [])
    assert origin_allowed("http://localhost:3001", "http", "localhost:3001", [])
    assert not origin_allowed("http://localhost:3002", "http", "localhost:3001", [])


def test_an_allowed_origin_is_matched_whole_too() -> None:
    allowed = ["https://ide.example"]
    assert origin_allowed("https://ide.example", "https", "api.example", allowed)
    assert origin_allowed("https://ide.example:443", "https", "api.example", allowed)
    assert not origin_allowed("http://ide.example", "https", "api.example", allowed)
    assert not origin_allowed("https://ide.example:444", "https", "api.example", allowed)


def test_no_origin_is_allowed_and_a_malformed_one_never() -> None:
    assert origin_allowed(None, "https", "sandpit.example", [])
    assert not origin_allowed("null", "https", "sandpit.example", ["null"])
    assert not origin_allowed("https://evil.example", "https", None, [])
    assert not origin_allowed("garbage", "https", "sandpit.example", [])
