"""pip through the package proxy, end to end: the real server, sandbox, forwarder and an index.

The index is the test's own (local_index.py: on this host, over TLS with a
test CA, allowed by the proxy's settings), so these tests need no live index;
one test (marked `live_index`) installs from the real one.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest

from sandpit.proxy.policy import HostAddresses, forbidden_reason
from tests.conftest import User
from tests.proxy.local_index import LocalIndex, local_index
from tests.servers import SandpitServer

# The server's own address is allowlisted too (as a misconfiguration or a
# rebinding name would have it): the proxy must refuse it all the same.
ALLOWED_NAMES = "pypi.org, files.pythonhosted.org, localhost, 127.0.0.1 and 127.0.0.2"
REFUSED = f"Sandpit's package proxy only allows {ALLOWED_NAMES}."
ONLY_HTTPS = f"Sandpit's package proxy only relays HTTPS (CONNECT) to {ALLOWED_NAMES}."


@pytest.fixture(scope="module")
def index() -> Iterator[LocalIndex]:
    with local_index() as served:
        yield served


@pytest.fixture(scope="module")
def server(index: LocalIndex) -> Iterator[SandpitServer]:
    """One server (SQLite: the database plays no part here), logging at INFO for the proxy.

    It allows the local index (and trusts its CA) as well as the real index.
    """
    instance = SandpitServer(log_level="info")
    instance.env["PACKAGE_PROXY_ALLOWED_HOSTS"] = json.dumps(
        [
            "pypi.org:443",
            "files.pythonhosted.org:443",
            f"localhost:{instance.port}",
            f"127.0.0.1:{instance.port}",
            index.authority,
        ]
    )
    instance.env["PACKAGE_PROXY_LOCAL_HOSTS"] = json.dumps([index.authority])
    instance.env["PACKAGE_PROXY_CA_BUNDLE"] = str(index.ca_bundle)
    instance.start()
    yield instance
    instance.close()


@pytest.fixture
def ws(user: User) -> str:
    return user.workspace()


def run(user: User, ws: str, code: str, timeout_s: int = 30) -> dict[str, object]:
    response = user.client.post(
        f"/api/workspaces/{ws}/runs",
        params={"wait": True},
        json={"code": code, "timeout_s": timeout_s},
        timeout=timeout_s + 60,
    )
    assert response.status_code == 200, response.text
    result: dict[str, object] = response.json()
    return result


def last_json(result: dict[str, object]) -> object:
    assert result["status"] == "ok", result
    return json.loads(str(result["stdout"]).splitlines()[-1])


def stop_sandbox(user: User, ws: str) -> None:
    assert user.client.delete(f"/api/workspaces/{ws}/sandbox").status_code == 204
    deadline = time.monotonic() + 15
    while user.client.get(f"/api/workspaces/{ws}/sandbox").json()["running"]:
        assert time.monotonic() < deadline, "the sandbox did not stop"
        time.sleep(0.1)


def pip_install(index: LocalIndex, *options: str) -> str:
    """A run's code: pip installs sandpit-probe from the local index, failing the run if not."""
    argv = ["pip", "install", "--index-url", index.url, *options, "sandpit-probe"]
    return f"import subprocess\nsubprocess.run({argv!r}, check=True)\n"


def test_pip_install_lands_in_the_workspace_and_later_runs_import_it(
    user: User, ws: str, server: SandpitServer, index: LocalIndex
) -> None:
    installed = run(user, ws, pip_install(index), timeout_s=120)
    assert installed["status"] == "ok", installed
    assert "Successfully installed sandpit-probe-1.0" in str(installed["stdout"])
    assert "/files/sandpit_probe-1.0-py3-none-any.whl" in index.requests
    # A new sandbox (the old one stopped) still has it: it is in the workspace.
    stop_sandbox(user, ws)
    imported = run(user, ws, "import sandpit_probe\nprint(sandpit_probe.__file__)")
    assert imported["status"] == "ok", imported
    assert imported["stdout"] == "/app/.local/lib/python3.11/site-packages/sandpit_probe.py\n"
    assert f"workspace={ws} target={index.authority}" in server.log.read_text()


def test_source_distributions_build_inside_the_sandbox(
    user: User, ws: str, index: LocalIndex
) -> None:
    # No wheel: pip builds the sdist here, with its in-tree build backend.
    installed = run(user, ws, pip_install(index, "--no-binary", "sandpit-probe"), timeout_s=180)
    assert installed["status"] == "ok", installed
    assert "Successfully installed sandpit-probe-1.0" in str(installed["stdout"])
    assert "Building wheel for sandpit-probe" in str(installed["stdout"])
    assert "/files/sandpit_probe-1.0.tar.gz" in index.requests


