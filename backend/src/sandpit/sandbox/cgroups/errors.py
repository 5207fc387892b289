"""The errors of sandbox cgroups (see `sandpit.sandbox.cgroups`).

`CgroupUnavailable` (a `SandpitError`, 503) when this host's cgroups cannot
enforce the limits, with a sentence naming what is missing; `CgroupError`
when an operation fails on a host whose cgroups otherwise work (a platform
failure).
"""

from __future__ import annotations

import errno
from pathlib import Path

from sandpit.errors import ServiceUnavailable


class CgroupUnavailable(ServiceUnavailable):
    """This host's cgroups cannot enforce the sandbox limits; `reason` says what is missing.

    `detail` is the whole sentence: "cgroups cannot enforce the sandbox
    limits: <reason>.".
    """

    def __init__(self, reason: str) -> None:
        super().__init__(f"cgroups cannot enforce the sandbox limits: {reason}.")
        self.reason = reason


class CgroupError(RuntimeError):
    """A cgroup operation failed on a host whose cgroups otherwise work (a platform failure)."""


def unavailable(error: OSError, action: str, path: Path) -> CgroupUnavailable:
    """A CgroupUnavailable whose sentence explains why `action` on `path` failed."""
    if error.errno == errno.EROFS:
        return CgroupUnavailable(f"the cgroup filesystem at {path} is read-only")
    if error.errno in {errno.EACCES, errno.EPERM}:
        return CgroupUnavailable(
            f"permission denied to {action} {path}: the server must run as root"
            " or be given a delegated cgroup"
        )
    return CgroupUnavailable(f"cannot {action} {path}: {error.strerror}")
