"""`sandpit install-service`: the systemd units of deploy/systemd/, for this checkout.

The shipped units name `/opt/sandpit`; `render_units` puts the checkout's
own directory there (a pure function, tested literally), and `install`
writes them and asks systemd to enable them. Where systemd is not running
(containers, build machines) it writes nothing and says how to run the
server in the foreground instead: `backend/.venv/bin/sandpit serve`, the
command line the unit runs.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from sandpit.errors import SandpitError

SHIPPED_PREFIX = "/opt/sandpit"
UNITS = ("sandpit.service", "sandpit-backup.service", "sandpit-backup.timer")
SYSTEMD_RUNNING = Path("/run/systemd/system")


class ServiceError(SandpitError):
    """The service could not be installed; the sentence says why."""


def render_units(repo_dir: Path, units_dir: Path) -> dict[str, str]:
    """Each unit's text with the checkout's directory in place of `/opt/sandpit`."""
    return {
        name: (units_dir / name).read_text().replace(SHIPPED_PREFIX, str(repo_dir))
        for name in UNITS
    }


def install(repo_dir: Path, units_dir: Path, target: Path, *, start: bool) -> list[str]:
    """Write the units into `target` and enable them; return what was done, line by line.

    Raises `ServiceError` where systemd is not running (nothing is written).
    """
    if not SYSTEMD_RUNNING.is_dir() or shutil.which("systemctl") is None:
        raise ServiceError(
            "systemd is not running on this machine, so no service was installed; run the "
            f"server in the foreground instead: {repo_dir}/backend/.venv/bin/sandpit serve"
        )
    done = []
    for name, text in render_units(repo_dir, units_dir).items():
        (target / name).write_text(text)
        done.append(f"wrote {target / name}")
    _systemctl("daemon-reload")
    now = ["--now"] if start else []
    _systemctl("enable", *now, "sandpit.service", "sandpit-backup.timer")
    done.append(
        "enabled sandpit.service and sandpit-backup.timer" + (" (started)" if start else "")
    )
    return done


def _systemctl(*args: str) -> None:
    result = subprocess.run(["systemctl", *args], capture_output=True, text=True, check=False)  # noqa: S603, S607
    if result.returncode != 0:
        raise ServiceError(f"systemctl {' '.join(args)} failed: {result.stderr.strip()}")
