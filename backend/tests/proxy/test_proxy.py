"""The package proxy for real: asyncio server, Unix sockets, real DNS, and tunnels to
the tests' own index over TLS (no live index needed)."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import stat
from pathlib import Path

import pytest

from sandpit.proxy.limits import ProxyLimits
from sandpit.proxy.policy import Allowlist, HostAddresses, forbidden_reason
from sandpit.proxy.refusals import LogThrottle
from sandpit.proxy.resolver import Resolver
from sandpit.proxy.server import SOCKET_NAME, Endpoint, PackageProxy
from tests.proxy.conftest import IndexTarget, Listener, Opener, ProxyFactory

REFUSED = "Sandpit's package proxy only allows pypi.org and files.pythonhosted.org."


async def test_allowed_host_tunnels_tls_to_the_index(
    index_endpoint: Endpoint, connections: Opener, index_target: IndexTarget
) -> None:
    client = await connections(index_endpoint.socket_path)
    answer = await client.connect(index_target.authority)
    assert (answer.status, answer.reason) == (200, "Connection established")
    status = await client.tls_get(
        index_target.host, "/simple/sandpit-probe/", index_target.ca_bundle
    )
    assert status == 200


async def test_refused_host_gets_403_with_the_sentence(
    endpoint: Endpoint, connections: Opener
) -> None:
    client = await connections(endpoint.socket_path)
    answer = await client.connect("example.com:443")
    assert answer.status == 403
    assert answer.reason == REFUSED  # what pip prints: "Tunnel connection failed: 403 ..."
    assert answer.body == REFUSED.encode() + b"\n"


async def test_allowed_name_on_another_port_is_refused(
    endpoint: Endpoint, connections: Opener
) -> None:
    answer = await (await connections(endpoint.socket_path)).connect("pypi.org:80")
    assert (answer.status, answer.reason) == (403, REFUSED)


async def test_loopback_target_is_refused(
    endpoint: Endpoint, connections: Opener, listener: Listener
) -> None:
    for target in (f"127.0.0.1:{listener.port}", f"localhost:{listener.port}"):
        answer = await (await connections(endpoint.socket_path)).connect(target)
        assert (answer.status, answer.reason) == (403, REFUSED)
    assert listener.connections() == 0


async def test_allowlisted_names_that_resolve_to_forbidden_addresses_are_refused(
    make_proxy: ProxyFactory, connections: Opener, listener: Listener
) -> None:
    # As if DNS for an allowed name pointed at the host (rebinding): the
    # proxy checks the addresses, not just the name.
    own = sorted(
        str(a) for a in HostAddresses().current() if forbidden_reason(a) is None
    )  # the host's public-looking addresses, refused only for being its own
    targets = [
        f"localhost:{listener.port}",
        f"127.0.0.1:{listener.port}",
        f"[::1]:{listener.port}",
        f"[::ffff:127.0.0.1]:{listener.port}",
        *(f"[{a}]:{listener.port}" if ":" in a else f"{a}:{listener.port}" for a in own),
    ]
    endpoint = await make_proxy(allowed=targets).attach("sandbox1", "workspace1")
    for target in targets:
        answer = await (await connections(endpoint.socket_path)).connect(target)
        assert answer.status == 403, target
        assert "resolves to an address Sandpit's package proxy never connects to" in answer.reason
    assert listener.connections() == 0


async def test_a_local_target_is_reached_only_on_its_own_host_and_port(
    connections: Opener, listener: Listener, socket_root: Path
) -> None:
    # PACKAGE_PROXY_LOCAL_HOSTS: a local index is reached; loopback on another
    # port, or under another name, stays refused.
    local = f"127.0.0.1:{listener.port}"
    others = [f"localhost:{listener.port}", "127.0.0.1:1"]
    proxy = PackageProxy(
        Allowlist.parse([local, *others], local=[local]), ProxyLimits(), socket_root
    )
    try:
        endpoint = await proxy.attach("sandbox1", "workspace1")
        answer = await (await connections(endpoint.socket_path)).connect(local)
        assert (answer.status, answer.reason) == (200, "Connection established")
        for target in others:
            refused = await (await connections(endpoint.socket_path)).connect(target)
            assert refused.status == 403, target
            assert "never connects to" in refused.reason
    finally:
        await proxy.close()
    assert listener.connections() == 1


async def test_unresolvable_allowed_name_is_502(
    make_proxy: ProxyFactory, connections: Opener
) -> None:
    endpoint = await make_proxy(allowed=["no-such-host.invalid:443"]).attach("s", "w")
    answer = await (await connections(endpoint.socket_path)).connect("no-such-host.invalid:443")
    assert answer.status == 502
    assert answer.reason == "The package proxy could not find no-such-host.invalid."


async def test_other_methods_are_405(endpoint: Endpoint, connections: Opener) -> None:
    client = await connections(endpoint.socket_path)
    answer = await client.ask(b"GET http://pypi.org/simple/ HTTP/1.1\r\nHost: pypi.org\r\n\r\n")
    assert answer.status == 405
    assert answer.reason == (
        "Sandpit's package proxy only relays HTTPS (CONNECT) to pypi.org and "
        "files.pythonhosted.org."
    )


@pytest.mark.parametrize(
    "head",
    [
        b"CONNECT pypi.org HTTP/1.1\r\n\r\n",
        b"CONNECT pypi.org:99999 HTTP/1.1\r\n\r\n",
        b"CONNECT pypi.org:443\r\n\r\n",
        b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n",
        b"CONNECT pypi.org:443 HTTP/1.1\r\nno colon here\r\n\r\n",
    ],
)
async def test_malformed_requests_are_400(
    endpoint: Endpoint, connections: Opener, head: bytes
) -> None:
    answer = await (await connections(endpoint.socket_path)).ask(head)
    assert answer.status == 400


async def test_oversized_request_head_is_431(make_proxy: ProxyFactory, connections: Opener) -> None:
    endpoint = await make_proxy(header_bytes=1024).attach("s", "w")
    padded = b"CONNECT pypi.org:443 HTTP/1.1\r\nX-Pad: " + b"a" * 2000 + b"\r\n\r\n"
    endless = b"CONNECT pypi.org:443 HTTP/1.1\r\n" + b"X-Pad: a\r\n" * 500  # never ends
    for head in (padded, endless):
        answer = await (await connections(endpoint.socket_path)).ask(head)
        assert answer.status == 431
        assert (
            answer.reason == "The request to the package proxy is too large (at most 1024 bytes)."
        )


async def test_slow_request_head_is_408(make_proxy: ProxyFactory, connections: Opener) -> None:
    endpoint = await make_proxy(header_timeout_s=0.3).attach("s", "w")
    answer = await (await connections(endpoint.socket_path)).ask(b"CONNECT pypi.org:443 HT")
    assert answer.status == 408


async def test_connections_over_the_sandbox_cap_are_429(
    make_proxy: ProxyFactory, connections: Opener
) -> None:
    proxy = make_proxy(connections=2)
    endpoint = await proxy.attach("sandbox1", "workspace1")
    other = await proxy.attach("sandbox2", "workspace2")
    # Two connections that have not finished their request yet hold both slots.
    held = [await connections(endpoint.socket_path) for _ in range(2)]
    for client in held:
        client.writer.write(b"CONNECT pypi.org:443 HTTP/1.1\r\n")
    await asyncio.sleep(0.2)
    over = await (await connections(endpoint.socket_path)).connect("pypi.org:443")
    assert over.status == 429
    assert over.reason == (
        "Too many connections through the package proxy at once (at most 2 per sandbox); "
        "try again when some finish."
    )
    # Another sandbox's cap is its own.
    assert (await (await connections(other.socket_path)).connect("example.com:443")).status == 403
    # A slot that frees up is usable again.
    held[0].close()
    await asyncio.sleep(0.2)
    assert (
        await (await connections(endpoint.socket_path)).connect("example.com:443")
    ).status == 403


async def test_one_owners_sandboxes_share_a_cap_so_others_keep_the_pool(
    make_proxy: ProxyFactory, connections: Opener
) -> None:
    proxy = make_proxy(connections=2, owner_connections=3, total_connections=5)
    hog = [await proxy.attach(f"hog{n}", f"hog-ws{n}", owner="user-hog") for n in range(3)]
    other = await proxy.attach("other", "other-ws", owner="user-other")
    # The hog's three sandboxes hold its three slots (each under its own cap of 2).
    held = [await connections(hog[n].socket_path) for n in (0, 0, 1)]
    for client in held:
        client.writer.write(b"CONNECT pypi.org:443 HTTP/1.1\r\n")
    await asyncio.sleep(0.2)
    over = await (await connections(hog[2].socket_path)).connect("pypi.org:443")
    assert over.status == 429
    assert over.reason == (
        "Too many connections through the package proxy at once from your sandboxes "
        "(at most 3); try again when some finish."
    )
    # Another user still gets through (the pool of 5 is not taken), to the allowlist's 403.
    assert (await (await connections(other.socket_path)).connect("example.com:443")).status == 403
    # The owner's share frees with its connections.
    held[0].close()
    await asyncio.sleep(0.2)
    freed = await (await connections(hog[2].socket_path)).connect("example.com:443")
    assert freed.status == 403


async def test_without_an_owner_the_workspace_stands_for_one(
    make_proxy: ProxyFactory, connections: Opener
) -> None:
    proxy = make_proxy(connections=5, owner_connections=1)
    first = await proxy.attach("s1", "w1")
    again = await proxy.attach("s2", "w1")  # a restarted sandbox of the same workspace
    elsewhere = await proxy.attach("s3", "w2")
    held = await connections(first.socket_path)
    held.writer.write(b"CONNECT pypi.org:443 HTTP/1.1\r\n")
    await asyncio.sleep(0.2)
    assert (await (await connections(again.socket_path)).connect("pypi.org:443")).status == 429
    assert (
        await (await connections(elsewhere.socket_path)).connect("example.com:443")
    ).status == 403


async def test_refusals_are_logged_within_a_budget_per_sandbox(
    socket_root: Path, connections: Opener, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="sandpit.proxy")
    now = [0.0]
    proxy = PackageProxy(
        Allowlist.parse(["pypi.org:443"]),
        ProxyLimits(refusal_logs=3, refusal_log_s=60),
        socket_root,
        clock=lambda: now[0],
    )
    try:
        looping = await proxy.attach("looping", "w1")
        quiet = await proxy.attach("quiet", "w2")
        for _ in range(20):
            answer = await (await connections(looping.socket_path)).connect("example.com:443")
            assert answer.status == 403  # every refusal is still answered
        assert (
            await (await connections(quiet.socket_path)).connect("example.com:443")
        ).status == 403

        def refusals(sandbox: str) -> list[str]:
            return [
                r.getMessage()
                for r in caplog.records
                if r.getMessage().startswith(f"proxy refused: sandbox={sandbox} ")
            ]

        assert len(refusals("looping")) == 3
        assert len(refusals("quiet")) == 1  # another sandbox's budget is its own
        # A new window: the next line says how many were left out.
        now[0] += 61
        await (await connections(looping.socket_path)).connect("example.com:443")
        assert refusals("looping")[-1].endswith("(and 17 more refusals not logged)")
        assert len(refusals("looping")) == 4
    finally:
        await proxy.close()


async def test_idle_tunnel_is_closed(
    with_index: ProxyFactory, connections: Opener, index_target: IndexTarget
) -> None:
    endpoint = await with_index(idle_s=0.5).attach("s", "w")
    client = await connections(endpoint.socket_path)
    assert (await client.connect(index_target.authority)).status == 200
    assert await client.closed_by_peer(within=10)


async def test_tunnel_lifetime_is_bounded(
    with_index: ProxyFactory, connections: Opener, index_target: IndexTarget
) -> None:
    endpoint = await with_index(connection_s=0.5).attach("s", "w")
    client = await connections(endpoint.socket_path)
    assert (await client.connect(index_target.authority)).status == 200
    assert await client.closed_by_peer(within=10)


async def test_byte_allowance_per_workspace(
    with_index: ProxyFactory, connections: Opener, index_target: IndexTarget
) -> None:
    proxy = with_index(window_bytes=2000)
    endpoint = await proxy.attach("sandbox1", "workspace1")
    client = await connections(endpoint.socket_path)
    assert (await client.connect(index_target.authority)).status == 200
    # The TLS handshake alone (certificates) is more than 2000 bytes.
    with pytest.raises((ConnectionError, OSError, asyncio.IncompleteReadError)):
        await client.tls_get(index_target.host, "/simple/sandpit-probe/", index_target.ca_bundle)
    again = await (await connections(endpoint.socket_path)).connect(index_target.authority)
    assert again.status == 429
    assert again.reason == (
        "This workspace has used its package download allowance (0 MiB per 60 minutes); "
        "try again later."
    )
    # The allowance belongs to the workspace, so a new sandbox of it does not reset it.
    proxy.detach("sandbox1")
    restarted = await proxy.attach("sandbox2", "workspace1")
    refused = await (await connections(restarted.socket_path)).connect(index_target.authority)
    assert refused.status == 429


async def test_each_tunnel_and_refusal_is_logged(
    index_endpoint: Endpoint,
    connections: Opener,
    index_target: IndexTarget,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="sandpit.proxy")
    client = await connections(index_endpoint.socket_path)
    assert (await client.connect(index_target.authority)).status == 200
    status = await client.tls_get(
        index_target.host, "/simple/sandpit-probe/", index_target.ca_bundle
    )
    assert status == 200
    client.close()
    await (await connections(index_endpoint.socket_path)).connect("example.com:443")
    for _ in range(50):
        if any("proxy tunnel" in r.getMessage() for r in caplog.records):
            break
        await asyncio.sleep(0.1)
    messages = [r.getMessage() for r in caplog.records if r.name.startswith("sandpit.proxy")]
    tunnel = next(m for m in messages if m.startswith("proxy tunnel"))
    assert f"sandbox=sandbox1 workspace=workspace1 target={index_target.authority}" in tunnel
    fields = dict(part.split("=", 1) for part in tunnel.split() if "=" in part)
    assert int(fields["sent"]) > 0
    assert int(fields["received"]) > 1000
    assert float(fields["seconds"]) >= 0
    refusal = next(m for m in messages if m.startswith("proxy refused"))
    assert "target=example.com:443 status=403 reason=not on the allowlist" in refusal


async def test_socket_belongs_to_the_sandbox_uid_in_a_server_owned_directory(
    make_proxy: ProxyFactory,
) -> None:
    endpoint = await make_proxy().attach("sandbox1", "workspace1", owner_uid=4242)
    sock = endpoint.socket_path.lstat()
    assert stat.S_ISSOCK(sock.st_mode)
    assert (sock.st_uid, stat.S_IMODE(sock.st_mode)) == (4242, 0o600)
    directory = endpoint.directory.lstat()
    assert (directory.st_uid, stat.S_IMODE(directory.st_mode)) == (os.geteuid(), 0o711)
    assert sorted(os.listdir(endpoint.directory)) == [SOCKET_NAME]


async def test_closing_an_endpoint_ends_its_tunnels_and_removes_the_socket(
    index_endpoint: Endpoint, connections: Opener, index_target: IndexTarget
) -> None:
    endpoint = index_endpoint
    client = await connections(endpoint.socket_path)
    assert (await client.connect(index_target.authority)).status == 200
    endpoint.close()
    assert await client.closed_by_peer(within=10)
    assert not endpoint.directory.exists()
    with pytest.raises(FileNotFoundError):
        await connections(endpoint.socket_path)


async def test_a_long_data_directory_path_still_works(
    socket_root: Path, connections: Opener
) -> None:
    root = socket_root / ("d" * 60) / ("e" * 60)
    proxy = PackageProxy(Allowlist.parse(["pypi.org:443"]), ProxyLimits(), root)
    try:
        endpoint = await proxy.attach("a" * 32, "w")
        assert len(str(endpoint.socket_path)) > 108  # more than a socket address holds
        # The sandbox sees it at a short path; here, reach it through the directory.
        dir_fd = os.open(endpoint.directory, os.O_PATH)
        try:
            client = await connections(Path(f"/proc/self/fd/{dir_fd}/{SOCKET_NAME}"))
        finally:
            os.close(dir_fd)
        assert (await client.connect("example.com:443")).status == 403
    finally:
        await proxy.close()


async def test_reap_removes_sockets_a_previous_server_left(
    make_proxy: ProxyFactory, socket_root: Path
) -> None:
    stale = socket_root / "deadbeef"
    stale.mkdir(parents=True)
    (stale / SOCKET_NAME).write_bytes(b"")
    foreign = socket_root / "not-a-socket-dir"
    foreign.mkdir()
    (foreign / "something else").write_bytes(b"")
    proxy = make_proxy()
    live = await proxy.attach("live", "w")
    proxy.reap()
    assert not stale.exists()
    assert (foreign / "something else").exists()  # only what the proxy makes is removed
    assert live.socket_path.exists()


async def test_lookups_are_shared_and_briefly_cached() -> None:
    now = [0.0]
    resolver = Resolver(ttl=30, clock=lambda: now[0])
    first, second = await asyncio.gather(
        resolver.resolve("localhost", 80), resolver.resolve("localhost", 80)
    )
    assert first == second
    assert "127.0.0.1" in first
    assert resolver._cache[("localhost", 80)][0] == 30  # one lookup, cached until then
    with pytest.raises(socket.gaierror):
        await resolver.resolve("no-such-host.invalid", 443)
    assert ("no-such-host.invalid", 443) not in resolver._cache


def test_the_log_throttle_counts_what_it_leaves_out() -> None:
    now = [0.0]
    throttle = LogThrottle(2, 10, clock=lambda: now[0])
    assert [throttle.admit("a") for _ in range(5)] == [0, 0, None, None, None]
    assert throttle.admit("b") == 0
    now[0] = 9.9
    assert throttle.admit("a") is None
    now[0] = 10
    assert throttle.admit("a") == 4
    assert throttle.admit("a") == 0
    assert throttle.admit("a") is None
    throttle.forget("a")
    assert throttle.admit("a") == 0
