"""The runtime image as a local Docker image, made from the same tree bubblewrap mounts.

No registry is involved: the image tree (`images/<hash>/rootfs`) is streamed
as a tar into the engine's import (`docker import`), tagged
`sandpit-runtime:<hash>` and labelled with the hash and the images
directory it came from. The hash names the content, so an image with that
tag is reused as it is; images of other hashes are removed when they are no
longer used (`prune_docker_images` says which: the engine may be shared).

    python -m sandpit.runtime.docker_image --data-dir DIR
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

import docker
import docker.errors
from docker import DockerClient

from sandpit.runtime import plan
from sandpit.runtime.definition import default_definition_dir, load_definition
from sandpit.runtime.image import RuntimeImage, find_image

log = logging.getLogger(__name__)

IMPORT_TIMEOUT_S = 600


class DockerImageError(RuntimeError):
    """The engine could not import the image; the message says why."""


def ensure_docker_image(client: DockerClient, image: RuntimeImage) -> str:
    """The tag of `image` in the local engine, importing the tree first if it is not there.

    Takes ~10 s for the 430 MB tree the first time, nothing afterwards.
    Raises `DockerImageError`.
    """
    tag = plan.docker_tag(image.image_hash)
    with contextlib.suppress(docker.errors.ImageNotFound):
        client.images.get(tag)
        return tag
    definition = load_definition(default_definition_dir())
    changes = plan.docker_import_changes(definition, image.image_hash, _images_dir(image))
    log.info("importing the runtime image %s into the Docker engine", tag)
    with tempfile.TemporaryDirectory(prefix="sandpit-docker-tmp-") as staging:
        return _import(client, image, tag, changes, Path(staging))


def _import(
    client: DockerClient, image: RuntimeImage, tag: str, changes: list[str], staging: Path
) -> str:
    repository, _, version = tag.partition(":")
    # The engine copies the image's /tmp (mode and all) into the tmpfs mounted
    # there, and the locked-down tree has it 0755: the tar takes /tmp from a
    # staging directory instead, as 1777 like any /tmp. Numeric owners keep
    # the tree exactly as built; an argument list and an empty environment,
    # never a shell.
    (staging / "tmp").mkdir()
    os.chmod(staging / "tmp", 0o1777)  # noqa: S103 - /tmp, sticky, as on every system
    tar_path = shutil.which("tar") or "/usr/bin/tar"
    argv = [tar_path, "--numeric-owner", "--owner=0", "--group=0", "-cf", "-"]
    argv += ["-C", str(image.rootfs), "--anchored", "--exclude=./tmp", "."]
    argv += ["-C", str(staging), "./tmp"]
    # As a context manager: both pipes are closed and tar waited for on every
    # path (an unclosed stderr pipe was a ResourceWarning, an error in tests).
    with subprocess.Popen(  # noqa: S603 - fixed arguments; the paths are the server's own
        argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={"PATH": "/usr/bin:/bin"}
    ) as tar:
        assert tar.stdout is not None
        assert tar.stderr is not None
        try:
            client.api.import_image(
                src=tar.stdout, repository=repository, tag=version, changes=changes, stream_src=True
            )
        except docker.errors.APIError as exc:
            tar.kill()
            raise DockerImageError(f"the engine refused the runtime image: {exc}") from exc
        finally:
            tar.stdout.close()
            stderr = tar.stderr.read().decode(errors="replace")
            code = tar.wait(IMPORT_TIMEOUT_S)
    if code != 0:
        with contextlib.suppress(docker.errors.APIError):
            client.images.remove(tag, force=True)
        raise DockerImageError(f"tar of {image.rootfs} failed ({code}): {stderr.strip()}")
    prune_docker_images(client, keep=image.image_hash, images_dir=image.directory.parent)
    return tag


def _images_dir(image: RuntimeImage) -> str:
    return str(image.directory.parent.resolve())


def prune_docker_images(client: DockerClient, keep: str, images_dir: Path) -> list[str]:
    """Remove the runtime images this images directory made and no longer has; return their tags.

    One Docker engine may serve several checkouts and data directories at
    once, each with its own runtime image (tests of two branches, a server
    and its tests), and several checkouts may share one data directory.
    So an image is removed only when all of these hold:
    - it was imported from `images_dir` (its label; images of another
      directory, and those imported before the label existed, are never
      touched);
    - its hash is not `keep`, and its tree is gone from `images_dir` (pruned
      by `python -m sandpit.runtime.image prune`): a tree still there may be
      another checkout's current image;
    - no container uses it, running or stopped (the engine refuses then).
    One case is left: two directories with the same hash share the one tag,
    and the first to drop its tree may remove the image while the other
    still needs it; the other then imports it again at its next start.
    """
    mine = str(images_dir.resolve())
    removed: list[str] = []
    for old in client.images.list(filters={"label": plan.DOCKER_IMAGES_DIR_LABEL}):
        image_hash = old.labels.get(plan.DOCKER_IMAGE_LABEL)
        if old.labels.get(plan.DOCKER_IMAGES_DIR_LABEL) != mine or not image_hash:
            continue
        if image_hash == keep or (images_dir / image_hash).exists():
            continue
        for tag in old.tags:
            try:
                client.images.remove(tag)
            except docker.errors.APIError as exc:  # in use by a container
                log.info("keeping old runtime image %s: %s", tag, exc)
            else:
                removed.append(tag)
    return removed


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", required=True, help="the data directory (images/ in it)")
    args = parser.parse_args(argv)
    image = find_image(Path(args.data_dir))
    if image is None:
        print("no runtime image is built; run `make image` first", file=sys.stderr)
        return 1
    try:
        client = docker.from_env()
        print(ensure_docker_image(client, image))
    except (docker.errors.DockerException, DockerImageError) as exc:
        print(f"cannot make the Docker image: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
