"""What may be read or written, each refusal as a sentence for the user.

Pure checks on content and on lstat/fstat results; they raise the domain
errors from `sandpit.errors` and touch no files.
"""

from __future__ import annotations

import os
import stat

from sandpit.errors import (
    BadRequest,
    Conflict,
    InvalidPath,
    PayloadTooLarge,
    UnsupportedMediaType,
)
from sandpit.workspaces import dataformats


def check_text(data: bytes, max_bytes: int, shown: str) -> None:
    """Accept `data` as a text file's content.

    Raises `PayloadTooLarge` over `max_bytes`, `UnsupportedMediaType` if it
    contains NUL or is not valid UTF-8.
    """
    if len(data) > max_bytes:
        raise PayloadTooLarge(too_large(shown, max_bytes))
    if b"\0" in data:
        raise UnsupportedMediaType(
            "Only text files can be saved here, and this content contains a NUL byte."
        )
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        raise UnsupportedMediaType(
            "Only text files can be saved here, and this content is not valid UTF-8."
        ) from None


def check_content(data: bytes, max_bytes: int, shown: str, formats: frozenset[str]) -> None:
    """Accept `data` as the content of the file `shown`: text, or an allowed data format.

    Without `formats` this is `check_text`. With them (names from
    `dataformats.FORMATS`, the `ALLOWED_DATA_FORMATS` setting), content that
    is not UTF-8 text must be one of them, recognised by its bytes; and a
    name whose extension claims a format must hold exactly that format.

    Raises `PayloadTooLarge` over `max_bytes`, `UnsupportedMediaType` with a
    sentence listing the allowed formats otherwise.
    """
    if not formats:
        check_text(data, max_bytes, shown)
        return
    if len(data) > max_bytes:
        raise PayloadTooLarge(too_large(shown, max_bytes))
    found = dataformats.detect(data)  # an all-ASCII PDF is a PDF, not text
    claimed = dataformats.expected_by_name(shown)
    if claimed is not None and (found is None or found.name != claimed.name):
        raise UnsupportedMediaType(
            f"'{shown}' is named like a {claimed.label} file, but its content is not "
            f"{claimed.label}. {allowed_sentence(formats)}"
        )
    if found is None and not dataformats.is_utf8_text(data):
        raise UnsupportedMediaType(
            f"'{shown}' is neither UTF-8 text nor an allowed data format. "
            f"{allowed_sentence(formats)}"
        )
    if found is not None and found.name not in formats:
        raise UnsupportedMediaType(
            f"'{shown}' is a {found.label} file, which is not allowed here. "
            f"{allowed_sentence(formats)}"
        )


def allowed_sentence(formats: frozenset[str]) -> str:
    """ "Files may be Python or UTF-8 text, or: PNG, JPEG." in the order of `FORMATS`."""
    labels = [f.label for f in dataformats.FORMATS.values() if f.name in formats]
    return "Files may be Python or UTF-8 text, or: " + ", ".join(labels) + "."


def check_readable(st: os.stat_result, max_bytes: int, shown: str) -> None:
    """Accept an lstat or fstat result as a file we may read.

    Raises `InvalidPath` for a link, `Conflict` for a folder (a file was
    expected where one is; the request itself is fine), `BadRequest` for a special
    file (FIFO, socket, device) or a file with more than one hard link (it
    could be a file the server may read but the user may not), and
    `PayloadTooLarge` over `max_bytes`.
    """
    mode = st.st_mode
    if stat.S_ISLNK(mode):
        raise InvalidPath(link_sentence(shown))
    if stat.S_ISDIR(mode):
        raise Conflict(f"'{shown}' is a folder, not a file.")
    if not stat.S_ISREG(mode):
        raise BadRequest(
            f"'{shown}' is a special file (such as a pipe or socket), which cannot be opened."
        )
    if st.st_nlink > 1:
        raise BadRequest(
            f"'{shown}' has more than one hard link, so it is not opened here; "
            "copy it to a new file in the terminal to edit it."
        )
    if st.st_size > max_bytes:
        raise PayloadTooLarge(too_large(shown, max_bytes))


def link_sentence(shown: str) -> str:
    """The one sentence for every refused symbolic link."""
    return f"'{shown}' is a symbolic link, and Sandpit never follows links in a workspace."


def too_large(shown: str, max_bytes: int) -> str:
    """The sentence for a file over the size limit."""
    return f"'{shown}' is larger than the {human_size(max_bytes)} limit for a file."


def human_size(size: int) -> str:
    """1048576 -> "1 MiB"; 1536 -> "1.5 KiB"; 100 -> "100 bytes"."""
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if size >= scale:
            value = size / scale
            return f"{value:.0f} {unit}" if size % scale == 0 else f"{value:.1f} {unit}"
    return f"{size} bytes"
