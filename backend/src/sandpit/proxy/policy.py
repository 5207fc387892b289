"""What the package proxy may reach: the allowlist of `host:port`, and addresses never.

The allowlist is checked on the name the client asked for; the address check
on every address that name resolves to, so a name on the list that resolves
(by accident, by a poisoned resolver, or by DNS rebinding) to the host itself
or to its private network is refused all the same.
"""

from __future__ import annotations

import contextlib
import ipaddress
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Never reached, whatever the allowlist says. Spelled out rather than taken
# from `is_private`, which also covers the documentation ranges
# (192.0.2.0/24, 203.0.113.0/24, ...) that some networks really route.
_FORBIDDEN_V4 = tuple(
    (reason, ipaddress.IPv4Network(network))
    for reason, network in (
        ("this network", "0.0.0.0/8"),
        ("private", "10.0.0.0/8"),
        ("shared (carrier-grade NAT)", "100.64.0.0/10"),
        ("loopback", "127.0.0.0/8"),
        ("link-local", "169.254.0.0/16"),
        ("private", "172.16.0.0/12"),
        ("private", "192.168.0.0/16"),
        ("multicast", "224.0.0.0/4"),
        ("reserved", "240.0.0.0/4"),
    )
)
_FORBIDDEN_V6 = tuple(
    (reason, ipaddress.IPv6Network(network))
    for reason, network in (
        ("unspecified", "::/128"),
        ("loopback", "::1/128"),
        ("link-local", "fe80::/10"),
        ("site-local", "fec0::/10"),
        ("unique local (private)", "fc00::/7"),
        ("multicast", "ff00::/8"),
    )
)
# IPv6 forms that carry an IPv4 address the kernel may end up reaching.
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_V4_COMPATIBLE = ipaddress.IPv6Network("::/96")


def forbidden_reason(address: IPAddress, own: frozenset[IPAddress] = frozenset()) -> str | None:
    """Why the proxy must not connect to `address` ("loopback", ...), or None if it may.

    `own` is the host's own addresses. IPv4 addresses embedded in IPv6 ones
    (mapped, NAT64, 6to4, Teredo, IPv4-compatible) are checked as IPv4.
    """
    if address in own:
        return "this server's own address"
    if isinstance(address, ipaddress.IPv6Address):
        embedded = _embedded_v4(address)
        if embedded is not None:
            return forbidden_reason(embedded, own)
        return next((reason for reason, net in _FORBIDDEN_V6 if address in net), None)
    return next((reason for reason, net in _FORBIDDEN_V4 if address in net), None)


def _embedded_v4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    if address in _NAT64 or (address in _V4_COMPATIBLE and int(address) > 1):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def parse_authority(text: str) -> tuple[str, int]:
    """`host:port` or `[v6]:port` → (normalized host, port). Raises ValueError.

    Hosts are lower-cased and lose a trailing dot, so `PyPI.org.:443` is
    `pypi.org:443`; only ASCII letters, digits, `-`, `.`, and (in brackets)
    an IPv6 literal are accepted.
    """
    if text.startswith("["):
        host, sep, port_text = text[1:].partition("]:")
        if not sep:
            raise ValueError("expected [address]:port")
        ipaddress.IPv6Address(host)  # raises ValueError
    else:
        host, sep, port_text = text.rpartition(":")
        if not sep or not host:
            raise ValueError("expected host:port")
        host = host.lower().rstrip(".")
        if (
            not host
            or len(host) > 253
            or not all(c.isascii() and (c.isalnum() or c in "-.") for c in host)
        ):
            raise ValueError("not a host name")
    if not port_text.isascii() or not port_text.isdigit() or len(port_text) > 5:
        raise ValueError("not a port number")
    port = int(port_text)
    if not 1 <= port <= 65535:
        raise ValueError("port out of range")
    return host.lower(), port


