"""Command lines of the image build, as pure functions of their inputs.

Every external command the builder runs is built here as an argument list and
tested by exact comparison. Nothing here touches the file system or the
environment; `image.py` runs the commands.

The build runs in a clean environment, never the caller's: the host's pip
configuration, its variables and its home must not leak into the image. Only
proxy variables pass through (a corporate network needs them), and the CA
bundle is an explicit setting handed to apt and pip; it is mounted into the
build sandbox, never copied into the image.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path

from sandpit.runtime.definition import Definition

HOST_PATH = "/usr/sbin:/usr/bin:/sbin:/bin"
PROXY_VARIABLES = ("http_proxy", "https_proxy", "no_proxy", "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY")

# Inside the build sandbox: a tmpfs, so nothing mounted here stays in the image.
BUILD_MOUNT = "/run/sandpit-build"
CA_IN_BUILD = f"{BUILD_MOUNT}/ca.pem"
REQUIREMENTS_IN_BUILD = f"{BUILD_MOUNT}/requirements.txt"
# The image's /tmp: always a fresh tmpfs inside the sandbox, never the host's.
IMAGE_TMP = "/tmp"  # noqa: S108
SMOKE_TEST_IN_IMAGE = f"{IMAGE_TMP}/sandpit-smoke-test.py"

# The smoke test runs bubblewrap as this unprivileged host user (nobody), as a
# sandbox will: it proves the image is readable, and only readable, without root.
SMOKE_TEST_HOST_UID = 65534
SANDBOX_UID = 1000

DOCKER_REPOSITORY = "sandpit-runtime"


def proxy_environment(environ: Mapping[str, str]) -> dict[str, str]:
    """The proxy variables of `environ`, the only part of it a build sees."""
    return {name: environ[name] for name in PROXY_VARIABLES if name in environ}


def host_environment(proxy: Mapping[str, str]) -> dict[str, str]:
    """The whole environment of a build command run on the host (like `env -i`)."""
    return {"PATH": HOST_PATH, "LC_ALL": "C.UTF-8", "PIP_CONFIG_FILE": "/dev/null", **proxy}


def apt_ca_option(ca_bundle: Path) -> str:
    """The apt option that makes HTTPS mirrors trust `ca_bundle`.

    Raises ValueError for a path apt's configuration syntax cannot carry.
    """
    text = str(ca_bundle)
    if any(c in text for c in '"\n;{}'):
        raise ValueError(f"unusable CA bundle path: {text!r}")
    return f'Acquire::https::CaInfo "{text}"'


def mmdebstrap_argv(definition: Definition, target: Path, ca_bundle: Path) -> list[str]:
    """Bootstrap the Debian part of the image into the empty directory `target`.

    mmdebstrap runs in a private mount namespace, so the /proc, /sys and /dev
    mounts it makes in the chroot cannot outlive it, even if it is killed.
    """
    return [
        "unshare",
        "--mount",
        "--propagation",
        "private",
        "--",
        "mmdebstrap",
        "--mode=root",
        f"--variant={definition.variant}",
        "--format=directory",
        *(f"--hook-dir={hook_dir}" for hook_dir in definition.hook_dirs),
        "--include=" + ",".join(definition.packages),
        f"--aptopt={apt_ca_option(ca_bundle)}",
        *(f"--dpkgopt=path-exclude={p}" for p in definition.dpkg_path_exclude),
        *(f"--dpkgopt=path-include={p}" for p in definition.dpkg_path_include),
        definition.suite,
        str(target),
        *definition.sources,
    ]


def build_sandbox_argv(
    rootfs: Path,
    command: Sequence[str],
    *,
    env: Mapping[str, str],
    network: bool,
    ro_binds: Sequence[tuple[Path, str]] = (),
) -> list[str]:
    """Run `command` as root in the writable image tree, in its own namespaces.

    This is a build step, not a sandbox for user code: it runs trusted
    installers. Mounts made here (the CA bundle, the requirements, /proc) exist
    only in bubblewrap's mount namespace; the host's resolver is mounted for
    steps with network (it leaves an empty mount point that the builder removes).
    """
    argv = ["bwrap", "--bind", str(rootfs), "/", "--dev", "/dev", "--proc", "/proc"]
    argv += ["--tmpfs", IMAGE_TMP, "--tmpfs", "/run"]
    for source, destination in ro_binds:
        argv += ["--ro-bind", str(source), destination]
    if network:
        argv += ["--ro-bind", "/etc/resolv.conf", "/etc/resolv.conf"]
    argv += ["--unshare-pid", "--unshare-ipc", "--unshare-uts"]
    if not network:
        argv.append("--unshare-net")
    argv += ["--die-with-parent", "--clearenv"]
    for name, value in env.items():
        argv += ["--setenv", name, value]
    argv += ["--chdir", "/", "--", *command]
    return argv


def build_environment(definition: Definition, proxy: Mapping[str, str]) -> dict[str, str]:
    """The environment of commands run inside the build sandbox."""
    return {
        "PATH": definition.env.get("PATH", HOST_PATH),
        "LANG": "C.UTF-8",
        "HOME": IMAGE_TMP,
        "PIP_CONFIG_FILE": "/dev/null",
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
        **proxy,
    }


def pip_install_argv(
    definition: Definition,
    rootfs: Path,
    *,
    ca_bundle: Path,
    bootstrap_pip: str,
    proxy: Mapping[str, str],
) -> list[str]:
    """Install the pinned requirements into the image's system site-packages.

    pip runs inside the image, with the image's own python, so every wheel is
    chosen for the image's interpreter and glibc, not the host's. It is started
    from the pip wheel Debian ships for venvs (`bootstrap_pip`, a path in the
    image), the way ensurepip runs it: no Debian python3-pip is needed, and the
    requirements bring a current pip. Hashes are required and only wheels
    accepted, so nothing is compiled and nothing unpinned gets in.
    """
    env = {**build_environment(definition, proxy), "PYTHONPATH": bootstrap_pip}
    command = [
        definition.interpreter,
        "-m",
        "pip",
        "install",
        "--no-cache-dir",
        "--no-input",
        "--progress-bar=off",
        "--break-system-packages",
        "--root-user-action=ignore",
        "--require-hashes",
        "--only-binary=:all:",
        "--cert",
        CA_IN_BUILD,
        "--requirement",
        REQUIREMENTS_IN_BUILD,
    ]
    binds = [(ca_bundle, CA_IN_BUILD), (definition.requirements, REQUIREMENTS_IN_BUILD)]
    return build_sandbox_argv(rootfs, command, env=env, network=True, ro_binds=binds)


def compile_argv(definition: Definition, rootfs: Path) -> list[str]:
    """Byte-compile the image's Python code, so a read-only image imports fast."""
    command = [definition.interpreter, "-m", "compileall", "-q", "-j", "0"]
    command += definition.compile_paths
    env = build_environment(definition, {})
    return build_sandbox_argv(rootfs, command, env=env, network=False)


