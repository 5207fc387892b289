"""Building, reusing and pruning images, with a stand-in for the build commands.

The stand-in runner makes the files each real step would make (a tiny tree),
so the orchestration, the atomic rename, the marker, the clean-up after a
failure and the lock-down are all real; only mmdebstrap, pip and bubblewrap
are not run. The real build is checked by test_built_image.py.
"""

# ruff: noqa: S103 - the tests make permissive modes on purpose, to see them removed

from __future__ import annotations

import json
import os
import stat
from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest

from sandpit.runtime import plan
from sandpit.runtime.build import MARKER
from sandpit.runtime.commands import ImageBuildError, Progress
from sandpit.runtime.definition import definition_hash, load_definition
from sandpit.runtime.image import (
    ensure_image,
    find_image,
    list_images,
    main,
    prune_images,
)
from sandpit.runtime.tree import lockdown_violations

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="a build chowns the tree to root")

REPORT = {"python": "3.11.2", "debian_packages": {"python3": "3.11.2-1"}, "python_packages": {}}


class FakeRunner:
    """Records every command; makes the files the real command would make."""

    def __init__(self, fail_on: str = "") -> None:
        self.calls: list[list[str]] = []
        self.envs: list[dict[str, str]] = []
        self.fail_on = fail_on

    def __call__(
        self,
        argv: Sequence[str],
        *,
        env: Mapping[str, str],
        progress: Progress,
        capture: bool = False,
    ) -> str:
        self.calls.append(list(argv))
        self.envs.append(dict(env))
        if self.fail_on and self.fail_on in argv:
            raise ImageBuildError(f"{self.fail_on} failed")
        if "mmdebstrap" in argv:
            self.debootstrap(Path(argv[argv.index("bookworm") + 1]))
        elif "--bind" in argv:
            rootfs = Path(argv[argv.index("--bind") + 1])
            if "install" in argv:
                tests = rootfs / "usr/local/lib/python3.11/dist-packages/numpy/tests"
                tests.mkdir(parents=True)
                (tests / "test_x.py").write_text("")
                (rootfs / "etc/resolv.conf").write_text("")  # bwrap's mount point
            if "import matplotlib.font_manager" in argv:
                cache = rootfs / "usr/local/share/sandpit/matplotlib"
                cache.mkdir(parents=True)
                (cache / "fontlist-v3.11.0.json").write_text("{}")
        elif argv[0] == "setpriv":
            return json.dumps(REPORT)
        return ""

    @staticmethod
    def debootstrap(rootfs: Path) -> None:
        for name in ("etc", "dev", "tmp", "proc", "run", "usr/share/python-wheels", "var/log"):
            (rootfs / name).mkdir(parents=True, exist_ok=True)
        (rootfs / "usr/share/python-wheels/pip-23.0.1-py3-none-any.whl").write_text("")
        (rootfs / "etc/resolv.conf").write_text("nameserver 10.0.0.1\n")
        (rootfs / "etc/hostname").write_text("buildhost\n")
        (rootfs / "dev/null").write_text("")
        (rootfs / "var/log/dpkg.log").write_text("")
        os.chmod(rootfs / "tmp", 0o1777)


def build(data_dir: Path, definition_dir: Path, runner: FakeRunner) -> Path:
    messages: list[str] = []
    image = ensure_image(
        data_dir,
        definition_dir=definition_dir,
        runner=runner,
        progress=messages.append,
        environ={"https_proxy": "http://proxy:3128", "JWT_SECRET": "s3cret"},
    )
    return image.rootfs


def test_a_build_runs_the_planned_commands_in_order(tmp_path: Path, definition_dir: Path) -> None:
    runner = FakeRunner()
    rootfs = build(tmp_path / "data", definition_dir, runner)
    image_hash = definition_hash(definition_dir)
    assert rootfs == tmp_path / "data/images" / image_hash / "rootfs"
    work = tmp_path / "data/images" / f".build-{image_hash}-{os.getpid()}"
    definition = load_definition(definition_dir)
    ca = Path("/etc/ssl/certs/ca-certificates.crt")
    proxy = {"https_proxy": "http://proxy:3128"}
    assert runner.calls == [
        plan.mmdebstrap_argv(definition, work / "rootfs", ca),
        plan.pip_install_argv(
            definition,
            work / "rootfs",
            ca_bundle=ca,
            bootstrap_pip="/usr/share/python-wheels/pip-23.0.1-py3-none-any.whl",
            proxy=proxy,
        ),
        plan.compile_argv(definition, work / "rootfs"),
        plan.font_cache_argv(definition, work / "rootfs"),
        plan.smoke_test_argv(definition, work / "rootfs", work / "smoke_test.py"),
    ]
    # Every command runs in a clean environment: no secret, no host pip config.
    assert all(env == plan.host_environment(proxy) for env in runner.envs)


