"""Sandbox backends, one module each, peers behind `sandpit.sandbox.base`'s interface.

`bubblewrap` (the default: no daemon) and `docker` (the seed's container
configuration, options built by `docker_options`) both drive our agent and
share its lifecycle through `sandpit.sandbox.agent_sandbox`. A Kubernetes
backend (a pod per sandbox) goes here beside them, and into the `{name:
builder}` table of `sandpit.sandboxes`.
"""
