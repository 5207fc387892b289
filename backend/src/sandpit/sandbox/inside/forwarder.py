"""The package proxy's forwarder: 127.0.0.1:3128 in the sandbox → the proxy's Unix socket.

THIS FILE RUNS INSIDE THE SANDBOX, with the runtime image's Python, as the
sandbox user. It must use the standard library only and import nothing from
`sandpit`.

The sandbox has no network but loopback, and pip wants an HTTP proxy at a
TCP address (`HTTPS_PROXY=http://127.0.0.1:3128`). This program accepts
there and pipes every connection, byte for byte, to the Unix socket the
server mounted into this sandbox; the server's proxy decides what is
allowed. It is no security boundary: user code may kill it or talk to the
socket itself, and gains nothing by it.

One thread and `selectors`, not asyncio: it counts against the sandbox's
memory while it runs, and asyncio would cost it about 10 MB more. A
connection reads from one side only while its bytes for the other side are
written out (so a slow reader slows its writer, and memory stays at one
chunk per direction), passes an end of file on as a half-close, and ends
when the proxy's side has ended.

Usage: forwarder.py LISTEN_FD SOCKET_PATH MAX_CONNECTIONS IDLE_EXIT_S
The server holds the listening socket and starts this program, with the
socket as LISTEN_FD, when a connection is waiting (socket activation). It
exits after IDLE_EXIT_S seconds with no connection and no traffic; the next
connection waits in the listener's backlog until the server starts it again.
Its standard streams go to /dev/null: nothing reads them.
"""

from __future__ import annotations

import os
import selectors
import socket
import sys
import time

CHUNK = 64 * 1024
READ = selectors.EVENT_READ
WRITE = selectors.EVENT_WRITE


class Pipe:
    """One direction of a link: bytes read from `src`, waiting to be written to `dst`."""

    def __init__(self, src: socket.socket, dst: socket.socket) -> None:
        self.src = src
        self.dst = dst
        self.pending = b""
        self.ended = False  # `src` sent its end of file
        self.shut = False  # ...and it was passed on to `dst`

    def read(self) -> None:
        try:
            data = self.src.recv(CHUNK)
        except (BlockingIOError, InterruptedError):
            return
        if data:
            self.pending = data
        else:
            self.ended = True
        self.flush()

    def flush(self) -> None:
        if self.pending:
            try:
                sent = self.dst.send(self.pending)
            except (BlockingIOError, InterruptedError):
                sent = 0
            self.pending = self.pending[sent:]
        if self.ended and not self.pending and not self.shut:
            self.shut = True
            self.dst.shutdown(socket.SHUT_WR)

    @property
    def done(self) -> bool:
        return self.shut


class Link:
    """A client connection and its connection to the proxy."""

    def __init__(
        self, forwarder: Forwarder, client: socket.socket, upstream: socket.socket
    ) -> None:
        self.forwarder = forwarder
        self.sockets = (client, upstream)
        self.pipes = (Pipe(client, upstream), Pipe(upstream, client))
        self.events = {client: 0, upstream: 0}
        self.closed = False

    def handle(self, sock: socket.socket, events: int) -> None:
        try:
            for pipe in self.pipes:
                if pipe.src is sock and events & READ:
                    pipe.read()
                if pipe.dst is sock and events & WRITE:
                    pipe.flush()
        except OSError:
            self.close()
            return
        # The proxy decides when a tunnel ends: once its side is done, so is this.
        if self.pipes[1].done:
            self.close()
        else:
            self.watch()

    def watch(self) -> None:
        """Register each socket for what its pipes wait for."""
        for sock in self.sockets:
            wanted = 0
            for pipe in self.pipes:
                if pipe.src is sock and not pipe.ended and not pipe.pending:
                    wanted |= READ
                if pipe.dst is sock and pipe.pending:
                    wanted |= WRITE
            current = self.events[sock]
            if wanted != current:
                selector = self.forwarder.selector
                if not current:
                    selector.register(sock, wanted, self)
                elif not wanted:
                    selector.unregister(sock)
                else:
                    selector.modify(sock, wanted, self)
                self.events[sock] = wanted

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        for sock in self.sockets:
            if self.events[sock]:
                self.forwarder.selector.unregister(sock)
            sock.close()
        self.forwarder.active -= 1


class Forwarder:
    def __init__(self, listener: socket.socket, socket_path: str, max_connections: int) -> None:
        self.listener = listener
        self.socket_path = socket_path
        self.max_connections = max_connections
        self.active = 0
        self.selector = selectors.DefaultSelector()
        self.selector.register(listener, READ, None)

    def accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                # Out of descriptors, most likely: the listener stays readable,
                # so pause rather than spin until a link closes.
                time.sleep(0.1)
                return
            if self.active >= self.max_connections:
                client.close()
                continue
            upstream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                client.setblocking(False)
                upstream.setblocking(False)
                upstream.connect(self.socket_path)  # a Unix socket: at once, or not at all
            except OSError:
                client.close()
                upstream.close()
                continue
            self.active += 1
            Link(self, client, upstream).watch()

    def serve(self, idle_exit_s: float) -> None:
        """Serve until nothing has happened for `idle_exit_s` with no connection open."""
        while True:
            events = self.selector.select(None if self.active else idle_exit_s)
            if not events and not self.active:
                return
            for key, mask in events:
                link = key.data
                if link is None:
                    self.accept()
                elif not link.closed:
                    link.handle(key.fileobj, mask)


def main(listen_fd: int, socket_path: str, max_connections: int, idle_exit_s: float) -> None:
    listener = socket.socket(fileno=listen_fd)
    listener.setblocking(False)
    forwarder = Forwarder(listener, socket_path, max_connections)
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    os.close(devnull)
    forwarder.serve(idle_exit_s)


if __name__ == "__main__":
    main(int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), float(sys.argv[4]))
