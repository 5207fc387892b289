"""SIGKILL during many concurrent writes never leaves a torn or empty file."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import httpx

from tests.conftest import User
from tests.servers import SandpitServer

FILES = 8
SIZE = 256 * 1024


def version(name: int, n: int) -> bytes:
    # Every version of every file is distinct throughout, so a torn file
    # (part of one version, part of another) can never pass for a whole one.
    line = f"file {name} version {n:06d}\n".encode()
    return line * (SIZE // len(line))


def test_sigkill_during_writes(make_user: Callable[[SandpitServer], User]) -> None:
    server = SandpitServer()
    server.start()
    user = make_user(server)
    ws = user.workspace()
    url = f"/api/workspaces/{ws}/files"
    for name in range(FILES):
        assert user.client.put(f"{url}/f{name}.txt", content=version(name, 0)).status_code == 201

    written: dict[int, set[int]] = {name: {0} for name in range(FILES)}
    stop = threading.Event()

    def writer(name: int) -> None:
        with httpx.Client(base_url=server.url, headers=user.client.headers, timeout=10) as client:
            n = 0
            while not stop.is_set():
                n += 1
                written[name].add(n)  # recorded before sending: it may land
                try:
                    client.put(f"{url}/f{name}.txt", content=version(name, n))
                except httpx.TransportError:
                    return

    threads = [threading.Thread(target=writer, args=(name,)) for name in range(FILES)]
    for thread in threads:
        thread.start()
    time.sleep(1.5)
    server.kill()
    stop.set()
    for thread in threads:
        thread.join(timeout=15)
    assert sum(len(v) for v in written.values()) > FILES * 2, "too few writes to test anything"

    server.start()
    try:
        for name in range(FILES):
            content = user.client.get(f"{url}/f{name}.txt").content
            versions = {n for n in written[name] if version(name, n) == content}
            assert len(versions) == 1, f"f{name}.txt is torn or empty ({len(content)} bytes)"
        # No temporary files are listed.
        listed = {e["path"] for e in user.client.get(url).json()}
        assert listed == {f"f{name}.txt" for name in range(FILES)}
    finally:
        server.close()