@dataclass(frozen=True)
class Allowlist:
    """The `host:port` pairs the proxy tunnels to; every other target is refused.

    `local` is the few of them that may resolve to an address the proxy
    otherwise never connects to (the host's own, loopback, private): a
    package index on this host or its network, such as a mirror or the
    tests' own index. The exemption is for that exact `host:port` only.
    """

    targets: tuple[tuple[str, int], ...]
    local: tuple[tuple[str, int], ...] = ()

    @classmethod
    def parse(cls, entries: Iterable[str], local: Iterable[str] = ()) -> Allowlist:
        """From `["pypi.org:443", ...]`. Raises ValueError naming a malformed entry.

        Every `local` entry must be among `entries` too.
        """
        targets = _parse_targets(entries)
        local_targets = _parse_targets(local)
        for host, port in local_targets:
            if (host, port) not in targets:
                raise ValueError(f"local target '{host}:{port}' is not on the allowlist")
        return cls(tuple(targets), tuple(local_targets))

    def allows(self, host: str, port: int) -> bool:
        return (host, port) in self.targets

    def may_be_local(self, host: str, port: int) -> bool:
        """Whether `host:port` may resolve to a local or private address (see `local`)."""
        return (host, port) in self.local

    def refusal(self) -> str:
        """The sentence a refused client reads (pip shows it after the status code)."""
        names = list(dict.fromkeys(host for host, _ in self.targets))
        if not names:
            return "Sandpit's package proxy allows no hosts on this server."
        listed = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
        return f"Sandpit's package proxy only allows {listed}."


def _parse_targets(entries: Iterable[str]) -> list[tuple[str, int]]:
    targets: list[tuple[str, int]] = []
    for entry in entries:
        try:
            target = parse_authority(entry.strip())
        except ValueError as exc:
            raise ValueError(f"{entry!r} is not host:port ({exc})") from None
        if target not in targets:
            targets.append(target)
    return targets


class HostAddresses:
    """The host's own addresses (every interface), re-read at most every `ttl` seconds.

    From /proc/net/fib_trie (IPv4 "host LOCAL" entries) and /proc/net/if_inet6:
    the kernel's own view, no extra dependency.
    """

    def __init__(
        self,
        ttl: float = 5.0,
        proc: Path = Path("/proc/net"),
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._ttl = ttl
        self._proc = proc
        self._clock = clock
        self._cached: frozenset[IPAddress] = frozenset()
        self._read_at: float | None = None

    def current(self) -> frozenset[IPAddress]:
        now = self._clock()
        if self._read_at is None or now - self._read_at >= self._ttl:
            self._cached = frozenset(self._read())
            self._read_at = now
        return self._cached

    def _read(self) -> set[IPAddress]:
        found: set[IPAddress] = set()
        with contextlib.suppress(OSError):
            found.update(local_v4_addresses((self._proc / "fib_trie").read_text()))
        with contextlib.suppress(OSError):
            found.update(v6_addresses((self._proc / "if_inet6").read_text()))
        return found


def local_v4_addresses(fib_trie: str) -> set[ipaddress.IPv4Address]:
    """The addresses /proc/net/fib_trie lists as `/32 host LOCAL` (the host's own)."""
    found: set[ipaddress.IPv4Address] = set()
    last: str | None = None
    for line in fib_trie.splitlines():
        stripped = line.strip()
        if stripped.startswith("|-- "):
            last = stripped[4:]
        elif last is not None and stripped == "/32 host LOCAL":
            with contextlib.suppress(ValueError):
                found.add(ipaddress.IPv4Address(last))
    return found


def v6_addresses(if_inet6: str) -> set[ipaddress.IPv6Address]:
    """The addresses in /proc/net/if_inet6 (32 hex digits, first field of each line)."""
    found: set[ipaddress.IPv6Address] = set()
    for line in if_inet6.splitlines():
        fields = line.split()
        if fields and len(fields[0]) == 32:
            with contextlib.suppress(ValueError):
                found.add(ipaddress.IPv6Address(int(fields[0], 16)))
    return found
