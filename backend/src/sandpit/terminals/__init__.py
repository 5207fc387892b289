"""Terminals: login shells on PTYs in workspace sandboxes, streamed over WebSockets.

`manager.TerminalManager` owns every terminal; `terminal.Terminal` owns one
PTY (read loop, replay ring, flow control, culling); `socket.serve` owns one
WebSocket client of it. The pure parts (`ring`, `modes`, `input`) have no
I/O. The protocol is in CONTRACT.md ("Terminals").
"""
