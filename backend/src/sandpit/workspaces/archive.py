"""A workspace as a zip: streamed out (export), checked and unpacked (import).

Export (`export_zip`) yields the zip in chunks as it is made, one file at a
time read in 64 KiB pieces through `WorkspaceFS.open_file` (never following
a link), so the server holds a few chunks, never the workspace. Links and
special files are left out, and so is `.local/` (pip's installs) unless asked.
`stream_zip` is the streaming part alone, which a snapshot's export
(`sandpit.history.export`) shares so both zips have the same layout.

Import is two steps, so that a refused zip writes nothing:

1. `check_zip` reads the zip (a file on disk, never in memory) and refuses,
   with a sentence naming the entry, anything unsafe (400: an absolute path,
   ``..``, a name the file API refuses, a link, a device or other special
   file, an encrypted entry, a duplicate), too large (413: more files or
   bytes than the quota), or a zip bomb (413: the entries really expand past
   the quota or past `max_ratio` times their compressed size). The central
   directory's size is bounded before it is parsed, and every entry is
   decompressed once here, counting the bytes that come out: the sizes in
   the zip's headers are never trusted (a header that understates its entry
   fails the check against the data). Not a zip: 415.
2. `unpack` writes the checked entries into a workspace through
   `WorkspaceFS.write_from` (atomic per file, no link followed).
"""

from __future__ import annotations

import os
import stat
import struct
import time
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import BinaryIO

from sandpit.errors import BadRequest, NotFound, PayloadTooLarge, UnsupportedMediaType
from sandpit.workspaces._checks import human_size
from sandpit.workspaces._tree import is_reserved
from sandpit.workspaces.fs import WorkspaceFS
from sandpit.workspaces.paths import join_display, validate_path

__all__ = [
    "ImportPlan",
    "ZipMember",
    "check_zip",
    "export_zip",
    "read_chunks",
    "stream_zip",
    "unpack",
]

CHUNK = 64 * 1024
LOCAL_DIR = ".local"
# The expansion ratio is judged only once this many bytes came out: small
# text files legitimately compress a lot, and a few MiB harm no one.
RATIO_FLOOR = 1024 * 1024
# A central directory record is 46 bytes plus its name and extra fields; past
# this size per allowed entry, the directory is refused before it is parsed
# (a zip of millions of empty entries would otherwise cost a lot of memory).
_DIRECTORY_BYTES_PER_ENTRY = 46 + 1024 + 256

# A zip member to stream: its path, its modification time (seconds since the
# epoch) and its content in chunks.
ZipMember = tuple[str, float, Iterable[bytes]]


# --- export ------------------------------------------------------------------------


