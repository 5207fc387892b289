"""Real, small files of every allowed data format, made by code (for the data-file tests)."""

from __future__ import annotations

import base64
import io
import sqlite3
import struct
import tempfile
import zipfile
import zlib
from pathlib import Path


def png(width: int = 2, height: int = 2) -> bytes:
    """A real RGB PNG (red pixels)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    raw = b"".join(b"\0" + b"\xff\x00\x00" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


# A 1x1 JPEG and a 1x1 GIF, as commonly used for the smallest valid files.
JPEG = base64.b64decode(
    "/9j/4AAQSkZJRgABAQEASABIAAD/2wBDAP//////////////////////////////////////////////////////"
    "////////////////////////////////wgALCAABAAEBAREA/8QAFBABAAAAAAAAAAAAAAAAAAAAAP/aAAgBAQABPxA="
)
GIF = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")
PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
)


def _zip(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def xlsx() -> bytes:
    """The parts that make a zip an Excel workbook."""
    return _zip(
        {
            "[Content_Types].xml": b'<?xml version="1.0"?><Types/>',
            "_rels/.rels": b'<?xml version="1.0"?><Relationships/>',
            "xl/workbook.xml": b'<?xml version="1.0"?><workbook/>',
            "xl/worksheets/sheet1.xml": b'<?xml version="1.0"?><worksheet/>',
        }
    )


def npy() -> bytes:
    """A NumPy 1.0 file holding three little-endian float64s, laid out as numpy writes it."""
    header = b"{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }"
    header += b" " * (64 - 10 - len(header) - 1) + b"\n"
    return (
        b"\x93NUMPY\x01\x00"
        + struct.pack("<H", len(header))
        + header
        + struct.pack("<3d", 1.0, 2.0, 3.0)
    )


def npz() -> bytes:
    return _zip({"a.npy": npy(), "b.npy": npy()})


def parquet() -> bytes:
    """Parquet's frame: magic, (here dummy) pages and footer, footer length, magic."""
    footer = b"\x15\x00" * 8
    return b"PAR1" + b"\x00" * 16 + footer + struct.pack("<I", len(footer)) + b"PAR1"


def arrow() -> bytes:
    """The Arrow IPC file frame (Feather v2)."""
    return b"ARROW1\0\0" + b"\xff\xff\xff\xff" + b"\x00" * 24 + b"ARROW1"


def sqlite() -> bytes:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "db.sqlite"
        connection = sqlite3.connect(path)
        connection.execute("create table t (x integer)")
        connection.execute("insert into t values (42)")
        connection.commit()
        connection.close()
        return path.read_bytes()


def plain_zip() -> bytes:
    return _zip({"readme.txt": b"data\n", "rows.csv": b"a,b\n1,2\n"})


LATIN1_CSV = "name;city\nJosé;Zürich\nRenée;Besançon\n".encode("latin-1")
UTF16_TEXT = "col\nvalue ü\n".encode("utf-16")

# name in the workspace -> content, one per allowed format (format name first).
SAMPLES: dict[str, tuple[str, bytes]] = {
    "text": ("people.csv", LATIN1_CSV),
    "png": ("plot.png", png()),
    "jpeg": ("photo.jpg", JPEG),
    "gif": ("anim.gif", GIF),
    "pdf": ("paper.pdf", PDF),
    "xlsx": ("grades.xlsx", xlsx()),
    "parquet": ("table.parquet", parquet()),
    "arrow": ("table.feather", arrow()),
    "npy": ("array.npy", npy()),
    "npz": ("arrays.npz", npz()),
    "sqlite": ("store.sqlite", sqlite()),
    "zip": ("dataset.zip", plain_zip()),
}

# A tiny ELF header (what an executable starts with) and an HTML page with script.
ELF = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 8 + b"\x02\x00\x3e\x00" + b"\x00" * 44
HTML = b"<!doctype html><html><body><script>alert(document.cookie)</script></body></html>"
SVG = (
    b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)">'
    b"<script>alert(document.domain)</script></svg>"
)
