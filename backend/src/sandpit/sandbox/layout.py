"""Where things are inside every sandbox, whatever the backend.

Every backend mounts `sandbox/inside/` (the agent, the run helper, the
plots backend, the forwarder) read-only at `SUPPORT_MOUNT`, runs the agent
with `AGENT_COMMAND` as `SANDBOX_UID`, and puts the workspace at
`WORKSPACE_MOUNT`. Defined once here so the backends, the run executor and
the process environment cannot drift apart.
"""

from __future__ import annotations

from pathlib import Path

# The host directory mounted at SUPPORT_MOUNT.
INSIDE_DIR = Path(__file__).with_name("inside")
SUPPORT_MOUNT = "/run/sandpit"
WORKSPACE_MOUNT = "/app"
# The user every sandboxed process runs as (the seed's `user: 1000:1000`).
SANDBOX_UID = 1000
# `-I -S`: the agent needs only the standard library, and starts faster
# without site and with the environment kept out of it.
AGENT_COMMAND = ["/usr/bin/python3", "-I", "-S", f"{SUPPORT_MOUNT}/agent.py"]
# How long a new sandbox's agent has to answer its first ping.
START_TIMEOUT_S = 20.0
