"""A folder of hostile zips: each builder returns the bytes of one attack.

Built by code rather than kept as binary files so that each attack reads as
what it is. `HOSTILE` maps a name to (builder, expected status, a word the
refusal's sentence must contain: the entry it names, or what it found).
"""

from __future__ import annotations

import io
import stat
import struct
import warnings
import zipfile
import zlib
from collections.abc import Callable


def _zip(entries: list[tuple[zipfile.ZipInfo | str, bytes]]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for info, data in entries:
            archive.writestr(info, data)
    return buffer.getvalue()


def _special(name: str, kind: int, data: bytes = b"") -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name)
    info.create_system = 3  # Unix: external_attr's high half is st_mode
    info.external_attr = (kind | 0o777) << 16
    return info


def zip_slip() -> bytes:
    return _zip([("ok.py", b"print(1)\n"), ("../../evil.py", b"owned = True\n")])


def zip_slip_inside() -> bytes:
    return _zip([("src/../../evil.py", b"owned = True\n")])


def absolute_path() -> bytes:
    return _zip([("/etc/cron.d/evil", b"* * * * * root sh\n")])


def windows_absolute_path() -> bytes:
    return _zip([("C:\\Windows\\evil.py", b"1\n")])


def symlink_entry() -> bytes:
    return _zip([("passwd", b"ok\n"), (_special("link", stat.S_IFLNK), b"/etc/passwd")])


def device_entry() -> bytes:
    return _zip([(_special("tty", stat.S_IFCHR), b"")])


def fifo_entry() -> bytes:
    return _zip([(_special("pipe", stat.S_IFIFO), b"")])


def duplicate_names() -> bytes:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns, and writes it all the same
        return _zip([("main.py", b"print('first')\n"), ("main.py", b"print('second')\n")])


def control_character_name() -> bytes:
    return _zip([("bell\x07.py", b"1\n")])


def newline_name() -> bytes:
    return _zip([("two\nlines.py", b"1\n")])


def bidi_name() -> bytes:
    return _zip([("photo\u202egnp.py", b"1\n")])


def reserved_name() -> bytes:
    return _zip([(".sandpit-tmp-x", b"1\n")])


def file_and_folder() -> bytes:
    return _zip([("a", b"file\n"), ("a/b.py", b"1\n")])


def ten_thousand_tiny_files() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        for index in range(10_000):
            archive.writestr(f"f{index}.txt", b"x")
    return buffer.getvalue()


def flat_bomb() -> bytes:
    """42.zip's idea in one layer: 16 entries of 16 MiB of zeros, ~260 KB in all."""
    buffer = io.BytesIO()
    zeros = bytes(16 * 1024 * 1024)
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for index in range(16):
            zf.writestr(f"layer{index}.bin", zeros)
    return buffer.getvalue()


def ratio_bomb_under_quota() -> bytes:
    """Within the quota, but 8 MiB of zeros from ~8 KB: past any sane ratio."""
    return _zip([("zeros.txt", bytes(8 * 1024 * 1024))])


def _understate(data: bytes, name: bytes, size: int, crc: int | None) -> bytes:
    """Patch the local and central headers of `name` to state `size` (and `crc`)."""
    out = bytearray(data)
    local = out.find(b"PK\x03\x04")
    central = out.find(b"PK\x01\x02")
    for at, size_at, crc_at in ((local, 22, 14), (central, 24, 16)):
        struct.pack_into("<I", out, at + size_at, size)
        if crc is not None:
            struct.pack_into("<I", out, at + crc_at, crc)
    assert name in out
    return bytes(out)


def lying_header() -> bytes:
    """An entry of 4 MiB whose headers say 100 bytes (its checksum left as is)."""
    content = b"A" * (4 * 1024 * 1024)
    return _understate(_zip([("small.txt", content)]), b"small.txt", 100, None)


def lying_header_matching_crc() -> bytes:
    """Same, with the checksum of the first 100 bytes, so only the data tells."""
    content = b"B" * (4 * 1024 * 1024)
    crc = zlib.crc32(content[:100])
    return _understate(_zip([("small.txt", content)]), b"small.txt", 100, crc)


def not_a_zip() -> bytes:
    return b"<html><script>alert(1)</script></html>"


def truncated_zip() -> bytes:
    return zip_slip()[:40]


# name -> (builder, status, a word the sentence must contain)
HOSTILE: dict[str, tuple[Callable[[], bytes], int, str]] = {
    "zip_slip": (zip_slip, 400, "../../evil.py"),
    "zip_slip_inside": (zip_slip_inside, 400, "src/../../evil.py"),
    "absolute_path": (absolute_path, 400, "absolute"),
    "windows_absolute_path": (windows_absolute_path, 400, "evil.py"),
    "symlink_entry": (symlink_entry, 400, "symbolic link"),
    "device_entry": (device_entry, 400, "device"),
    "fifo_entry": (fifo_entry, 400, "special file"),
    "duplicate_names": (duplicate_names, 400, "twice"),
    "control_character_name": (control_character_name, 400, "bell\\x07.py"),
    "newline_name": (newline_name, 400, "two\\nlines.py"),
    "bidi_name": (bidi_name, 400, "U+202E"),
    "reserved_name": (reserved_name, 400, "reserved"),
    "file_and_folder": (file_and_folder, 400, "both as a file and as a folder"),
    "ten_thousand_tiny_files": (ten_thousand_tiny_files, 413, "files"),
    "flat_bomb": (flat_bomb, 413, "layer"),
    "ratio_bomb_under_quota": (ratio_bomb_under_quota, 413, "zip bomb"),
    "lying_header": (lying_header, 413, "small.txt"),
    "lying_header_matching_crc": (lying_header_matching_crc, 413, "small.txt"),
    "not_a_zip": (not_a_zip, 415, "not a zip"),
    "truncated_zip": (truncated_zip, 415, "not a zip"),
}
