"""The proxy's side of HTTP: reading a CONNECT request head, writing the answers.

Only `CONNECT host:port HTTP/1.x` is relayed. Refusals carry their sentence
twice: as the reason phrase (pip and Python's http.client show the status
line, "Tunnel connection failed: 403 <reason>") and as a plain-text body.
"""

from __future__ import annotations

from dataclasses import dataclass

from sandpit.proxy.policy import parse_authority

HEAD_END = b"\r\n\r\n"
ESTABLISHED = b"HTTP/1.1 200 Connection established\r\n\r\n"
MAX_REASON = 300


class Refusal(Exception):
    """The proxy answers `status` with `sentence` and closes the connection."""

    def __init__(self, status: int, sentence: str, *, log_reason: str = "") -> None:
        super().__init__(sentence)
        self.status = status
        self.sentence = sentence
        # What the log says about it, when the sentence does not say enough.
        self.log_reason = log_reason or sentence


@dataclass(frozen=True)
class ConnectRequest:
    host: str
    port: int


def find_head_end(buffer: bytes | bytearray) -> int:
    """The offset just past the blank line ending the head, or -1 if not there yet.

    Bare LF line endings are accepted too, as most servers do.
    """
    for marker in (HEAD_END, b"\n\n"):
        index = buffer.find(marker)
        if index >= 0:
            return index + len(marker)
    return -1


def parse_connect(head: bytes, *, not_connect: str) -> ConnectRequest:
    """The target of a CONNECT request head (request line and headers).

    Raises `Refusal` 400 if the head is not HTTP, 405 (with `not_connect` as
    its sentence) for any other method. Headers are read for framing only.
    """
    lines = head.split(b"\n")
    request_line = lines[0].rstrip(b"\r")
    parts = request_line.split(b" ")
    if len(parts) != 3 or not parts[2].startswith(b"HTTP/1."):
        raise Refusal(400, "The package proxy could not read this request.", log_reason="not HTTP")
    method, target = parts[0], parts[1]
    if method != b"CONNECT":
        raise Refusal(
            405, not_connect, log_reason=f"method {method[:16].decode('ascii', 'replace')}"
        )
    try:
        host, port = parse_authority(target.decode("ascii"))
    except (UnicodeDecodeError, ValueError):
        raise Refusal(
            400, "The package proxy needs a target of the form host:port.", log_reason="bad target"
        ) from None
    for raw in lines[1:]:
        line = raw.rstrip(b"\r")
        if line and (b":" not in line or line[:1] in b" \t"):
            raise Refusal(
                400, "The package proxy could not read this request.", log_reason="bad header"
            )
    return ConnectRequest(host, port)


REASONS = {
    400: "Bad Request",
    403: "Forbidden",
    405: "Method Not Allowed",
    408: "Request Timeout",
    429: "Too Many Requests",
    431: "Request Header Fields Too Large",
    502: "Bad Gateway",
    504: "Gateway Timeout",
}


def refusal_response(status: int, sentence: str) -> bytes:
    """A complete response: the sentence as reason phrase and as body, then close."""
    reason = "".join(c if " " <= c <= "~" else "?" for c in sentence)[:MAX_REASON]
    body = (sentence + "\n").encode("utf-8")
    head = (
        f"HTTP/1.1 {status} {reason or REASONS.get(status, 'Error')}\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n"
        f"Content-Length: {len(body)}\r\n"
        "Connection: close\r\n"
        "\r\n"
    )
    return head.encode("ascii") + body