def font_cache_argv(definition: Definition, rootfs: Path) -> list[str]:
    """Build matplotlib's font list into `definition.matplotlib_cache`."""
    env = {**build_environment(definition, {}), "MPLCONFIGDIR": definition.matplotlib_cache}
    command = [definition.interpreter, "-c", "import matplotlib.font_manager"]
    return build_sandbox_argv(rootfs, command, env=env, network=False)


def smoke_test_argv(definition: Definition, rootfs: Path, smoke_test: Path) -> list[str]:
    """Run the definition's smoke test in the finished, read-only image.

    As a sandbox would: an unprivileged host user, uid 1000 inside, every
    namespace new, no network. `smoke_test` is a host path readable by that user.
    """
    env = {**definition.env, "HOME": IMAGE_TMP, "MPLCONFIGDIR": f"{IMAGE_TMP}/matplotlib"}
    argv = [
        "setpriv",
        f"--reuid={SMOKE_TEST_HOST_UID}",
        f"--regid={SMOKE_TEST_HOST_UID}",
        "--clear-groups",
        "--",
        "bwrap",
        "--ro-bind",
        str(rootfs),
        "/",
        "--dev",
        "/dev",
        "--proc",
        "/proc",
        "--tmpfs",
        IMAGE_TMP,
        "--ro-bind",
        str(smoke_test),
        SMOKE_TEST_IN_IMAGE,
        "--unshare-all",
        "--uid",
        str(SANDBOX_UID),
        "--gid",
        str(SANDBOX_UID),
        "--hostname",
        "sandpit",
        "--die-with-parent",
        "--new-session",
        "--clearenv",
    ]
    for name, value in env.items():
        argv += ["--setenv", name, value]
    argv += ["--chdir", IMAGE_TMP, "--", definition.interpreter, SMOKE_TEST_IN_IMAGE]
    argv.append(definition.site_packages)
    return argv


def docker_tag(image_hash: str) -> str:
    """The local Docker image name of the runtime image `image_hash`."""
    return f"{DOCKER_REPOSITORY}:{image_hash}"


DOCKER_IMAGE_LABEL = "org.sandpit.runtime-image"
# The images directory (resolved) whose tree an image was imported from: the
# owner that may remove it (`docker_image.prune_docker_images`).
DOCKER_IMAGES_DIR_LABEL = "org.sandpit.images-dir"


def docker_import_changes(definition: Definition, image_hash: str, images_dir: str) -> list[str]:
    """The Dockerfile instructions `docker import` records on the image tree.

    The definition's environment, the sandbox user, the workspace as working
    directory, a label with the hash to find the image by, and one with the
    images directory it came from (quoted: a path may hold spaces).
    """
    changes = [f"ENV {name}={value}" for name, value in definition.env.items()]
    changes += [f"USER {SANDBOX_UID}:{SANDBOX_UID}", "WORKDIR /app"]
    changes.append(f"LABEL {DOCKER_IMAGE_LABEL}={image_hash}")
    changes.append(f"LABEL {DOCKER_IMAGES_DIR_LABEL}={json.dumps(images_dir)}")
    return changes
