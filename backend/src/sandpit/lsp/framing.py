"""LSP's base protocol: `Content-Length` headers, then a JSON body.

The servers' output is untrusted (they read the user's files), so a frame
larger than the reader's limit or a header without a length ends the stream
(`FrameError`) rather than growing a buffer without bound.
"""

from __future__ import annotations

HEADER_LIMIT = 1024


class FrameError(ValueError):
    """The byte stream is not LSP framing, or a frame is over the limit."""


def encode(body: bytes) -> bytes:
    """One framed message."""
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


class FrameReader:
    """Splits a byte stream into message bodies of at most `max_body` bytes."""

    def __init__(self, max_body: int) -> None:
        self._max_body = max_body
        self._buffer = bytearray()

    def feed(self, data: bytes) -> list[bytes]:
        """Add bytes; return every body now complete, in order. Raises `FrameError`."""
        self._buffer += data
        bodies: list[bytes] = []
        while True:
            end = self._buffer.find(b"\r\n\r\n")
            if end < 0:
                if len(self._buffer) > HEADER_LIMIT:
                    raise FrameError("an LSP header is too long")
                return bodies
            length = _content_length(bytes(self._buffer[:end]))
            if length > self._max_body:
                raise FrameError(f"an LSP message of {length} bytes is over the limit")
            start = end + 4
            if len(self._buffer) < start + length:
                return bodies
            bodies.append(bytes(self._buffer[start : start + length]))
            del self._buffer[: start + length]


def _content_length(header: bytes) -> int:
    for line in header.split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            try:
                length = int(value.strip())
            except ValueError:
                break
            if length >= 0:
                return length
    raise FrameError("an LSP header has no valid Content-Length")
