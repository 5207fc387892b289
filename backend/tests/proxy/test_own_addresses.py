"""The host's own addresses are refused, on any host: tested with addresses of the test's own.

The rule "never this server's own address" matters for public-looking
addresses (private and loopback ones are refused by range anyway); a host
with only private addresses would have none to test. So the proxy runs in a
fresh network namespace with a public-looking IPv4 and IPv6 address of its
own (own_addresses_probe.py), and the control runs the same proxy blind to
them: then it tunnels, so the refusal is the own-address rule's doing.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from sandpit.config import REPO_DIR

PROBE = Path(__file__).with_name("own_addresses_probe.py")
REFUSAL = "resolves to an address Sandpit's package proxy never connects to"


def probe_in_a_namespace(mode: str) -> dict[str, Any]:
    if os.geteuid() != 0:
        pytest.fail("a network namespace of the test's own needs root, as the sandbox tests do")
    result = subprocess.run(
        ["unshare", "--net", sys.executable, str(PROBE), mode],
        cwd=REPO_DIR / "backend",
        env={**os.environ, "PYTHONPATH": str(REPO_DIR / "backend" / "src")},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    outcome: dict[str, Any] = json.loads(result.stdout)
    return outcome


def test_the_hosts_own_public_looking_addresses_are_refused() -> None:
    outcome = probe_in_a_namespace("seen")
    answers = outcome["answers"]
    assert len(answers) == 2  # one IPv4, one IPv6
    for target, (status, reason) in answers.items():
        assert status == 403, target
        assert REFUSAL in reason, (target, reason)
    assert outcome["connections"] == 0


def test_control_blind_to_its_own_addresses_the_proxy_tunnels_to_them() -> None:
    outcome = probe_in_a_namespace("unseen")
    assert {target: status for target, (status, _) in outcome["answers"].items()} == dict.fromkeys(
        outcome["answers"], 200
    )
    assert outcome["connections"] == 2
