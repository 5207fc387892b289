"""One image build, step by step, in a work directory beside the finished images.

`ImageBuild.run()` turns an empty work directory into a complete image: the
tree in `rootfs/` and the record `image.json`. It runs the commands that
`plan` builds through the runner it is given, and the file-system steps of
`tree`; `image.ensure_image` decides when to build and moves the result into
place.
"""

from __future__ import annotations

import datetime
import json
import os
import shutil
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from sandpit.runtime import plan
from sandpit.runtime.commands import CommandRunner, ImageBuildError, Progress
from sandpit.runtime.definition import BUILDER_VERSION, Definition
from sandpit.runtime.tree import (
    TreeError,
    copy_overlay,
    disk_usage,
    lock_down,
    lockdown_violations,
    make_mount_points,
    remove_paths,
)

MARKER = "image.json"
BUILD_STEPS = 7


class ImageBuild:
    """One build in the work directory; `run()` leaves a complete image there."""

    def __init__(
        self,
        *,
        definition: Definition,
        image_hash: str,
        work: Path,
        ca_bundle: Path,
        proxy: Mapping[str, str],
        progress: Progress,
        runner: CommandRunner,
    ) -> None:
        self.definition = definition
        self.image_hash = image_hash
        self.work = work
        self.rootfs = work / "rootfs"
        self.ca_bundle = ca_bundle
        self.proxy = proxy
        self.progress = progress
        self.runner = runner
        self.host_env = plan.host_environment(proxy)
        self.steps = 0
        self.current = ""
        self.step_started = 0.0
        self.step_seconds: dict[str, float] = {}

    def step(self, message: str) -> None:
        now = time.monotonic()
        if self.current:
            self.step_seconds[self.current] = round(now - self.step_started, 1)
        self.steps += 1
        self.current = message
        self.step_started = now
        self.progress(f"[{self.steps}/{BUILD_STEPS}] {message}")

    def run(self) -> None:
        try:
            self._steps()
        except (ImageBuildError, TreeError, OSError) as exc:
            raise ImageBuildError(f"step {self.steps} ({self.current}) failed: {exc}") from exc

    def _steps(self) -> None:
        started = time.monotonic()
        definition = self.definition
        self.progress(f"building runtime image {self.image_hash} in {self.work}")
        self.step(f"bootstrapping Debian {definition.suite}: {', '.join(definition.packages)}")
        self._run(plan.mmdebstrap_argv(definition, self.rootfs, self.ca_bundle))

        self.step(f"installing Python packages from {definition.requirements.name}")
        argv = plan.pip_install_argv(
            definition,
            self.rootfs,
            ca_bundle=self.ca_bundle,
            bootstrap_pip=self._bootstrap_pip(),
            proxy=self.proxy,
        )
        self._run(argv)

        self.step("removing what the image does not need")
        removed = remove_paths(self.rootfs, definition.remove)
        self.progress(f"    removed {len(removed)} paths")

        self.step("byte-compiling Python modules and building matplotlib's font list")
        self._run(plan.compile_argv(definition, self.rootfs))
        self._run(plan.font_cache_argv(definition, self.rootfs))

        self.step("writing configuration files and locking the tree down")
        copy_overlay(definition.overlay, self.rootfs)
        make_mount_points(self.rootfs, definition.mount_points)
        lock_down(self.rootfs)
        violations = lockdown_violations(self.rootfs)
        if violations:
            raise ImageBuildError(f"not locked down: {violations[:5]}")

        self.step("checking the image inside bubblewrap as an unprivileged user")
        smoke_test = self.work / "smoke_test.py"
        shutil.copyfile(definition.smoke_test, smoke_test)
        os.chmod(smoke_test, 0o644)
        output = self.runner(
            plan.smoke_test_argv(definition, self.rootfs, smoke_test),
            env=self.host_env,
            progress=self.progress,
            capture=True,
        )
        smoke_test.unlink()
        try:
            report = json.loads(output)
        except json.JSONDecodeError as exc:
            raise ImageBuildError(f"the smoke test printed no report: {exc}") from exc

        self.step("measuring and recording the image")
        record = {
            "hash": self.image_hash,
            "builder_version": BUILDER_VERSION,
            "built_at": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
            "build_seconds": round(time.monotonic() - started, 1),
            "step_seconds": self.step_seconds,
            "size_bytes": disk_usage(self.rootfs),
            "env": dict(definition.env),
            "matplotlib_font_cache": self._font_cache(),
            **report,
        }
        (self.work / MARKER).write_text(json.dumps(record, indent=1, sort_keys=True) + "\n")
        os.chmod(self.work / MARKER, 0o644)

    def _run(self, argv: Sequence[str]) -> None:
        self.runner(argv, env=self.host_env, progress=self.progress)

    def _bootstrap_pip(self) -> str:
        wheels = sorted((self.rootfs / "usr/share/python-wheels").glob("pip-*.whl"))
        if len(wheels) != 1:
            raise ImageBuildError(
                "expected one pip wheel in /usr/share/python-wheels (python3-venv), "
                f"found {len(wheels)}"
            )
        return "/" + wheels[0].relative_to(self.rootfs).as_posix()

    def _font_cache(self) -> str:
        cache = self.rootfs / self.definition.matplotlib_cache.lstrip("/")
        lists = sorted(cache.glob("fontlist-*.json"))
        if len(lists) != 1:
            raise ImageBuildError(f"expected one matplotlib font list in {cache}")
        return "/" + lists[0].relative_to(self.rootfs).as_posix()
