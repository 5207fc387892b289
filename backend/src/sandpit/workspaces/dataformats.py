"""Binary data files: which formats exist, how each is recognised by its content.

The seed allows "Python, text files only", and that stays the default. When
the `ALLOWED_DATA_FORMATS` setting names some of `FORMATS`, the file API
also stores files of those formats, each recognised by its bytes, never by
its name (`detect`). A name that claims one of these formats by its
extension must hold that format (`expected_by_name`): an HTML page or an
executable renamed ``photo.png`` is refused.

`media_type` is what the server sends a file back as: UTF-8 text as
text/plain, a recognised format as its own type, everything else (whatever
sandbox code wrote) as application/octet-stream. SVG, HTML and XML are text
here, so they are never served as a type the browser would run.

Pure functions on bytes; nothing here touches a file.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass

__all__ = ["FORMATS", "DataFormat", "detect", "expected_by_name", "is_utf8_text", "media_type"]


@dataclass(frozen=True)
class DataFormat:
    """A binary data format: its setting name, label, media type and name extensions."""

    name: str
    label: str
    media_type: str
    extensions: tuple[str, ...]


FORMATS: dict[str, DataFormat] = {
    f.name: f
    for f in (
        DataFormat("text", "CSV or text in another encoding", "text/plain", ()),
        DataFormat("png", "PNG", "image/png", (".png",)),
        DataFormat("jpeg", "JPEG", "image/jpeg", (".jpg", ".jpeg")),
        DataFormat("gif", "GIF", "image/gif", (".gif",)),
        DataFormat("pdf", "PDF", "application/pdf", (".pdf",)),
        DataFormat(
            "xlsx",
            "Excel (XLSX)",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            (".xlsx",),
        ),
        DataFormat("parquet", "Parquet", "application/vnd.apache.parquet", (".parquet",)),
        DataFormat(
            "arrow",
            "Feather/Arrow",
            "application/vnd.apache.arrow.file",
            (".feather", ".arrow", ".ipc"),
        ),
        DataFormat("npy", "NumPy .npy", "application/x-npy", (".npy",)),
        DataFormat("npz", "NumPy .npz", "application/x-npz", (".npz",)),
        DataFormat("sqlite", "SQLite", "application/vnd.sqlite3", (".sqlite", ".sqlite3", ".db")),
        DataFormat("zip", "ZIP", "application/zip", (".zip",)),
    )
}

# Bytes allowed in text of another encoding besides printable ones: tab,
# newline, vertical tab, form feed, carriage return, and DOS's end-of-file.
_TEXT_CONTROLS = frozenset(b"\t\n\x0b\x0c\r\x1a")
_CONTROL_BYTES = frozenset(range(0x20)) - _TEXT_CONTROLS | {0x7F}


def is_utf8_text(data: bytes) -> bool:
    """True for what the file API has always stored: valid UTF-8 without NUL."""
    if b"\0" in data:
        return False
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def detect(data: bytes) -> DataFormat | None:
    """The data format `data` holds, judged by content alone; None if none of `FORMATS`.

    The binary formats' signatures are checked first (a PDF may be all
    ASCII); UTF-8 text is not a data format (it is a plain text file) and
    answers None.
    """
    for name, check in _CHECKS:
        if check(data):
            return FORMATS[name]
    return None


def expected_by_name(name: str) -> DataFormat | None:
    """The format a file name claims by its extension (``x.PNG`` -> PNG), or None."""
    lowered = name.lower()
    for fmt in FORMATS.values():
        if fmt.extensions and lowered.endswith(fmt.extensions):
            return fmt
    return None


def media_type(data: bytes) -> str:
    """The Content-Type to serve `data` with (see the module docstring)."""
    found = detect(data)
    if found is None:
        return "text/plain; charset=utf-8" if is_utf8_text(data) else "application/octet-stream"
    if found.name == "text":
        # Stored as uploaded, in an encoding we cannot know: let the browser
        # not guess; the IDE decodes it as Windows-1252 (a superset of Latin-1).
        return "text/plain; charset=windows-1252"
    return found.media_type


# --- content checks, most specific first -----------------------------------------


def _png(data: bytes) -> bool:
    return data.startswith(b"\x89PNG\r\n\x1a\n") and data[12:16] == b"IHDR"


def _jpeg(data: bytes) -> bool:
    return len(data) > 4 and data.startswith(b"\xff\xd8\xff")


def _gif(data: bytes) -> bool:
    return data[:6] in (b"GIF87a", b"GIF89a")


def _pdf(data: bytes) -> bool:
    return data.startswith(b"%PDF-")


def _parquet(data: bytes) -> bool:
    return len(data) >= 12 and data.startswith(b"PAR1") and data.endswith(b"PAR1")


def _arrow(data: bytes) -> bool:
    # Arrow IPC file (Feather v2) and Feather v1.
    arrow = data.startswith(b"ARROW1\0\0") and data.endswith(b"ARROW1")
    feather_v1 = len(data) >= 8 and data.startswith(b"FEA1") and data.endswith(b"FEA1")
    return arrow or feather_v1


def _npy(data: bytes) -> bool:
    # Magic, version (1.0, 2.0 or 3.0), a little-endian header length, then a dict.
    if not data.startswith(b"\x93NUMPY") or len(data) < 10 or data[6] not in (1, 2, 3):
        return False
    start = 10 if data[6] == 1 else 12
    return data[start : start + 1] == b"{"


def _sqlite(data: bytes) -> bool:
    return len(data) >= 100 and data.startswith(b"SQLite format 3\0")


def _zip_names(data: bytes) -> list[str] | None:
    """The member names of a well-formed zip starting at byte 0, else None."""
    if not data.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return None
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return archive.namelist()
    except (zipfile.BadZipFile, ValueError, NotImplementedError):
        return None


def _xlsx(data: bytes) -> bool:
    names = _zip_names(data)
    return names is not None and "[Content_Types].xml" in names and "xl/workbook.xml" in names


def _npz(data: bytes) -> bool:
    names = _zip_names(data)
    return bool(names) and all(n.endswith(".npy") for n in names or ())


def _zip(data: bytes) -> bool:
    return _zip_names(data) is not None


def _other_text(data: bytes) -> bool:
    """Text in an encoding other than UTF-8: UTF-16 with its BOM, or 8-bit text."""
    if not data or is_utf8_text(data):
        return False
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError:
            return False
        return not any(ord(ch) in _CONTROL_BYTES for ch in text)
    return not any(byte in _CONTROL_BYTES for byte in data)


_CHECKS = (
    ("png", _png),
    ("jpeg", _jpeg),
    ("gif", _gif),
    ("pdf", _pdf),
    ("parquet", _parquet),
    ("arrow", _arrow),
    ("npy", _npy),
    ("sqlite", _sqlite),
    ("xlsx", _xlsx),
    ("npz", _npz),
    ("zip", _zip),
    ("text", _other_text),
)
