"""The spec's options for sandboxes that must not change or reach anything: the grader's, the LSP's.

`read_only_mounts`, `workspace_read_only` and `package_proxy=False`, on the
real backends (both, through the `backend` fixture), on a backend that has a
real package proxy: a sandbox started with the proxy, beside one without it,
shows the proxy would have been reachable had it been asked for.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest

from sandpit.proxy.limits import ProxyLimits
from sandpit.proxy.policy import Allowlist
from sandpit.proxy.server import PackageProxy
from sandpit.sandbox.agent_sandbox import AgentBackend
from sandpit.sandbox.base import SandboxBackend, SandboxSpec, check_mount_point
from sandpit.sandbox.environment import base_env
from sandpit.sandbox.limits import Limits
from sandpit.sandbox.proxy_bridge import proxy_env
from tests.sandbox.conftest import Workspaces, run

MOUNT = "/run/sandpit-test-ro"

# What a process finds inside: each probe's errno (0: it worked) or its answer.
PROBE = f"""
import errno, json, os, socket

def attempt(action):
    try:
        action()
        return 0
    except OSError as exc:
        return errno.errorcode.get(exc.errno, exc.errno)

def write(path):
    with open(path, "w") as handle:
        handle.write("x")

def read(path):
    return open(path).read() if os.path.exists(path) else None

def connect(host, port):
    socket.create_connection((host, port), timeout=5).close()

print(json.dumps({{
    "read_mount": read("{MOUNT}/given.txt"),
    "write_mount": attempt(lambda: write("{MOUNT}/new.txt")),
    "read_app": open("/app/solution.py").read(),
    "write_app": attempt(lambda: write("/app/new.txt")),
    "proxy_socket_dir": os.path.exists("/run/sandpit-proxy"),
    "ca_bundle": os.path.exists("/run/sandpit-ca"),
    "proxy_port": attempt(lambda: connect("127.0.0.1", 3128)),
    "outside": attempt(lambda: connect("1.1.1.1", 80)),
}}))
"""


@pytest.fixture
def proxied(backend: SandboxBackend, workspaces: Workspaces) -> AgentBackend[Any]:
    """The backend with a real package proxy (the harness makes them without one)."""
    assert isinstance(backend, AgentBackend)
    backend.proxy = PackageProxy(
        Allowlist.parse(["pypi.org:443"], []), ProxyLimits(), workspaces.base / "proxy"
    )
    return backend  # its close() (the `backend` fixture's) closes the proxy too


def spec(workspace: Path, **options: object) -> SandboxSpec:
    return SandboxSpec(
        sandbox_id=uuid.uuid4().hex[:20],
        workspace_id=workspace.name,
        workspace_dir=workspace,
        limits=Limits(),
        **options,  # type: ignore[arg-type]
    )


async def probe(backend: SandboxBackend, made: SandboxSpec) -> dict[str, object]:
    sandbox = await backend.start(made)
    try:
        result = await run(sandbox, PROBE, env=base_env(package_proxy=made.package_proxy))
        assert result.code == 0, str(result)
        found: dict[str, object] = json.loads(result.out)
        return found
    finally:
        await sandbox.stop()


async def test_read_only_mounts_and_workspace_and_no_proxy(
    proxied: AgentBackend[Any], workspaces: Workspaces
) -> None:
    given = workspaces.new("given")
    given.chmod(0o755)
    (given / "given.txt").write_text("from the host")
    (given / "given.txt").chmod(0o644)
    closed = workspaces.new()
    (closed / "solution.py").write_text("answer = 42\n")
    made = spec(
        closed,
        read_only_mounts=((given, MOUNT),),
        workspace_read_only=True,
        package_proxy=False,
    )
    found = await probe(proxied, made)
    assert found == {
        "read_mount": "from the host",
        "write_mount": "EROFS",
        "read_app": "answer = 42\n",
        "write_app": "EROFS",
        "proxy_socket_dir": False,
        "ca_bundle": False,
        "proxy_port": "ECONNREFUSED",
        "outside": "ENETUNREACH",
    }
    assert proxied.proxy is not None
    assert made.sandbox_id not in proxied.proxy.endpoints
    assert not (given / "new.txt").exists()

    # The same backend, defaults: a writable workspace, the proxy's socket and
    # its forwarder listening (the connection is accepted into its backlog).
    open_ws = workspaces.new()
    (open_ws / "solution.py").write_text("answer = 42\n")
    default = await probe(proxied, spec(open_ws))
    assert default == {
        **found,
        "read_mount": None,
        "write_mount": "ENOENT",
        "write_app": 0,
        "proxy_socket_dir": True,
        "ca_bundle": proxied.ca_bundle is not None,
        "proxy_port": 0,
    }


def test_without_the_proxy_no_variable_points_at_it() -> None:
    without = base_env(package_proxy=False)
    assert not set(proxy_env()) & set(without)
    assert set(proxy_env()) <= set(base_env())


@pytest.mark.parametrize(
    "inside",
    ["/opt/grader", "/run", "/run/../etc", "/run/sandpit", "/run/sandpit/x", "run/x", "/run/x/"],
)
def test_mount_points_outside_run_or_on_the_sandboxs_own_are_refused(inside: str) -> None:
    with pytest.raises(ValueError, match=r"path|under /run/|own mount"):
        check_mount_point(inside)


def test_a_mount_point_beside_the_sandboxs_own_is_fine() -> None:
    check_mount_point("/run/sandpit-grader/tests")
    check_mount_point("/run/sandpit-proxyless")


async def test_a_shared_read_only_sandbox_leaves_the_workspace_to_its_own(
    backend: SandboxBackend, workspaces: Workspaces
) -> None:
    # The language servers' case: the workspace's own sandbox runs, a second,
    # read-only one (another host uid on both backends) starts beside it and
    # reads the files; the first still writes them, before and after.
    workspace = workspaces.new()
    (workspace / "solution.py").write_text("answer = 42\n")
    own = await backend.start(spec(workspace))
    try:
        write = "open('/app/mine.txt', 'w').write('{}')"
        assert (await run(own, write.format("before"))).code == 0
        beside = spec(workspace, workspace_read_only=True, share_workspace=True)
        shared = await backend.start(beside)
        try:
            read = await run(shared, "print(open('/app/mine.txt').read())")
            assert (read.code, read.out) == (0, "before\n"), str(read)
            refused = await run(shared, write.format("from the shared one"))
            assert refused.code != 0, str(refused)
            assert "Read-only file system" in refused.err, str(refused)
        finally:
            await shared.stop()
        after = await run(own, write.format("after"))
        assert after.code == 0, str(after)
        assert (workspace / "mine.txt").read_text() == "after"
    finally:
        await own.stop()
