"""`sandpit backup DEST`: one consistent archive of a running (or stopped) server.

Order matters: the database is copied first, then the stores under the data
directory, then the workspaces. Blobs are written before the rows that name
them, and the server deletes none while the backup holds them pinned (from
before the database copy until the stores are copied: `history.blobs.pinned`),
so every blob the copied database refers to is on disk when the stores are
copied; a workspace created after the database copy is
included too (restoring an unreferenced folder is harmless).

Never a torn file:
- A workspace on its own volume that is mounted (in use) is frozen
  (FIFREEZE) while it is read: writers wait, and the copy is the
  filesystem at one instant. An idle volume is mounted privately under the
  image's lock (see `Volumes.ensure_mounted`), so the server cannot mount it
  meanwhile.
- Any other file is read into a temporary copy, and its size and change
  time compared before and after; a file that changed is read again. One
  that vanishes between the listing and the read (a blob's temporary name,
  renamed) is left out: it is not data yet, or not any more.

The whole backup holds `freeze_lock`, so two backups never run at once and
a volume left frozen by a killed backup is thawed first (see
`sandpit.workspaces.freeze`).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import os
import stat
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from sandpit import __version__
from sandpit.config import Settings
from sandpit.history import blobs
from sandpit.ops import database
from sandpit.ops.archive import ArchiveWriter, BackupError, Manifest
from sandpit.workspaces import freeze
from sandpit.workspaces.volume import UMOUNT, Volumes, image_lock, mount_argv

log = logging.getLogger(__name__)

# Entries of the data directory a backup leaves out: each is rebuilt or is
# live state of one running process (`imports/` only ever holds the unnamed
# spool files of uploads in progress). Everything else is included.
REBUILDABLE = frozenset({"images", "sandboxes", "trash", "cache", "imports", "server.log"})
SECRETS = frozenset({"jwt_secret"})
STABLE_TRIES = 5
# Settings that are secret or say where this server's data is (a restore
# uses its own): never written to settings.json.
PRIVATE_SETTINGS = frozenset({"jwt_secret", "database_url"})
DATED_PREFIX = "sandpit-"


def backup(settings: Settings, destination: Path, *, include_secrets: bool = False) -> Manifest:
    """Write the backup to `destination` (which must not exist); return its manifest.

    The archive is written to `destination.partial` and renamed when
    complete, so `destination` is either a whole backup or absent. Gzip is
    used when the name ends in `.gz` or `.tgz`.
    """
    if destination.exists():
        raise BackupError(f"{destination} exists already; choose a new name.")
    url = settings.effective_database_url()
    manifest = Manifest(
        sandpit_version=__version__,
        schema_revision=database.revision(url),
        database=database.kind(url),
        created_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    )
    partial = destination.with_name(destination.name + ".partial")
    mode = "w:gz" if destination.name.endswith((".gz", ".tgz")) else "w"
    with freeze.freeze_lock(settings.workspaces_dir, wait=True):
        freeze.thaw_left_frozen(settings.workspaces_dir)
        try:
            with tarfile.open(partial, mode) as tar:  # type: ignore[call-overload]
                writer = ArchiveWriter(tar, manifest)
                # Every blob the copied rows name stays on disk until copied.
                with blobs.pinned(settings.blobs_dir):
                    _database(writer, url)
                    _stores(writer, settings, include_secrets=include_secrets)
                _workspaces(writer, settings)
                writer.data("settings.json", _settings_json(settings))
                writer.finish()
            os.replace(partial, destination)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
    return manifest


def dated_destination(folder: Path) -> Path:
    """A new archive name in `folder`, named for the time (UTC) so names sort by age."""
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    return folder / f"{DATED_PREFIX}{stamp}.tar.gz"


def prune(folder: Path, keep: int) -> list[Path]:
    """Delete all but the newest `keep` dated backups in `folder`; return those deleted."""
    dated = sorted(folder.glob(f"{DATED_PREFIX}*.tar.gz"))
    doomed = dated[: max(0, len(dated) - max(keep, 1))]
    for path in doomed:
        path.unlink()
    return doomed


def _database(writer: ArchiveWriter, url: str) -> None:
    with tempfile.TemporaryDirectory(prefix="sandpit-backup-") as scratch:
        if writer.manifest.database == "sqlite":
            copy = Path(scratch) / "sandpit.db"
            database.copy_sqlite(url, copy)
            name = "database/sandpit.db"
        else:
            copy = Path(scratch) / "postgres.dump"
            database.dump_postgres(url, copy)
            name = "database/postgres.dump"
        with open(copy, "rb") as source:
            info = os.fstat(source.fileno())
            writer.file(name, source, info.st_size, 0o600, info.st_mtime)


def _excluded(settings: Settings, include_secrets: bool) -> set[str]:
    excluded = set(REBUILDABLE) | {"workspaces"}
    if not include_secrets:
        excluded |= SECRETS
    if database.kind(settings.effective_database_url()) == "sqlite":
        db = database.sqlite_path(settings.effective_database_url())
        if db.parent == settings.data_dir:
            excluded |= {db.name + suffix for suffix in ("", "-wal", "-shm", "-journal")}
    return excluded


def _stores(writer: ArchiveWriter, settings: Settings, *, include_secrets: bool) -> None:
    """Every entry of the data directory but the rebuildable ones, under `data/`."""
    excluded = _excluded(settings, include_secrets)
    root = settings.data_dir
    if not root.is_dir():
        return
    for entry in sorted(os.listdir(root)):
        if entry in excluded or entry.startswith(".restore-"):
            continue
        _copy_tree(writer, root / entry, f"data/{entry}", frozen=False)


def _workspaces(writer: ArchiveWriter, settings: Settings) -> None:
    root = settings.workspaces_dir
    if not root.is_dir():
        return
    volumes = Volumes(root, settings.workspace_quota_bytes, settings.workspace_quota_files)
    for entry in sorted(os.listdir(root)):
        directory = root / entry
        if entry.endswith(".img") or not directory.is_dir() or directory.is_symlink():
            continue
        image = volumes.image_of(directory)
        try:
            if image.is_file():
                _volume(writer, directory, image, entry)
            else:
                _copy_tree(writer, directory, f"workspaces/{entry}", frozen=False)
        except FileNotFoundError:
            # Deleted while the backup ran: it is gone from the database too.
            log.info("workspace %s vanished during the backup", entry)
            writer.manifest.skipped.append(entry)
            continue
        writer.manifest.workspaces.append(entry)


def _volume(writer: ArchiveWriter, directory: Path, image: Path, name: str) -> None:
    """Copy a workspace volume: frozen if the server has it mounted, else mounted privately."""
    if os.path.ismount(directory):
        with freeze.frozen(directory) as root_fd:
            _copy_dir(writer, root_fd, f"workspaces/{name}", frozen=True)
        return
    with image_lock(image) as present:
        if not present:
            raise FileNotFoundError(image)
        if os.path.ismount(directory):  # the server mounted it before we locked
            with freeze.frozen(directory) as root_fd:
                _copy_dir(writer, root_fd, f"workspaces/{name}", frozen=True)
            return
        with tempfile.TemporaryDirectory(prefix="sandpit-backup-mnt-") as mount_point:
            _mount(mount_argv(image, Path(mount_point)))
            try:
                _copy_tree(writer, Path(mount_point), f"workspaces/{name}", frozen=True)
            finally:
                _mount([UMOUNT, mount_point])


def _mount(argv: list[str]) -> None:
    result = subprocess.run(argv, capture_output=True, text=True, check=False, env={})  # noqa: S603
    if result.returncode != 0:
        raise BackupError(f"Could not run {argv[0]}: {result.stderr.strip()}")


def _copy_tree(writer: ArchiveWriter, top: Path, name: str, *, frozen: bool) -> None:
    """Add `top` (a file or a tree) as `name`, never following a link."""
    top_stat = os.lstat(top)
    if stat.S_ISREG(top_stat.st_mode):
        _copy_file(writer, top, name, frozen=frozen)
    elif stat.S_ISDIR(top_stat.st_mode):
        fd = os.open(top, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
        try:
            _copy_dir(writer, fd, name, frozen=frozen)
        finally:
            os.close(fd)


def _copy_dir(writer: ArchiveWriter, top_fd: int, name: str, *, frozen: bool) -> None:
    """Add the tree under the directory `top_fd` as `name`, walking by descriptors."""
    for dirpath, dirnames, filenames, dir_fd in os.fwalk(".", dir_fd=top_fd):
        relative = os.path.normpath(dirpath)
        base = name if relative == "." else f"{name}/{relative}"
        info = os.fstat(dir_fd)
        writer.directory(base, info.st_mode, info.st_mtime)
        for entry in sorted(filenames + [d for d in dirnames if _is_link(d, dir_fd)]):
            try:
                _copy_entry(writer, entry, dir_fd, f"{base}/{entry}", frozen=frozen)
            except FileNotFoundError:
                if frozen:  # nothing can vanish from a frozen or private volume
                    raise
                log.info("%s/%s vanished during the backup", base, entry)


def _copy_entry(writer: ArchiveWriter, entry: str, dir_fd: int, name: str, *, frozen: bool) -> None:
    entry_stat = os.stat(entry, dir_fd=dir_fd, follow_symlinks=False)
    if stat.S_ISLNK(entry_stat.st_mode):
        target = os.readlink(entry, dir_fd=dir_fd)
        writer.link(name, target, entry_stat.st_mtime)
    elif stat.S_ISREG(entry_stat.st_mode):
        fd = os.open(entry, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=dir_fd)
        with open(fd, "rb") as source:
            _add_open_file(writer, source, name, frozen=frozen)
    # Sockets, FIFOs and devices are not data: left out.


def _is_link(name: str, dir_fd: int) -> bool:
    try:
        return stat.S_ISLNK(os.stat(name, dir_fd=dir_fd, follow_symlinks=False).st_mode)
    except FileNotFoundError:
        return False


def _copy_file(writer: ArchiveWriter, path: Path, name: str, *, frozen: bool) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    with open(fd, "rb") as source:
        _add_open_file(writer, source, name, frozen=frozen)


def _add_open_file(writer: ArchiveWriter, source: IO[bytes], name: str, *, frozen: bool) -> None:
    before = os.fstat(source.fileno())
    if frozen:
        writer.file(name, source, before.st_size, before.st_mode, before.st_mtime)
        return
    with _stable_copy(source, name) as (copy, info):
        writer.file(name, copy, info.st_size, info.st_mode, info.st_mtime)


@contextlib.contextmanager
def _stable_copy(source: IO[bytes], name: str) -> Iterator[tuple[IO[bytes], os.stat_result]]:
    """A private copy of `source`, taken while it did not change.

    Raises `BackupError` if it never held still in `STABLE_TRIES` reads.
    """
    for _ in range(STABLE_TRIES):
        before = os.fstat(source.fileno())
        with tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024) as copy:
            source.seek(0)
            while chunk := source.read(1024 * 1024):
                copy.write(chunk)
            after = os.fstat(source.fileno())
            if _same(before, after) and copy.tell() == after.st_size:
                copy.seek(0)
                yield copy, after
                return
    raise BackupError(f"{name} kept changing while it was copied; run the backup again.")


def _same(a: os.stat_result, b: os.stat_result) -> bool:
    return (a.st_size, a.st_mtime_ns, a.st_ctime_ns) == (b.st_size, b.st_mtime_ns, b.st_ctime_ns)


def _settings_json(settings: Settings) -> bytes:
    values = settings.model_dump(mode="json", exclude=set(PRIVATE_SETTINGS))
    return json.dumps(values, indent=1, sort_keys=True).encode() + b"\n"
