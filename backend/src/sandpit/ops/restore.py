"""`sandpit restore SRC`: bring a backup back into an empty data directory and database.

All or nothing, in three steps:
1. Refuse unless the target is empty: the data directory holds nothing but
   a runtime image (`images/`), and the database has no table.
2. Unpack the whole archive into a staging directory beside the data
   directory, checking every member against the manifest (size and SHA-256)
   and that nothing the manifest lists is missing. A truncated or corrupted
   archive stops here, before the target is touched.
3. Move the stores into place, make each workspace's volume and copy its
   files in, then load the database last (SQLite: one rename; PostgreSQL:
   one transaction). If any of it fails, everything put in place is removed
   again, so the target is left empty as it was found.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import subprocess
import tarfile
import uuid
from collections.abc import Iterator
from pathlib import Path

from sandpit.config import Settings
from sandpit.db import migrate
from sandpit.ops import database
from sandpit.ops.archive import CHUNK, MANIFEST, ROOT, BackupError, Manifest, members
from sandpit.workspaces.volume import Volumes, umount_argv

KEEP_IN_TARGET = frozenset({"images"})


def restore(settings: Settings, source: Path) -> Manifest:
    """Restore the backup at `source`; return its manifest. `BackupError` says why not."""
    if not source.is_file():
        raise BackupError(f"There is no backup at {source}.")
    url = settings.effective_database_url()
    _check_empty_target(settings, url)
    data_dir = settings.data_dir
    data_dir.mkdir(parents=True, exist_ok=True)
    staging = data_dir.parent / f".{data_dir.name}.restore-{uuid.uuid4().hex[:8]}"
    staging.mkdir(mode=0o700)
    try:
        manifest = _unpack(source, staging)
        revision = manifest.schema_revision
        if revision is not None and not migrate.knows(revision):
            raise BackupError(
                f"The backup's database is at schema revision {revision!r}, from a newer "
                "version of Sandpit; restore it with that version."
            )
        if manifest.database != database.kind(url):
            raise BackupError(
                f"The backup holds a {manifest.database} database but DATABASE_URL names "
                f"{database.kind(url)}; convert it with the database's own tools."
            )
        stage_root = staging / ROOT
        try:
            _place(settings, stage_root, manifest)
            _load_database(url, stage_root)
        except BaseException:
            _empty_target(settings)
            raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return manifest


def _check_empty_target(settings: Settings, url: str) -> None:
    if settings.data_dir.exists():
        found = sorted(set(os.listdir(settings.data_dir)) - KEEP_IN_TARGET)
        if found:
            raise BackupError(
                f"The data directory {settings.data_dir} is not empty ({', '.join(found[:5])}); "
                "restore only into an empty one."
            )
    if not database.is_empty(url):
        raise BackupError("The database is not empty; restore only into an empty database.")


def _unpack(source: Path, staging: Path) -> Manifest:
    """Extract every member into `staging`, checked against the manifest at the end."""
    seen: dict[str, list[object]] = {}
    links: dict[str, str] = {}
    manifest: Manifest | None = None
    staging_fd = os.open(staging, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
    try:
        for tar, member in members(source):
            if manifest is not None:
                raise BackupError("The backup has members after its manifest; it is damaged.")
            parts = _parts(member.name)
            if member.name == MANIFEST:
                manifest = Manifest.from_bytes(_read_member(tar, member))
            elif member.isfile():
                seen[member.name] = [member.size, _extract_file(tar, member, staging_fd, parts)]
            elif member.issym():
                links[member.name] = member.linkname
                with _parent(staging_fd, parts) as parent:
                    os.symlink(member.linkname, parts[-1], dir_fd=parent)
            elif member.isdir():
                with _parent(staging_fd, parts) as parent:
                    with contextlib.suppress(FileExistsError):
                        os.mkdir(parts[-1], 0o700, dir_fd=parent)
                    os.chmod(parts[-1], member.mode & 0o7777, dir_fd=parent, follow_symlinks=False)
            else:
                raise BackupError(f"The backup holds {member.name!r}, which is not a file.")
    except (tarfile.TarError, EOFError) as exc:
        raise BackupError(f"The backup is truncated or damaged ({exc}).") from exc
    finally:
        os.close(staging_fd)
    if manifest is None:
        raise BackupError("The backup has no manifest: it is truncated or incomplete.")
    _compare(manifest, seen, links)
    return manifest


def _parts(name: str) -> list[str]:
    """The checked components of a member's name: under ROOT, relative, no `..`."""
    parts = name.split("/")
    if parts[0] != ROOT or len(parts) < 2 or any(p in ("", ".", "..") for p in parts):
        raise BackupError(f"The backup holds {name!r}, outside {ROOT}/; it is not a backup.")
    return parts


@contextlib.contextmanager
def _parent(root_fd: int, parts: list[str]) -> Iterator[int]:
    """A descriptor of the member's parent folder, made as needed, never through a link."""
    fd = os.dup(root_fd)
    try:
        for part in parts[:-1]:
            with contextlib.suppress(FileExistsError):
                os.mkdir(part, 0o700, dir_fd=fd)
            child = os.open(
                part, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=fd
            )
            os.close(fd)
            fd = child
        yield fd
    finally:
        os.close(fd)


