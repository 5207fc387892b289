"""The environment of processes in a sandbox: built here, never copied from the server's."""

from __future__ import annotations

import math

from sandpit.sandbox.proxy_bridge import proxy_env

SANDBOX_PATH = "/app/.local/bin:/usr/local/bin:/usr/bin:/bin"


def base_env(*, package_proxy: bool = True) -> dict[str, str]:
    """What every process in a sandbox gets (the seed's HOME and PYTHONPATH among it).

    `pip install` lands in the workspace (`/app/.local`, the user site), so
    packages survive the sandbox and the image stays read-only; bytecode
    caches go to /tmp so they neither fill the workspace nor its quota.

    pip reaches the index through the package proxy (`proxy_env`). PIP_USER
    is not set: pip already installs into the user site when the image's
    site-packages is not writable (it never is), and PIP_USER would break
    pip inside a venv. pip's download cache is off, so downloaded wheels
    take neither the workspace's quota nor the small /tmp. In a sandbox
    started without the proxy (`SandboxSpec.package_proxy` False), pass
    `package_proxy=False`: no proxy variables point at an address nothing serves.
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
        "PIP_NO_CACHE_DIR": "1",
        **(proxy_env() if package_proxy else {}),
    }


def run_env(cpus: float = 1.0) -> dict[str, str]:
    """For runs: unbuffered output, so streamed output arrives as it is printed.

    BLAS and OpenMP thread pools are sized to the sandbox's `cpus` before
    numpy is imported (a pool per host core would only contend for the
    quota), the same for a warm interpreter and a fresh one.
    """
    threads = str(max(1, math.ceil(cpus)))
    return {
        **base_env(),
        "PYTHONUNBUFFERED": "1",
        "TERM": "dumb",
        "OPENBLAS_NUM_THREADS": threads,
        "OMP_NUM_THREADS": threads,
        "MKL_NUM_THREADS": threads,
    }
