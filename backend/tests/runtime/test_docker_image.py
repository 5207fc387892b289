"""Pruning runtime images from a Docker engine that other checkouts share, against the real engine.

Each image here is a one-file tree imported under the runtime image's name
with test hashes, labelled as `ensure_docker_image` labels its imports; the
images directories are the test's own, so no real image is a candidate.
"""

from __future__ import annotations

import contextlib
import io
import json
import tarfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import docker.errors
import pytest
from docker import DockerClient

from sandpit.runtime import plan
from sandpit.runtime.docker_image import prune_docker_images
from tests.sandbox.docker_harness import engine


def one_file_tree() -> bytes:
    data = io.BytesIO()
    with tarfile.open(fileobj=data, mode="w") as tar:
        info = tarfile.TarInfo("marker")
        info.size = 1
        tar.addfile(info, io.BytesIO(b"x"))
    return data.getvalue()


@pytest.fixture
def made() -> Iterator[list[str]]:
    """Tags and container ids this test made, removed at its end whatever happened."""
    things: list[str] = []
    yield things
    client = engine()
    for thing in reversed(things):
        with contextlib.suppress(docker.errors.NotFound):
            if ":" in thing:
                client.images.remove(thing, force=True)
            else:
                client.containers.get(thing).remove(force=True)


def import_image(
    client: DockerClient, made: list[str], image_hash: str, images_dir: Path | None
) -> str:
    tag = plan.docker_tag(image_hash)
    changes = [f"LABEL {plan.DOCKER_IMAGE_LABEL}={image_hash}"]
    if images_dir is not None:
        quoted = json.dumps(str(images_dir.resolve()))  # as docker_import_changes quotes it
        changes.append(f"LABEL {plan.DOCKER_IMAGES_DIR_LABEL}={quoted}")
    repository, _, version = tag.partition(":")
    client.api.import_image_from_data(
        one_file_tree(), repository=repository, tag=version, changes=changes
    )
    made.append(tag)
    return tag


def exists(client: DockerClient, tag: str) -> bool:
    try:
        client.images.get(tag)
    except docker.errors.ImageNotFound:
        return False
    return True


def test_only_this_directorys_unused_images_whose_tree_is_gone_are_removed(
    tmp_path: Path, made: list[str]
) -> None:
    client = engine()
    mine, other = tmp_path / "my data" / "images", tmp_path / "other" / "images"
    mine.mkdir(parents=True)
    other.mkdir(parents=True)
    run = uuid.uuid4().hex[:8]
    hashes = {name: f"test{run}{name}" for name in ("kept", "gone", "tree", "used", "other", "old")}
    (mine / hashes["tree"]).mkdir()  # another checkout's current image, same data directory
    tags = {
        "kept": import_image(client, made, hashes["kept"], mine),
        "gone": import_image(client, made, hashes["gone"], mine),
        "tree": import_image(client, made, hashes["tree"], mine),
        "used": import_image(client, made, hashes["used"], mine),
        "other": import_image(client, made, hashes["other"], other),  # another data directory's
        "old": import_image(client, made, hashes["old"], None),  # imported before the label
    }
    # A stopped container still uses its image: the engine refuses to remove it.
    container = client.containers.create(tags["used"], command=["/marker"])
    made.append(container.id)

    removed = prune_docker_images(client, keep=hashes["kept"], images_dir=mine)

    assert removed == [tags["gone"]]
    assert {name for name, tag in tags.items() if exists(client, tag)} == {
        "kept",
        "tree",
        "used",
        "other",
        "old",
    }