class _Sink:
    """A write-only, non-seekable file that zipfile writes into; `take` empties it."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []
        self._offset = 0

    def write(self, data: bytes, /) -> int:
        self._parts.append(bytes(data))
        self._offset += len(data)
        return len(data)

    def tell(self) -> int:
        return self._offset

    def flush(self) -> None:
        pass

    def close(self) -> None:
        pass

    def take(self) -> bytes:
        data = b"".join(self._parts)
        self._parts.clear()
        return data


def export_paths(fs: WorkspaceFS, *, include_local: bool) -> list[str]:
    """The regular files an export holds, sorted; `.local/` only if `include_local`.

    Raises `PayloadTooLarge` if the tree is too big to list (see `WorkspaceFS.list`).
    """
    return [
        entry.path
        for entry in fs.list()
        if entry.kind == "file"
        and (include_local or not (entry.path + "/").startswith(LOCAL_DIR + "/"))
    ]


def export_zip(fs: WorkspaceFS, paths: list[str]) -> Iterator[bytes]:
    """Yield a zip of the files `paths` of `fs`, chunk by chunk (see the module docstring).

    A file that vanished, became a link or cannot be read since it was listed
    is left out (the workspace is live: sandbox code may change it meanwhile).
    """
    return stream_zip(_workspace_members(fs, paths))


def _workspace_members(fs: WorkspaceFS, paths: list[str]) -> Iterator[ZipMember]:
    for path in paths:
        try:
            with fs.open_file(path) as fd:
                # The file stays open while the zip reads the chunks: the next
                # member is asked for only once this one is written.
                yield path, os.fstat(fd).st_mtime, read_chunks(fd)
        except (NotFound, BadRequest):
            continue


def read_chunks(fd: int) -> Iterator[bytes]:
    """The content of the open file `fd` from its current offset, `CHUNK` bytes at a time."""
    while chunk := os.read(fd, CHUNK):
        yield chunk


def stream_zip(members: Iterable[ZipMember]) -> Iterator[bytes]:
    """Yield a zip of `members` (path, modification time, content in chunks), as it is made.

    The layout every export shares: each member at its workspace path,
    deflated (level 1: exports are about speed, not size), mode 0644, its
    time from `mtime`. Only the few chunks not yet yielded are held, never
    a whole file. An exception from a member's chunks ends the zip there
    (raised to the caller): an export never hides a file it could not read
    whole behind a well-formed zip.
    """
    sink = _Sink()
    # zipfile writes data descriptors to a stream it cannot seek.
    with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        for path, mtime, chunks in members:
            info = zipfile.ZipInfo(path, _zip_time(mtime))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = (stat.S_IFREG | 0o644) << 16
            with zf.open(info, "w") as member:
                for chunk in chunks:
                    member.write(chunk)
                    if out := sink.take():
                        yield out
            if out := sink.take():
                yield out
    if out := sink.take():
        yield out


def _zip_time(mtime: float) -> tuple[int, int, int, int, int, int]:
    year, month, day, hour, minute, second = time.localtime(max(mtime, 315532800))[:6]
    return (min(year, 2107), month, day, hour, minute, second)


# --- import ------------------------------------------------------------------------


@dataclass(frozen=True)
class ImportPlan:
    """A checked zip: the files to write (workspace path -> zip member), their real sizes."""

    files: dict[str, zipfile.ZipInfo]
    sizes: dict[str, int]
    folders: list[str]

    @property
    def total_bytes(self) -> int:
        return sum(self.sizes.values())


def check_zip(source: BinaryIO, *, max_files: int, max_bytes: int, max_ratio: int) -> ImportPlan:
    """Check the zip in `source` entry by entry; the plan to unpack it, or a refusal.

    `source` is a seekable binary file. Raises `UnsupportedMediaType` (not a
    zip), `BadRequest` (an unsafe entry), `PayloadTooLarge` (more than
    `max_files` files or `max_bytes` bytes, or a zip bomb). See the module
    docstring.
    """
    _check_directory_size(source, max_files)
    try:
        archive = zipfile.ZipFile(source)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError):
        raise UnsupportedMediaType("The upload is not a zip file.") from None
    with archive:
        files: dict[str, zipfile.ZipInfo] = {}
        folders: list[str] = []
        seen: set[str] = set()
        for info in archive.infolist():
            path, is_folder = _entry_path(info)
            if path in seen:
                raise BadRequest(f"The zip holds '{path}' twice; refusing it.")
            seen.add(path)
            (folders.append(path) if is_folder else files.__setitem__(path, info))
            if len(files) > max_files or len(seen) > 2 * max_files:
                raise PayloadTooLarge(
                    f"The zip holds more than {max_files} files, the workspace's limit."
                )
        _check_file_folder_clash(files, folders)
        sizes = _measure(archive, files, max_bytes=max_bytes, max_ratio=max_ratio)
    return ImportPlan(files=files, sizes=sizes, folders=folders)


def unpack(source: BinaryIO, plan: ImportPlan, fs: WorkspaceFS) -> None:
    """Write the files of a checked `plan` (from `source`) into `fs`; folders too.

    Files already in the workspace under the same names are replaced. Checks
    the real sizes again as it writes (`source` could have changed between
    the steps only by a bug, but the cost is nil).
    """
    with zipfile.ZipFile(source) as archive:
        for folder in plan.folders:
            fs.mkdir(folder)
        for path, info in plan.files.items():
            fs.write_from(path, _member_chunks(archive, info, plan.sizes[path], path))


def _member_chunks(
    archive: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int, path: str
) -> Iterator[bytes]:
    seen = 0
    with archive.open(info) as member:
        while chunk := member.read(CHUNK):
            seen += len(chunk)
            if seen > limit:
                raise PayloadTooLarge(f"The zip entry '{path}' changed while being unpacked.")
            yield chunk


def _entry_path(info: zipfile.ZipInfo) -> tuple[str, bool]:
    """The workspace path of a zip entry and whether it is a folder; `BadRequest` if unsafe."""
    raw = info.filename
    shown = ascii(raw)[1:-1]  # control characters shown escaped, not acted on
    is_folder = raw.endswith("/")
    name = raw[:-1] if is_folder else raw
    if name.startswith("/") or (len(name) > 1 and name[1] == ":" and name[0].isalpha()):
        raise BadRequest(f"The zip entry '{shown}' has an absolute path; refusing the zip.")
    try:
        parts = validate_path(name)
    except BadRequest as exc:
        raise BadRequest(
            f"The zip entry '{shown}' has a name Sandpit refuses: {exc.detail}"
        ) from None
    if any(is_reserved(part) for part in parts):
        raise BadRequest(f"The zip entry '{shown}' uses a name reserved for Sandpit.")
    mode = info.external_attr >> 16 if info.create_system == 3 else 0
    kind = stat.S_IFMT(mode)
    if kind == stat.S_IFLNK:
        raise BadRequest(f"The zip entry '{shown}' is a symbolic link; links are not imported.")
    if kind not in (0, stat.S_IFREG, stat.S_IFDIR):
        raise BadRequest(
            f"The zip entry '{shown}' is a device or other special file; only files and "
            "folders are imported."
        )
    if kind == stat.S_IFDIR:
        is_folder = True
    if info.flag_bits & 0x1:
        raise BadRequest(f"The zip entry '{shown}' is encrypted; Sandpit cannot import it.")
    return join_display(parts), is_folder


def _check_file_folder_clash(files: dict[str, zipfile.ZipInfo], folders: list[str]) -> None:
    """Refuse a file that is also a folder of another entry (``a`` and ``a/b``)."""
    for path in files:
        parts = path.split("/")
        for depth in range(1, len(parts)):
            parent = "/".join(parts[:depth])
            if parent in files:
                raise BadRequest(
                    f"The zip holds '{parent}' both as a file and as a folder; refusing it."
                )
    for folder in folders:
        if folder in files:
            raise BadRequest(f"The zip holds '{folder}' both as a file and as a folder.")


def _measure(
    archive: zipfile.ZipFile,
    files: dict[str, zipfile.ZipInfo],
    *,
    max_bytes: int,
    max_ratio: int,
) -> dict[str, int]:
    """Decompress every file once, counting what comes out; the real size of each.

    Raises `PayloadTooLarge` past `max_bytes` in all, past `max_ratio` times
    the compressed bytes read (once past `RATIO_FLOOR`), or when an entry
    holds other than its header says (size or checksum).
    """
    sizes: dict[str, int] = {}
    total = 0
    compressed = 0
    for path, info in files.items():
        compressed += max(info.compress_size, 1)
        size = 0
        try:
            with archive.open(info) as member:
                # Read one byte past the declared size: zipfile stops at the
                # declared size, so a header that understates shows up as a
                # checksum failure or as bytes beyond it.
                while chunk := member.read(CHUNK):
                    size += len(chunk)
                    total += len(chunk)
                    if total > max_bytes:
                        raise PayloadTooLarge(
                            f"The zip expands to more than {human_size(max_bytes)} (at "
                            f"'{path}'), past the workspace's storage limit."
                        )
                    if total > RATIO_FLOOR and total > max_ratio * compressed:
                        raise PayloadTooLarge(
                            f"The zip entry '{path}' expands more than {max_ratio} times its "
                            "compressed size; refusing it as a possible zip bomb."
                        )
        except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError) as exc:
            raise PayloadTooLarge(
                f"The zip entry '{path}' does not hold what its header says ({exc}); refusing "
                "it as damaged or a zip bomb."
            ) from None
        if size != info.file_size or _stream_left(archive, info):
            raise PayloadTooLarge(
                f"The zip entry '{path}' holds more data than its header states; refusing it "
                "as a possible zip bomb."
            )
        sizes[path] = size
    return sizes


def _stream_left(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> bool:
    """True if a deflated entry's stream goes on past the size its header states."""
    if info.compress_type != zipfile.ZIP_DEFLATED:
        return False
    fp = archive.fp
    assert fp is not None
    fp.seek(info.header_offset)
    header = fp.read(30)
    if len(header) < 30 or header[:4] != b"PK\x03\x04":
        return True
    name_len, extra_len = struct.unpack("<HH", header[26:30])
    fp.seek(info.header_offset + 30 + name_len + extra_len)
    decompressor = zlib.decompressobj(-15)
    remaining = info.compress_size
    produced = 0
    while remaining > 0:
        block = fp.read(min(CHUNK, remaining))
        if not block:
            return True
        remaining -= len(block)
        produced += len(decompressor.decompress(block, CHUNK))
        while decompressor.unconsumed_tail:
            produced += len(decompressor.decompress(decompressor.unconsumed_tail, CHUNK))
            if produced > info.file_size:
                return True
        if produced > info.file_size:
            return True
    return produced != info.file_size