def test_a_built_tree_is_cleaned_configured_and_locked_down(
    tmp_path: Path, definition_dir: Path
) -> None:
    rootfs = build(tmp_path / "data", definition_dir, FakeRunner())
    assert not (rootfs / "etc/resolv.conf").exists()
    assert list((rootfs / "dev").iterdir()) == []
    assert not (rootfs / "usr/local/lib/python3.11/dist-packages/numpy/tests").exists()
    assert (rootfs / "etc/hostname").read_text() == "sandpit\n"
    assert (rootfs / "etc/passwd").read_text() == (definition_dir / "rootfs/etc/passwd").read_text()
    for name in ("app", "tmp", "dev", "proc", "run"):
        assert list((rootfs / name).iterdir()) == []
    assert stat.S_IMODE((rootfs / "tmp").stat().st_mode) == 0o755
    assert lockdown_violations(rootfs) == []
    assert not (rootfs.parent / "smoke_test.py").exists()


def test_the_marker_records_the_build(tmp_path: Path, definition_dir: Path) -> None:
    rootfs = build(tmp_path / "data", definition_dir, FakeRunner())
    record = json.loads((rootfs.parent / MARKER).read_text())
    assert record["hash"] == definition_hash(definition_dir)
    assert record["python"] == "3.11.2"
    assert record["env"]["LANG"] == "C.UTF-8"
    assert record["matplotlib_font_cache"] == (
        "/usr/local/share/sandpit/matplotlib/fontlist-v3.11.0.json"
    )
    assert record["size_bytes"] > 0


def test_a_complete_image_is_reused_without_running_anything(
    tmp_path: Path, definition_dir: Path
) -> None:
    first = build(tmp_path / "data", definition_dir, FakeRunner())
    runner = FakeRunner()
    assert build(tmp_path / "data", definition_dir, runner) == first
    assert runner.calls == []
    found = find_image(tmp_path / "data", definition_dir)
    assert found is not None
    assert found.rootfs == first


def test_a_failed_build_leaves_nothing_behind(tmp_path: Path, definition_dir: Path) -> None:
    with pytest.raises(ImageBuildError, match=r"step 2 \(installing Python packages.*install"):
        build(tmp_path / "data", definition_dir, FakeRunner(fail_on="install"))
    assert sorted(p.name for p in (tmp_path / "data/images").iterdir()) == [".lock"]
    assert find_image(tmp_path / "data", definition_dir) is None


def test_leftovers_of_an_interrupted_build_are_removed(
    tmp_path: Path, definition_dir: Path
) -> None:
    images = tmp_path / "data/images"
    image_hash = definition_hash(definition_dir)
    (images / ".build-0000-1/rootfs").mkdir(parents=True)
    (images / image_hash / "rootfs").mkdir(parents=True)  # no marker: incomplete
    assert find_image(tmp_path / "data", definition_dir) is None
    build(tmp_path / "data", definition_dir, FakeRunner())
    assert sorted(p.name for p in images.iterdir()) == [".lock", image_hash]


def test_a_changed_definition_builds_a_new_image_and_prune_keeps_only_it(
    tmp_path: Path, definition_dir: Path
) -> None:
    old = build(tmp_path / "data", definition_dir, FakeRunner())
    with (definition_dir / "rootfs/etc/hosts").open("a") as file:
        file.write("127.0.0.2\tother\n")
    new = build(tmp_path / "data", definition_dir, FakeRunner())
    assert new != old
    assert [image.rootfs for image in list_images(tmp_path / "data")] == sorted([old, new])
    removed = prune_images(tmp_path / "data", {new.parent.name}, progress=lambda _: None)
    assert removed == [old.parent.name]
    assert not old.exists()
    assert new.is_dir()


def test_an_images_directory_writable_by_others_is_refused(
    tmp_path: Path, definition_dir: Path
) -> None:
    images = tmp_path / "data/images"
    images.mkdir(parents=True)
    os.chmod(images, 0o777)
    with pytest.raises(ImageBuildError, match="must not be writable"):
        build(tmp_path / "data", definition_dir, FakeRunner())


def test_the_command_line_prints_hash_and_path(
    tmp_path: Path, definition_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = str(tmp_path / "data")
    assert main(["hash", "--definition", str(definition_dir)]) == 0
    assert capsys.readouterr().out == definition_hash(definition_dir) + "\n"
    assert main(["path", "--data-dir", data, "--definition", str(definition_dir)]) == 1
    assert "not built" in capsys.readouterr().err
    rootfs = build(tmp_path / "data", definition_dir, FakeRunner())
    assert main(["path", "--data-dir", data, "--definition", str(definition_dir)]) == 0
    assert capsys.readouterr().out == f"{rootfs}\n"