@pytest.mark.live_index
def test_pip_installs_from_the_real_index(user: User, ws: str, server: SandpitServer) -> None:
    # The one test that needs the live index (pypi.org): the real thing, end to end.
    installed = run(
        user,
        ws,
        "import subprocess\n"
        "subprocess.run(['pip', 'install', '--no-cache-dir', 'six'], check=True)\n",
        timeout_s=120,
    )
    assert installed["status"] == "ok", installed
    assert "Successfully installed six" in str(installed["stdout"])
    imported = run(user, ws, "import six\nprint(six.__file__)")
    assert imported["stdout"] == "/app/.local/lib/python3.11/site-packages/six.py\n"
    log = server.log.read_text()
    assert f"workspace={ws} target=pypi.org:443" in log
    assert f"workspace={ws} target=files.pythonhosted.org:443" in log


def test_other_hosts_are_refused_with_the_sentence(user: User, ws: str) -> None:
    code = (
        "import json, urllib.request\n"
        "out = {}\n"
        "for url in ('https://example.com/', 'http://example.com/', 'https://pypi.org.evil.test/'):\n"
        "    try:\n"
        "        urllib.request.urlopen(url, timeout=20)\n"
        "        out[url] = 'reached'\n"
        "    except Exception as exc:\n"
        "        out[url] = str(exc)\n"
        "print(json.dumps(out))\n"
    )
    outcome = last_json(run(user, ws, code))
    assert outcome == {
        "https://example.com/": f"<urlopen error Tunnel connection failed: 403 {REFUSED}>",
        "http://example.com/": f"HTTP Error 405: {ONLY_HTTPS}",
        "https://pypi.org.evil.test/": f"<urlopen error Tunnel connection failed: 403 {REFUSED}>",
    }


def test_pip_from_another_index_fails_clearly(user: User, ws: str) -> None:
    result = run(
        user,
        ws,
        "import subprocess\n"
        "subprocess.run(['pip', 'install', '--retries', '1', '--index-url',"
        " 'https://example.com/simple', 'six'])\n",
        timeout_s=60,
    )
    assert REFUSED in str(result["stdout"]) + str(result["stderr"])


def test_no_network_without_the_proxy(user: User, ws: str) -> None:
    code = (
        "import errno, json, os, socket\n"
        "def attempt(family, address):\n"
        "    try:\n"
        "        with socket.socket(family) as s:\n"
        "            s.settimeout(5)\n"
        "            s.connect(address)\n"
        "        return 'connected'\n"
        "    except OSError as exc:\n"
        "        return errno.errorcode.get(exc.errno, str(exc))\n"
        "out = {'direct': attempt(socket.AF_INET, ('1.1.1.1', 443)),\n"
        "       'direct v6': attempt(socket.AF_INET6, ('2606:4700:4700::1111', 443))}\n"
        "try:\n"
        "    socket.getaddrinfo('pypi.org', 443)\n"
        "    out['dns'] = 'resolved'\n"
        "except socket.gaierror:\n"
        "    out['dns'] = 'gaierror'\n"
        "print(json.dumps(out))\n"
    )
    assert last_json(run(user, ws, code)) == {
        "direct": "ENETUNREACH",
        "direct v6": "ENETUNREACH",
        "dns": "gaierror",
    }


def test_host_services_are_not_reachable_through_the_proxy(
    user: User, ws: str, server: SandpitServer
) -> None:
    port = server.port  # the API server itself listens on the host's 127.0.0.1
    own = [str(a) for a in HostAddresses().current() if forbidden_reason(a) is None]
    targets = [f"127.0.0.1:{port}", f"localhost:{port}", f"[::1]:{port}", "169.254.169.254:80"]
    targets += [f"[{a}]:{port}" if ":" in a else f"{a}:{port}" for a in own]
    code = f"TARGETS = {targets!r}\nPORT = {port}\n" + (
        "import json, socket\n"
        "def ask(connect, target):\n"
        "    with connect() as s:\n"
        "        s.settimeout(20)\n"
        "        s.sendall(f'CONNECT {target} HTTP/1.1\\r\\nHost: {target}\\r\\n\\r\\n'.encode())\n"
        "        return s.recv(4096).split(b'\\r\\n')[0].decode()\n"
        "def forwarder():\n"
        "    return socket.create_connection(('127.0.0.1', 3128))\n"
        "def unix():\n"
        "    s = socket.socket(socket.AF_UNIX)\n"
        "    s.connect('/run/sandpit-proxy/proxy.sock')\n"
        "    return s\n"
        "out = {target: [ask(forwarder, target), ask(unix, target)] for target in TARGETS}\n"
        "try:\n"
        "    socket.create_connection(('127.0.0.1', PORT), timeout=5)\n"
        "    out['direct'] = 'connected'\n"
        "except OSError as exc:\n"
        "    out['direct'] = exc.__class__.__name__\n"
        "print(json.dumps(out))\n"
    )
    outcome = last_json(run(user, ws, code))
    assert isinstance(outcome, dict)
    assert outcome.pop("direct") == "ConnectionRefusedError"  # the sandbox's own loopback
    assert set(outcome) == set(targets)
    never = "resolves to an address Sandpit's package proxy never connects to."
    assert outcome.pop(f"127.0.0.1:{port}") == [f"HTTP/1.1 403 127.0.0.1 {never}"] * 2
    assert outcome.pop(f"localhost:{port}") == [f"HTTP/1.1 403 localhost {never}"] * 2
    for target, answers in outcome.items():
        assert answers == [f"HTTP/1.1 403 {REFUSED}"] * 2, target