def _check_directory_size(source: BinaryIO, max_files: int) -> None:
    """Refuse, before zipfile parses it, a central directory too big for `max_files`.

    Reads the end-of-central-directory record (and its zip64 form); a file
    without one is left for zipfile to call "not a zip".
    """
    source.seek(0, os.SEEK_END)
    end = source.tell()
    tail_start = max(0, end - (22 + 65535))
    source.seek(tail_start)
    tail = source.read()
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or len(tail) - at < 22:
        source.seek(0)
        return
    directory_bytes = struct.unpack("<I", tail[at + 12 : at + 16])[0]
    if directory_bytes == 0xFFFFFFFF and at >= 20 and tail[at - 20 : at - 16] == b"PK\x06\x07":
        zip64_at = struct.unpack("<Q", tail[at - 12 : at - 4])[0]
        source.seek(zip64_at)
        record = source.read(56)
        if len(record) == 56 and record[:4] == b"PK\x06\x06":
            directory_bytes = struct.unpack("<Q", record[40:48])[0]
    source.seek(0)
    if directory_bytes > 2 * max_files * _DIRECTORY_BYTES_PER_ENTRY:
        raise PayloadTooLarge(
            f"The zip's directory is too large for at most {max_files} files, the "
            "workspace's limit."
        )
