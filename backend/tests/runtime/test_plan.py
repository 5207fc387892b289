"""The build's command lines, compared to literal expected values."""

from __future__ import annotations

from pathlib import Path

import pytest

from sandpit.runtime import plan
from tests.runtime.conftest import small_definition

DEF = small_definition(Path("/def"))
ROOTFS = Path("/data/images/.build-abc-1/rootfs")
CA = Path("/etc/ssl/certs/ca-certificates.crt")


def test_only_proxy_variables_pass_from_the_callers_environment() -> None:
    environ = {
        "https_proxy": "http://proxy:3128",
        "NO_PROXY": "localhost",
        "PIP_FIND_LINKS": "/opt/wheels",
        "PIP_CONFIG_FILE": "/etc/pip.conf",
        "HOME": "/root",
        "JWT_SECRET": "s3cret",
    }
    proxy = plan.proxy_environment(environ)
    assert proxy == {"https_proxy": "http://proxy:3128", "NO_PROXY": "localhost"}
    assert plan.host_environment(proxy) == {
        "PATH": "/usr/sbin:/usr/bin:/sbin:/bin",
        "LC_ALL": "C.UTF-8",
        "PIP_CONFIG_FILE": "/dev/null",
        "https_proxy": "http://proxy:3128",
        "NO_PROXY": "localhost",
    }


def test_mmdebstrap_argv() -> None:
    assert plan.mmdebstrap_argv(DEF, ROOTFS, CA) == [
        "unshare",
        "--mount",
        "--propagation",
        "private",
        "--",
        "mmdebstrap",
        "--mode=root",
        "--variant=essential",
        "--format=directory",
        "--hook-dir=/hooks/merged-usr",
        "--include=python3,less",
        '--aptopt=Acquire::https::CaInfo "/etc/ssl/certs/ca-certificates.crt"',
        "--dpkgopt=path-exclude=/usr/share/doc/*",
        "--dpkgopt=path-include=/usr/share/doc/*/copyright",
        "bookworm",
        "/data/images/.build-abc-1/rootfs",
        "deb http://deb.example/debian bookworm main",
    ]


@pytest.mark.parametrize("path", ['/ca"bundle.pem', "/ca;.pem", "/ca\n.pem", "/ca{}.pem"])
def test_a_ca_path_apt_cannot_quote_is_refused(path: str) -> None:
    with pytest.raises(ValueError, match="unusable CA bundle path"):
        plan.apt_ca_option(Path(path))


def test_pip_install_argv() -> None:
    argv = plan.pip_install_argv(
        DEF,
        ROOTFS,
        ca_bundle=CA,
        bootstrap_pip="/usr/share/python-wheels/pip-23.0.1-py3-none-any.whl",
        proxy={"https_proxy": "http://proxy:3128"},
    )
    assert argv == [
        "bwrap",
        "--bind", "/data/images/.build-abc-1/rootfs", "/",
        "--dev", "/dev",
        "--proc", "/proc",
        "--tmpfs", "/tmp",
        "--tmpfs", "/run",
        "--ro-bind", "/etc/ssl/certs/ca-certificates.crt", "/run/sandpit-build/ca.pem",
        "--ro-bind", "/def/requirements.txt", "/run/sandpit-build/requirements.txt",
        "--ro-bind", "/etc/resolv.conf", "/etc/resolv.conf",
        "--unshare-pid", "--unshare-ipc", "--unshare-uts",
        "--die-with-parent",
        "--clearenv",
        "--setenv", "PATH", "/usr/local/bin:/usr/bin:/bin",
        "--setenv", "LANG", "C.UTF-8",
        "--setenv", "HOME", "/tmp",
        "--setenv", "PIP_CONFIG_FILE", "/dev/null",
        "--setenv", "PIP_DISABLE_PIP_VERSION_CHECK", "1",
        "--setenv", "https_proxy", "http://proxy:3128",
        "--setenv", "PYTHONPATH", "/usr/share/python-wheels/pip-23.0.1-py3-none-any.whl",
        "--chdir", "/",
        "--",
        "/usr/bin/python3", "-m", "pip", "install",
        "--no-cache-dir",
        "--no-input",
        "--progress-bar=off",
        "--break-system-packages",
        "--root-user-action=ignore",
        "--require-hashes",
        "--only-binary=:all:",
        "--cert", "/run/sandpit-build/ca.pem",
        "--requirement", "/run/sandpit-build/requirements.txt",
    ]  # fmt: skip