# Run in the sandbox: each line of ``steps`` is "connect" (a CONNECT to a
# refused host through the forwarder, printing the status line) or
# "processes" (printing whether a forwarder process exists) or "kill".
FORWARDER_PROBE = """
import os, signal, socket, sys

def forwarders():
    found = []
    for pid in os.listdir('/proc'):
        try:
            cmdline = open(f'/proc/{pid}/cmdline', 'rb').read()
        except OSError:
            continue
        if b'forwarder.py' in cmdline:
            found.append(int(pid))
    return found

for step in STEPS:
    if step == 'processes':
        print('forwarder running' if forwarders() else 'no forwarder')
    elif step == 'kill':
        for pid in forwarders():
            os.kill(pid, signal.SIGKILL)
        print('killed')
    elif step == 'connect':
        with socket.create_connection(('127.0.0.1', 3128), timeout=20) as conn:
            conn.settimeout(20)
            conn.sendall(b'CONNECT example.com:443 HTTP/1.1\\r\\nHost: example.com:443\\r\\n\\r\\n')
            print(conn.recv(4096).split(b'\\r\\n')[0].decode()[:12])
"""


def probe(user: User, ws: str, *steps: str) -> list[str]:
    code = f"STEPS = {list(steps)!r}\n" + FORWARDER_PROBE
    result = run(user, ws, code)
    assert result["exit_code"] == 0, result
    return str(result["stdout"]).splitlines()


def test_the_forwarder_starts_on_the_first_connection_only(user: User, ws: str) -> None:
    # Socket activation: a sandbox that never uses pip never pays for the
    # forwarder, and the first connection is served all the same.
    assert probe(user, ws, "processes", "connect", "processes") == [
        "no forwarder",
        "HTTP/1.1 403",
        "forwarder running",
    ]


def test_the_forwarder_comes_back_after_user_code_kills_it(user: User, ws: str) -> None:
    # A connection made while none runs waits for the next one: none is lost.
    assert probe(user, ws, "connect", "kill", "connect", "kill", "connect") == [
        "HTTP/1.1 403",
        "killed",
        "HTTP/1.1 403",
        "killed",
        "HTTP/1.1 403",
    ]


def test_a_connection_waits_while_no_forwarder_can_start(user: User, ws: str) -> None:
    # User code holds every process the sandbox may have, so the forwarder
    # cannot start; the connection waits and is served once they are freed.
    code = (
        "import os, signal, socket, time\n"
        "children = []\n"
        "try:\n"
        "    while True:\n"
        "        pid = os.fork()\n"
        "        if pid == 0:\n"
        "            time.sleep(120)\n"
        "            os._exit(0)\n"
        "        children.append(pid)\n"
        "except OSError:\n"
        "    pass\n"
        "conn = socket.create_connection(('127.0.0.1', 3128), timeout=30)\n"
        "conn.sendall(b'CONNECT example.com:443 HTTP/1.1\\r\\nHost: example.com:443\\r\\n\\r\\n')\n"
        "time.sleep(2.5)\n"
        "conn.settimeout(0)\n"
        "try:\n"
        "    print('answered while full:', conn.recv(100))\n"
        "except BlockingIOError:\n"
        "    print('waiting while full')\n"
        "for pid in children:\n"
        "    os.kill(pid, signal.SIGKILL)\n"
        "    os.waitpid(pid, 0)\n"
        "conn.settimeout(30)\n"
        "print(conn.recv(4096).split(b'\\r\\n')[0].decode()[:12])\n"
    )
    result = run(user, ws, code)
    assert result["stdout"] == "waiting while full\nHTTP/1.1 403\n", result
