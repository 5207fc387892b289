"""Build, find and prune the runtime image; also the command line for it.

Layout under the data directory:

    images/.lock                      held (flock) by a build or a prune
    images/<hash>/rootfs/             the image tree: root-owned, writable by root only
    images/<hash>/image.json          written last: the build's record and completion marker
    images/.build-<hash>-<pid>/       a build in progress, renamed to <hash> when complete

`<hash>` is `definition_hash()` of the definition directory, so an image is
reused until its definition changes, and a complete image directory appears
atomically (one rename) or not at all.

    python -m sandpit.runtime.image build --data-dir DIR [--ca-bundle PATH]
    python -m sandpit.runtime.image path --data-dir DIR

Building needs root (mmdebstrap's root mode, chown), mmdebstrap, bubblewrap,
unshare and setpriv, and reaches Debian's mirrors and PyPI.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import fcntl
import json
import os
import shutil
import stat
import sys
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sandpit.runtime import plan
from sandpit.runtime.build import MARKER, ImageBuild
from sandpit.runtime.commands import CommandRunner, ImageBuildError, Progress, run_command
from sandpit.runtime.definition import (
    Definition,
    DefinitionError,
    default_definition_dir,
    definition_hash,
    load_definition,
)
from sandpit.runtime.lock import lock_requirements
from sandpit.runtime.tree import (
    TreeError,
    remove_tree,
)

DEFAULT_CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")
BUILD_PREFIX = ".build-"
REQUIRED_TOOLS = ("mmdebstrap", "bwrap", "unshare", "setpriv")


@dataclass(frozen=True)
class RuntimeImage:
    """A complete image: `rootfs` is ready to be mounted read-only as `/`."""

    image_hash: str
    directory: Path

    @property
    def rootfs(self) -> Path:
        return self.directory / "rootfs"

    def metadata(self) -> dict[str, Any]:
        """The build record: versions, size, build time, environment."""
        data: dict[str, Any] = json.loads((self.directory / MARKER).read_text())
        return data


def images_dir(data_dir: Path) -> Path:
    return data_dir / "images"


def _complete(data_dir: Path, image_hash: str) -> RuntimeImage | None:
    image = RuntimeImage(image_hash, images_dir(data_dir) / image_hash)
    if (image.directory / MARKER).is_file() and image.rootfs.is_dir():
        return image
    return None


def find_image(data_dir: Path, definition_dir: Path | None = None) -> RuntimeImage | None:
    """The complete image of the current definition, or None if it is not built."""
    root = definition_dir or default_definition_dir()
    return _complete(data_dir, definition_hash(root))


def list_images(data_dir: Path) -> list[RuntimeImage]:
    """Every complete image under the data directory, by hash."""
    base = images_dir(data_dir)
    if not base.is_dir():
        return []
    names = sorted(p.name for p in base.iterdir() if not p.name.startswith("."))
    return [image for name in names if (image := _complete(data_dir, name))]


def ensure_image(
    data_dir: Path,
    *,
    definition_dir: Path | None = None,
    ca_bundle: Path = DEFAULT_CA_BUNDLE,
    progress: Progress = print,
    runner: CommandRunner = run_command,
    environ: Mapping[str, str] | None = None,
) -> RuntimeImage:
    """Return the image of the definition, building it first if it is not there.

    `ca_bundle` is the CA bundle apt and pip trust during the build (a corporate
    proxy's CA goes in there); it is mounted into the build, never copied into
    the image. Of `environ` (default: this process's), only proxy variables
    reach the build. Concurrent callers wait for one another; the second finds
    the first's image. Raises ImageBuildError or DefinitionError.
    """
    root = definition_dir or default_definition_dir()
    definition = load_definition(root)
    image_hash = definition_hash(root)
    existing = _complete(data_dir, image_hash)
    if existing:
        progress(f"runtime image {image_hash} is up to date")
        return existing
    # A substitute runner (tests) needs no tools; the real one needs them all.
    _check_prerequisites(definition, ca_bundle, tools=runner is run_command)
    base = _prepare_images_dir(data_dir)
    with _lock(base, progress):
        existing = _complete(data_dir, image_hash)
        if existing:
            progress(f"runtime image {image_hash} was built meanwhile")
            return existing
        _remove_leftovers(base, image_hash, progress)
        work = base / f"{BUILD_PREFIX}{image_hash}-{os.getpid()}"
        work.mkdir()
        os.chmod(work, 0o755)  # noqa: S103 - sandbox users must reach the rootfs inside
        try:
            proxy = plan.proxy_environment(os.environ if environ is None else environ)
            builder = ImageBuild(
                definition=definition,
                image_hash=image_hash,
                work=work,
                ca_bundle=ca_bundle,
                proxy=proxy,
                progress=progress,
                runner=runner,
            )
            builder.run()
            os.rename(work, base / image_hash)
        except BaseException:
            with contextlib.suppress(OSError, TreeError):
                remove_tree(work)
            raise
    image = RuntimeImage(image_hash, base / image_hash)
    progress(f"runtime image {image_hash} is ready: {image.rootfs}")
    return image


def prune_images(data_dir: Path, keep: Collection[str], progress: Progress = print) -> list[str]:
    """Delete every image whose hash is not in `keep`, and abandoned builds.

    Call it only while no sandbox uses an image being deleted (for example at
    setup, before the server starts): a sandbox's read-only bind mount shares
    the files that are deleted here. Returns the names removed.
    """
    base = images_dir(data_dir)
    if not base.is_dir():
        return []
    removed = []
    with _lock(base, progress):
        for entry in sorted(base.iterdir()):
            if entry.name == ".lock" or entry.name in keep or not entry.is_dir():
                continue
            progress(f"removing {entry}")
            remove_tree(entry)
            removed.append(entry.name)
    return removed


def missing_tools() -> list[str]:
    """The host commands a real build needs that are not installed."""
    return [tool for tool in REQUIRED_TOOLS if shutil.which(tool, path=plan.HOST_PATH) is None]


def _check_prerequisites(definition: Definition, ca_bundle: Path, *, tools: bool) -> None:
    if os.geteuid() != 0:
        raise ImageBuildError("building the runtime image needs root (mmdebstrap --mode=root)")
    missing = missing_tools() if tools else []
    if missing:
        raise ImageBuildError(
            f"missing {', '.join(missing)}: apt-get install mmdebstrap bubblewrap util-linux"
        )
    for hook_dir in definition.hook_dirs if tools else ():
        if not Path(hook_dir).is_dir():
            raise ImageBuildError(f"mmdebstrap hook directory {hook_dir} is missing")
    if not definition.requirements.is_file():
        raise ImageBuildError(f"{definition.requirements} is missing: run the lock command")
    if not ca_bundle.is_file():
        raise ImageBuildError(f"CA bundle {ca_bundle} is not a file")


def _prepare_images_dir(data_dir: Path) -> Path:
    base = images_dir(data_dir)
    if not base.exists():
        base.mkdir(parents=True)
        os.chmod(base, 0o755)  # noqa: S103 - sandbox users must reach the images
    info = base.lstat()
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != 0:
        raise ImageBuildError(f"{base} must be a directory owned by root")
    if info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        # Others could swap a finished image for their own tree.
        raise ImageBuildError(f"{base} must not be writable by group or others")
    return base


@contextlib.contextmanager
def _lock(base: Path, progress: Progress) -> Iterator[None]:
    fd = os.open(base / ".lock", os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN):
                raise
            progress("waiting for another build of the runtime image to finish")
            fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _remove_leftovers(base: Path, image_hash: str, progress: Progress) -> None:
    """Under the lock: drop abandoned builds and an incomplete image directory."""
    for entry in base.iterdir():
        if entry.name.startswith(BUILD_PREFIX) or entry.name == image_hash:
            progress(f"removing the incomplete build {entry}")
            remove_tree(entry)


def _print_progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    """The command line; returns the exit status."""
    parser = argparse.ArgumentParser(
        prog="python -m sandpit.runtime.image", description="The Sandpit runtime image."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    build = commands.add_parser("build", help="build the image unless it is up to date")
    path = commands.add_parser("path", help="print the image's rootfs if it is built")
    show_hash = commands.add_parser("hash", help="print the definition's hash")
    listing = commands.add_parser("list", help="list the built images")
    prune = commands.add_parser("prune", help="delete images of other definitions")
    lock = commands.add_parser("lock", help="re-pin requirements.txt from requirements.in")
    for sub in (build, path, listing, prune):
        sub.add_argument("--data-dir", type=Path, required=True)
    for sub in (build, path, show_hash, prune, lock):
        sub.add_argument("--definition", type=Path, help="default: runtime/ of this checkout")
    for sub in (build, lock):
        sub.add_argument("--ca-bundle", type=Path, default=DEFAULT_CA_BUNDLE)
    args = parser.parse_args(argv)
    try:
        return _dispatch(args)
    except (ImageBuildError, DefinitionError, TreeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


def _dispatch(args: argparse.Namespace) -> int:
    command: str = args.command
    definition_dir: Path | None = getattr(args, "definition", None)
    if command == "build":
        image = ensure_image(
            args.data_dir,
            definition_dir=definition_dir,
            ca_bundle=args.ca_bundle,
            progress=_print_progress,
        )
        print(image.rootfs)
    elif command == "path":
        found = find_image(args.data_dir, definition_dir)
        if found is None:
            print("error: the runtime image is not built", file=sys.stderr)
            return 1
        print(found.rootfs)
    elif command == "hash":
        print(definition_hash(definition_dir or default_definition_dir()))
    elif command == "list":
        for image in list_images(args.data_dir):
            record = image.metadata()
            print(f"{image.image_hash}  {record.get('built_at', '?')}  {image.rootfs}")
    elif command == "prune":
        keep = {definition_hash(definition_dir or default_definition_dir())}
        for name in prune_images(args.data_dir, keep, progress=_print_progress):
            print(name)
    else:
        root = definition_dir or default_definition_dir()
        written = lock_requirements(
            load_definition(root), ca_bundle=args.ca_bundle, progress=_print_progress
        )
        print(written)
    return 0


if __name__ == "__main__":
    sys.exit(main())
