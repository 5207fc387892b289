"""Run in a fresh network namespace: does the proxy refuse the host's own public-looking addresses?

    unshare --net python own_addresses_probe.py seen|unseen

The namespace gets addresses of its own on its loopback interface, one IPv4
and one IPv6 address that no forbidden range covers (OWN), so the "host's own
address" rule has something to refuse on any machine, whatever addresses the
real host has. A listener on every address counts the connections it gets.
With `seen` the proxy reads the namespace's addresses as the server does;
with `unseen` (the control: the protection off) it is given an empty /proc
to read them from. Prints {"answers": {target: [status, reason]}, "connections": n}.
"""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

from sandpit.proxy.limits import ProxyLimits
from sandpit.proxy.policy import Allowlist, HostAddresses
from sandpit.proxy.server import PackageProxy

# Documentation ranges: public-looking to the proxy's rules, routed nowhere real.
OWN = ("192.0.2.77", "2001:db8::77")


def set_up_addresses() -> None:
    for argv in (
        ["ip", "link", "set", "lo", "up"],
        ["ip", "addr", "add", f"{OWN[0]}/32", "dev", "lo"],
        ["ip", "-6", "addr", "add", f"{OWN[1]}/128", "dev", "lo"],
    ):
        subprocess.run(argv, check=True)


async def ask(socket_path: Path, target: str) -> tuple[int, str]:
    reader, writer = await asyncio.open_unix_connection(socket_path)
    try:
        writer.write(f"CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n\r\n".encode())
        await writer.drain()
        line = await asyncio.wait_for(reader.readline(), 30)
        _version, status, reason = line.decode("latin-1").rstrip("\r\n").split(" ", 2)
        return int(status), reason
    finally:
        writer.transport.abort()


async def main(mode: str) -> dict[str, object]:
    set_up_addresses()
    listener = socket.create_server(("", 0), family=socket.AF_INET6, dualstack_ipv6=True)
    listener.setblocking(False)
    port = listener.getsockname()[1]
    targets = [f"{OWN[0]}:{port}", f"[{OWN[1]}]:{port}"]
    with tempfile.TemporaryDirectory() as work:
        proc = Path(work) / ("proc" if mode == "unseen" else "unused")
        proc.mkdir()
        addresses = HostAddresses(proc=proc) if mode == "unseen" else HostAddresses()
        proxy = PackageProxy(
            Allowlist.parse(targets), ProxyLimits(), Path(work) / "sockets", addresses=addresses
        )
        try:
            endpoint = await proxy.attach("sandbox1", "workspace1")
            answers = {target: await ask(endpoint.socket_path, target) for target in targets}
        finally:
            await proxy.close()
    await asyncio.sleep(0.1)  # let the kernel finish the handshakes of tunnels that went through
    connections = 0
    while True:
        try:
            listener.accept()[0].close()
        except BlockingIOError:
            break
        connections += 1
    return {"answers": answers, "connections": connections}


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main(sys.argv[1]))))
