"""The proxy's pure parts: addresses, targets, the allowlist, requests, answers, the mounts."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import pytest

from sandpit.proxy.limits import Allowance
from sandpit.proxy.policy import (
    Allowlist,
    HostAddresses,
    forbidden_reason,
    local_v4_addresses,
    parse_authority,
    v6_addresses,
)
from sandpit.proxy.protocol import Refusal, find_head_end, parse_connect, refusal_response
from sandpit.sandbox import proxy_bridge
from sandpit.sandbox.backends.bubblewrap import BwrapLayout, bwrap_args
from sandpit.sandbox.environment import base_env
from sandpit.sandbox.limits import Limits


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("127.0.0.1", "loopback"),
        ("127.1.2.3", "loopback"),
        ("10.1.2.3", "private"),
        ("172.16.0.1", "private"),
        ("172.31.255.255", "private"),
        ("192.168.1.1", "private"),
        ("100.100.100.200", "shared (carrier-grade NAT)"),
        ("169.254.169.254", "link-local"),  # cloud metadata services
        ("0.0.0.0", "this network"),  # noqa: S104 - an address to check, not to bind
        ("224.0.0.251", "multicast"),
        ("255.255.255.255", "reserved"),
        ("::", "unspecified"),
        ("::1", "loopback"),
        ("fe80::1", "link-local"),
        ("fd00::2", "unique local (private)"),
        ("ff02::1", "multicast"),
        ("::ffff:127.0.0.1", "loopback"),  # IPv4-mapped
        ("::ffff:10.0.0.1", "private"),
        ("64:ff9b::a9fe:a9fe", "link-local"),  # NAT64 of 169.254.169.254
        ("2002:7f00:1::", "loopback"),  # 6to4 of 127.0.0.1
        ("::127.0.0.1", "loopback"),  # IPv4-compatible
        ("151.101.0.223", None),  # pypi.org
        ("2a04:4e42::223", None),
        ("172.32.0.1", None),
        ("203.0.113.80", None),  # documentation ranges are routed on some networks
        ("192.0.2.10", None),
    ],
)
def test_forbidden_addresses(address: str, reason: str | None) -> None:
    assert forbidden_reason(ipaddress.ip_address(address)) == reason


def test_the_hosts_own_addresses_are_forbidden() -> None:
    own = frozenset({ipaddress.ip_address("192.0.2.2")})
    assert forbidden_reason(ipaddress.ip_address("192.0.2.2"), own) == "this server's own address"
    assert forbidden_reason(ipaddress.ip_address("::ffff:192.0.2.2"), own) == (
        "this server's own address"
    )
    assert forbidden_reason(ipaddress.ip_address("192.0.2.3"), own) is None


FIB_TRIE = """\
Main:
  +-- 0.0.0.0/0 3 0 5
     |-- 0.0.0.0
        /0 universe UNICAST
     +-- 127.0.0.0/8 2 0 2
           |-- 127.0.0.1
              /32 host LOCAL
        |-- 127.255.255.255
           /32 link BROADCAST
     +-- 192.0.2.0/24 2 0 2
           |-- 192.0.2.0
              /24 link UNICAST
           |-- 192.0.2.2
              /32 host LOCAL
