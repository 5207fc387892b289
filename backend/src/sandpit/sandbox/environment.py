"""The environment of processes in a sandbox: built here, never copied from the server's."""

from __future__ import annotations

SANDBOX_PATH = "/app/.local/bin:/usr/local/bin:/usr/bin:/bin"


def base_env() -> dict[str, str]:
    """What every process in a sandbox gets (the seed's HOME and PYTHONPATH among it).

    `pip install` lands in the workspace (`/app/.local`, the user site), so
    packages survive the sandbox and the image stays read-only; bytecode
    caches go to /tmp so they neither fill the workspace nor its quota.
    """
    return {
        "HOME": "/app",
        "USER": "sandbox",
        "PATH": SANDBOX_PATH,
        "LANG": "C.UTF-8",
        "PYTHONPATH": "/app:/run/sandpit/python",
        "PYTHONUSERBASE": "/app/.local",
        "PYTHONPYCACHEPREFIX": "/tmp/.pycache",  # noqa: S108 - the sandbox's own private tmpfs
        "MPLBACKEND": "module://sandpit_plots",
        "MPLCONFIGDIR": "/tmp/.matplotlib",  # noqa: S108 - the sandbox's own private tmpfs
    }


def run_env() -> dict[str, str]:
    """For runs: unbuffered output, so streamed output arrives as it is printed."""
    return {**base_env(), "PYTHONUNBUFFERED": "1", "TERM": "dumb"}
