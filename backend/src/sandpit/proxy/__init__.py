"""The package proxy: the one way out of a sandbox, to the package index only.

A sandbox has no network but loopback. To let `pip install` reach PyPI, the
server runs an HTTP CONNECT proxy (no TLS interception: it only relays the
bytes of a TLS session it cannot read) that:
- listens on one Unix socket per sandbox, in a host directory only that
  sandbox sees (mounted read-only at `/run/sandpit-proxy`), so which socket a
  connection arrives on says which sandbox is talking;
- tunnels only to `host:port` pairs on an allowlist (by default
  `pypi.org:443` and `files.pythonhosted.org:443`), and never to loopback,
  link-local, private, multicast or the host's own addresses, whatever DNS
  says (it resolves the name itself and connects to the address it checked);
- bounds each sandbox (connections at once, bytes per workspace per window,
  idle time and lifetime of a tunnel, size of a request) and logs every
  tunnel.
Inside the sandbox a small forwarder (`sandbox/inside/forwarder.py`) listens
on 127.0.0.1:3128 and pipes each connection to the socket; the sandbox's
environment points `HTTPS_PROXY` at it. Nothing here depends on the sandbox
backend: a container with `--network=none` and the socket directory mounted
works the same way.

Modules: `policy` (what may be reached), `protocol` (the request and the
answers), `limits` (bounds and the byte allowance), `resolver` (name
lookups), `refusals` (the refusal log and its budget), `server` (the
proxy), `bridge` (the sandbox side: mounts, the environment, the forwarder).
"""
