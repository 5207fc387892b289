"""The host end of the agent channel against a scripted agent: what it accepts as an answer.

The agent is untrusted (user code runs as its user and may take its
place), so an answer that is not what was asked for must be dropped, never
used. The real agent is exercised by the contract suite.
"""

from __future__ import annotations

import array
import asyncio
import gc
import json
import os
import socket
from collections.abc import AsyncIterator, Callable

import pytest

from sandpit.sandbox.base import SandboxError
from sandpit.sandbox.channel import AgentChannel, socket_pair

Answer = Callable[[str], tuple[dict[str, object], list[int]]]


class ScriptedAgent:
    """The sandbox end of a channel, answering each request with `answer(id)`."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock

    def answer_next(self, answer: Answer) -> None:
        data = self.sock.recv(65536)
        message, fds = answer(json.loads(data)["id"])
        ancillary = []
        if fds:
            ancillary = [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", fds).tobytes())]
        self.sock.sendmsg([json.dumps(message).encode()], ancillary)
        for fd in fds:
            os.close(fd)


@pytest.fixture
async def pair() -> AsyncIterator[tuple[AgentChannel, ScriptedAgent]]:
    host, sandbox = socket_pair()
    channel = AgentChannel(host)
    yield channel, ScriptedAgent(sandbox)
    channel.close()
    sandbox.close()


def tcp_listener(request_id: str) -> tuple[dict[str, object], list[int]]:
    sock = socket.create_server(("127.0.0.1", 0))
    return {"op": "listening", "id": request_id}, [sock.detach()]


def udp_socket(request_id: str) -> tuple[dict[str, object], list[int]]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    return {"op": "listening", "id": request_id}, [sock.detach()]


def unconnected_tcp(request_id: str) -> tuple[dict[str, object], list[int]]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    return {"op": "listening", "id": request_id}, [sock.detach()]


def a_pipe(request_id: str) -> tuple[dict[str, object], list[int]]:
    read_end, write_end = os.pipe()
    os.close(write_end)
    return {"op": "listening", "id": request_id}, [read_end]


def refusal(request_id: str) -> tuple[dict[str, object], list[int]]:
    return {"op": "failed", "id": request_id, "error": "Address already in use"}, []


async def ask(pair: tuple[AgentChannel, ScriptedAgent], answer: Answer) -> socket.socket:
    channel, agent = pair
    request = asyncio.ensure_future(channel.listen("127.0.0.1", 3128, timeout=1.0))
    await asyncio.sleep(0.05)
    agent.answer_next(answer)
    return await request


async def test_a_listening_tcp_socket_is_taken_non_blocking(
    pair: tuple[AgentChannel, ScriptedAgent],
) -> None:
    listener = await ask(pair, tcp_listener)
    with listener:
        assert listener.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN) == 1
        assert not listener.getblocking()


@pytest.mark.parametrize("answer", [udp_socket, unconnected_tcp, a_pipe])
async def test_anything_else_is_dropped(
    pair: tuple[AgentChannel, ScriptedAgent], answer: Answer
) -> None:
    with pytest.raises(SandboxError, match="did not answer in time"):
        await ask(pair, answer)


async def test_a_refusal_says_why(pair: tuple[AgentChannel, ScriptedAgent]) -> None:
    with pytest.raises(SandboxError, match="could not listen: Address already in use"):
        await ask(pair, refusal)


@pytest.mark.parametrize("when", ["before the ping", "after the ping timed out"])
async def test_a_sandbox_ending_at_its_start_leaves_no_unretrieved_failure(when: str) -> None:
    """The agent gone when pinged, or after the ping was given up on: one clear error, no
    "Future exception was never retrieved" in the server's log once the channel is gone."""
    loop = asyncio.get_running_loop()
    reported: list[dict[str, object]] = []
    loop.set_exception_handler(lambda _loop, context: reported.append(context))
    host, sandbox = socket_pair()
    channel = AgentChannel(host)
    try:
        if when == "before the ping":
            sandbox.close()
            with pytest.raises(SandboxError, match="not responding"):
                await channel.ping(timeout=1.0)
        else:
            with pytest.raises(SandboxError, match="did not start in time"):
                await channel.ping(timeout=0.05)
            sandbox.close()
        await asyncio.wait_for(channel.closed.wait(), 5)
        channel.close()
        del channel
        gc.collect()  # a failed future nobody retrieved is reported when collected
        await asyncio.sleep(0)
        assert reported == []
    finally:
        sandbox.close()
        loop.set_exception_handler(None)