"""


def test_host_addresses_from_proc(tmp_path: Path) -> None:
    assert local_v4_addresses(FIB_TRIE) == {
        ipaddress.IPv4Address("127.0.0.1"),
        ipaddress.IPv4Address("192.0.2.2"),
    }
    if_inet6 = (
        "00000000000000000000000000000001 01 80 10 80       lo\n"
        "fd000000000000000000000000000002 04 40 00 82     eth0\n"
    )
    assert v6_addresses(if_inet6) == {
        ipaddress.IPv6Address("::1"),
        ipaddress.IPv6Address("fd00::2"),
    }
    (tmp_path / "fib_trie").write_text(FIB_TRIE)
    (tmp_path / "if_inet6").write_text(if_inet6)
    now = [0.0]
    addresses = HostAddresses(ttl=5, proc=tmp_path, clock=lambda: now[0])
    assert ipaddress.ip_address("192.0.2.2") in addresses.current()
    (tmp_path / "fib_trie").write_text("")
    now[0] = 4.0
    assert ipaddress.ip_address("192.0.2.2") in addresses.current()  # cached
    now[0] = 5.0
    assert ipaddress.ip_address("192.0.2.2") not in addresses.current()  # re-read


def test_the_real_host_addresses_include_loopback() -> None:
    assert ipaddress.ip_address("127.0.0.1") in HostAddresses().current()


@pytest.mark.parametrize(
    ("text", "parsed"),
    [
        ("pypi.org:443", ("pypi.org", 443)),
        ("PyPI.org.:443", ("pypi.org", 443)),
        ("[::1]:8080", ("::1", 8080)),
        ("10.0.0.1:1", ("10.0.0.1", 1)),
    ],
)
def test_parse_authority(text: str, parsed: tuple[str, int]) -> None:
    assert parse_authority(text) == parsed


@pytest.mark.parametrize(
    "text",
    ["pypi.org", ":443", "pypi.org:0", "pypi.org:65536", "pypi.org:+443", "pypi.org:٤٤٣",
     "py pi.org:443", "pypi.org/x:443", "[::1:443", "[nonsense]:443", "pypi.org:443:443",
     "bücher.de:443", "user@pypi.org:443"],
)  # fmt: skip
def test_parse_authority_rejects(text: str) -> None:
    with pytest.raises(ValueError, match=r"."):
        parse_authority(text)


def test_allowlist() -> None:
    allowlist = Allowlist.parse(["pypi.org:443", " Files.PythonHosted.org:443 ", "pypi.org:443"])
    assert allowlist.targets == (("pypi.org", 443), ("files.pythonhosted.org", 443))
    assert allowlist.allows("pypi.org", 443)
    assert not allowlist.allows("pypi.org", 80)
    assert not allowlist.allows("evil.pypi.org", 443)
    assert allowlist.refusal() == (
        "Sandpit's package proxy only allows pypi.org and files.pythonhosted.org."
    )
    assert Allowlist.parse(["a.example:443", "b.example:443", "c.example:8443"]).refusal() == (
        "Sandpit's package proxy only allows a.example, b.example and c.example."
    )
    assert (
        Allowlist.parse([]).refusal() == "Sandpit's package proxy allows no hosts on this server."
    )
    with pytest.raises(ValueError, match=r"'pypi\.org' is not host:port"):
        Allowlist.parse(["pypi.org"])


def test_request_heads() -> None:
    head = b"CONNECT pypi.org:443 HTTP/1.1\r\nHost: pypi.org:443\r\n\r\n"
    assert find_head_end(head + b"\x16\x03") == len(head)
    assert find_head_end(head[:-2]) == -1
    assert find_head_end(b"CONNECT a:1 HTTP/1.0\n\n") == 22
    request = parse_connect(head, not_connect="no")
    assert (request.host, request.port) == ("pypi.org", 443)
    with pytest.raises(Refusal) as refused:
        parse_connect(b"POST http://pypi.org/ HTTP/1.1\r\n\r\n", not_connect="only CONNECT")
    assert (refused.value.status, refused.value.sentence) == (405, "only CONNECT")
    assert refused.value.log_reason == "method POST"


def test_refusal_response() -> None:
    assert refusal_response(403, "No.") == (
        b"HTTP/1.1 403 No.\r\n"
        b"Content-Type: text/plain; charset=utf-8\r\n"
        b"Content-Length: 4\r\n"
        b"Connection: close\r\n"
        b"\r\n"
        b"No.\n"
    )
    # Nothing from a target can break the status line.
    assert refusal_response(502, "bad\r\nX-Injected: 1").startswith(
        b"HTTP/1.1 502 bad??X-Injected: 1\r\nContent-Type"
    )


def test_allowance_windows() -> None:
    now = [0.0]
    allowance = Allowance(window_bytes=100, window_s=60, clock=lambda: now[0])
    assert allowance.add("w1", 60)
    assert not allowance.exhausted("w1")
    assert not allowance.add("w1", 60)
    assert allowance.exhausted("w1")
    assert not allowance.exhausted("w2")
    now[0] = 60.0
    assert not allowance.exhausted("w1")  # a new window
    allowance.prune()
    assert allowance.add("w1", 100)


def test_sandbox_environment_points_at_the_forwarder() -> None:
    env = base_env()
    for name in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"):
        assert env[name] == "http://127.0.0.1:3128"
    assert env["NO_PROXY"] == env["no_proxy"] == "localhost,127.0.0.1,::1"
    for name in ("PIP_CERT", "SSL_CERT_FILE", "REQUESTS_CA_BUNDLE"):
        assert env[name] == "/run/sandpit-ca/ca.crt"
    assert "PIP_USER" not in env  # pip picks the user site itself; PIP_USER breaks venvs
    assert env["PYTHONUSERBASE"] == "/app/.local"


def test_forwarder_command() -> None:
    assert proxy_bridge.forwarder_argv("/run/sandpit") == [
        "/usr/bin/python3", "-I", "-S", "/run/sandpit/forwarder.py",
        "3", "/run/sandpit-proxy/proxy.sock", "32", "60",
    ]  # fmt: skip


def test_bwrap_mounts_the_socket_directory_and_the_ca_bundle_read_only() -> None:
    limits = Limits()
    plain = BwrapLayout(Path("/img"), Path("/ws"), Path("/inside"))
    proxied = BwrapLayout(
        Path("/img"),
        Path("/ws"),
        Path("/inside"),
        proxy_dir=Path("/data/sandboxes/proxy/abc"),
        ca_bundle=Path("/etc/ssl/certs/ca-certificates.crt"),
    )
    without = bwrap_args(plain, limits, seccomp_fd=5, agent_fd=6, workspace_fd=7)
    with_proxy = bwrap_args(proxied, limits, seccomp_fd=5, agent_fd=6, workspace_fd=7)
    at = without.index("--remount-ro")
    assert with_proxy == [
        *without[:at],
        "--ro-bind", "/data/sandboxes/proxy/abc", "/run/sandpit-proxy",
        "--ro-bind", "/etc/ssl/certs/ca-certificates.crt", "/run/sandpit-ca/ca.crt",
        *without[at:],
    ]  # fmt: skip