def test_compile_argv_runs_without_network() -> None:
    assert plan.compile_argv(DEF, ROOTFS) == [
        "bwrap",
        "--bind", "/data/images/.build-abc-1/rootfs", "/",
        "--dev", "/dev",
        "--proc", "/proc",
        "--tmpfs", "/tmp",
        "--tmpfs", "/run",
        "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-net",
        "--die-with-parent",
        "--clearenv",
        "--setenv", "PATH", "/usr/local/bin:/usr/bin:/bin",
        "--setenv", "LANG", "C.UTF-8",
        "--setenv", "HOME", "/tmp",
        "--setenv", "PIP_CONFIG_FILE", "/dev/null",
        "--setenv", "PIP_DISABLE_PIP_VERSION_CHECK", "1",
        "--chdir", "/",
        "--",
        "/usr/bin/python3", "-m", "compileall", "-q", "-j", "0",
        "/usr/local/lib/python3.11/dist-packages", "/usr/lib/python3.11",
    ]  # fmt: skip


def test_font_cache_argv_writes_into_the_image() -> None:
    argv = plan.font_cache_argv(DEF, ROOTFS)
    assert argv[-4:] == ["--", "/usr/bin/python3", "-c", "import matplotlib.font_manager"]
    assert "--unshare-net" in argv
    index = argv.index("MPLCONFIGDIR")
    assert argv[index - 1 : index + 2] == [
        "--setenv",
        "MPLCONFIGDIR",
        "/usr/local/share/sandpit/matplotlib",
    ]


def test_smoke_test_argv() -> None:
    argv = plan.smoke_test_argv(DEF, ROOTFS, Path("/data/images/.build-abc-1/smoke_test.py"))
    assert argv == [
        "setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--",
        "bwrap",
        "--ro-bind", "/data/images/.build-abc-1/rootfs", "/",
        "--dev", "/dev",
        "--proc", "/proc",
        "--tmpfs", "/tmp",
        "--ro-bind", "/data/images/.build-abc-1/smoke_test.py", "/tmp/sandpit-smoke-test.py",
        "--unshare-all",
        "--uid", "1000",
        "--gid", "1000",
        "--hostname", "sandpit",
        "--die-with-parent",
        "--new-session",
        "--clearenv",
        "--setenv", "PATH", "/usr/local/bin:/usr/bin:/bin",
        "--setenv", "LANG", "C.UTF-8",
        "--setenv", "HOME", "/tmp",
        "--setenv", "MPLCONFIGDIR", "/tmp/matplotlib",
        "--chdir", "/tmp",
        "--",
        "/usr/bin/python3", "/tmp/sandpit-smoke-test.py",
        "/usr/local/lib/python3.11/dist-packages",
    ]  # fmt: skip


def test_docker_import_changes() -> None:
    assert plan.docker_tag("0123456789abcdef") == "sandpit-runtime:0123456789abcdef"
    assert plan.docker_import_changes(DEF, "0123456789abcdef", "/srv/my data/images") == [
        "ENV PATH=/usr/local/bin:/usr/bin:/bin",
        "ENV LANG=C.UTF-8",
        "USER 1000:1000",
        "WORKDIR /app",
        "LABEL org.sandpit.runtime-image=0123456789abcdef",
        'LABEL org.sandpit.images-dir="/srv/my data/images"',
    ]