def _read_member(tar: tarfile.TarFile, member: tarfile.TarInfo) -> bytes:
    handle = tar.extractfile(member)
    assert handle is not None
    data = handle.read()
    if len(data) != member.size:
        raise BackupError(f"{member.name} is truncated in the backup.")
    return data


def _extract_file(
    tar: tarfile.TarFile, member: tarfile.TarInfo, root_fd: int, parts: list[str]
) -> str:
    """Write one file member into staging (a new file, never through a link); its SHA-256."""
    source = tar.extractfile(member)
    assert source is not None
    digest = hashlib.sha256()
    with _parent(root_fd, parts) as parent:
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
        fd = os.open(parts[-1], flags, member.mode & 0o777, dir_fd=parent)
    with open(fd, "wb") as target:
        while chunk := source.read(CHUNK):
            digest.update(chunk)
            target.write(chunk)
        if target.tell() != member.size:
            raise BackupError(f"{member.name} is truncated in the backup.")
        target.flush()
        os.utime(target.fileno(), (member.mtime, member.mtime))
    return digest.hexdigest()


def _compare(manifest: Manifest, seen: dict[str, list[object]], links: dict[str, str]) -> None:
    for name, expected in manifest.files.items():
        if name not in seen:
            raise BackupError(f"{name} is listed in the manifest but missing from the backup.")
        if seen[name] != list(expected):
            raise BackupError(
                f"{name} does not match its checksum in the manifest; the backup is corrupted."
            )
    extra = sorted(set(seen) - set(manifest.files))
    if extra:
        raise BackupError(f"{extra[0]} is in the backup but not in its manifest.")
    if links != manifest.links:
        raise BackupError("The backup's links differ from its manifest; the backup is damaged.")


def _place(settings: Settings, stage_root: Path, manifest: Manifest) -> None:
    """Move the stores and the workspaces from staging into the data directory."""
    data_dir = settings.data_dir
    stores = stage_root / "data"
    if stores.is_dir():
        for entry in sorted(os.listdir(stores)):
            os.rename(stores / entry, data_dir / entry)
    workspaces_dir = settings.workspaces_dir
    workspaces_dir.mkdir(exist_ok=True)
    volumes = Volumes(
        workspaces_dir, settings.workspace_quota_bytes, settings.workspace_quota_files
    )
    staged = stage_root / "workspaces"
    for workspace_id in manifest.workspaces:
        source = staged / workspace_id
        target = workspaces_dir / workspace_id
        if not settings.workspace_volumes:
            os.rename(source, target)
            continue
        volumes.create(target)
        try:
            _copy_into(source, target)
            _verify_placed(manifest, workspace_id, target)
        finally:
            _unmount(target)


def _verify_placed(manifest: Manifest, workspace_id: str, target: Path) -> None:
    """Check the files as they are now on the workspace's volume against the manifest."""
    prefix = f"{ROOT}/workspaces/{workspace_id}/"
    for name, (size, sha256) in manifest.files.items():
        if not name.startswith(prefix):
            continue
        path = target / name.removeprefix(prefix)
        digest = hashlib.sha256()
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
        with open(fd, "rb") as placed:
            while chunk := placed.read(CHUNK):
                digest.update(chunk)
            length = placed.tell()
        if (length, digest.hexdigest()) != (size, sha256):
            raise BackupError(f"{path} does not match the manifest after the restore.")


def _copy_into(source: Path, target: Path) -> None:
    """Copy the staged tree into the freshly made (empty, ours alone) volume."""
    for entry in sorted(os.listdir(source)):
        path = source / entry
        if path.is_symlink():
            os.symlink(os.readlink(path), target / entry)
        elif path.is_dir():
            shutil.copytree(path, target / entry, symlinks=True)
        else:
            shutil.copy2(path, target / entry, follow_symlinks=False)


def _unmount(directory: Path) -> None:
    # The server mounts the volume when the workspace is first used.
    if os.path.ismount(directory):
        subprocess.run(umount_argv(directory, lazy=False), check=False, env={})  # noqa: S603


def _load_database(url: str, stage_root: Path) -> None:
    if database.kind(url) == "sqlite":
        staged = stage_root / "database" / "sandpit.db"
        database.check_sqlite(staged)
        target = database.sqlite_path(url)
        target.parent.mkdir(parents=True, exist_ok=True)
        for suffix in ("-wal", "-shm", "-journal"):
            Path(f"{target}{suffix}").unlink(missing_ok=True)
        shutil.move(staged, target)
        return
    database.restore_postgres(url, stage_root / "database" / "postgres.dump")


def _empty_target(settings: Settings) -> None:
    """Undo a restore that failed part-way: the target was empty, so empty it again."""
    data_dir = settings.data_dir
    workspaces_dir = settings.workspaces_dir
    if workspaces_dir.is_dir():
        for entry in os.listdir(workspaces_dir):
            _unmount(workspaces_dir / entry)
    for entry in os.listdir(data_dir):
        if entry in KEEP_IN_TARGET:
            continue
        path = data_dir / entry
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
    url = settings.effective_database_url()
    if database.kind(url) == "postgresql":
        database.empty_postgres(url)
