"""The language-server plumbing's pure parts: framing, the multiplexer, the rate bucket."""

from __future__ import annotations

import pytest

from sandpit.lsp.bucket import TokenBucket
from sandpit.lsp.framing import FrameError, FrameReader, encode
from sandpit.lsp.mux import Mux


def test_frames_split_across_reads_and_joined_in_one() -> None:
    reader = FrameReader(max_body=100)
    stream = encode(b'{"a":1}') + encode(b'{"b":2}')
    assert reader.feed(stream[:5]) == []
    assert reader.feed(stream[5:30]) == [b'{"a":1}']
    assert reader.feed(stream[30:]) == [b'{"b":2}']


@pytest.mark.parametrize(
    "data",
    [
        b"Content-Length: 101\r\n\r\n",  # over the limit
        b"Content-Type: x\r\n\r\n{}",  # no length
        b"Content-Length: -1\r\n\r\n",
        b"x" * 2000,  # a header that never ends
    ],
)
def test_bad_frames_end_the_stream(data: bytes) -> None:
    with pytest.raises(FrameError):
        FrameReader(max_body=100).feed(data)


def test_initialize_goes_to_both_and_answers_once_with_merged_capabilities() -> None:
    mux = Mux()
    params = {"capabilities": {"textDocument": {"diagnostic": {}, "hover": {}}}}
    routed = mux.from_client({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": params})
    assert [server for server, _ in routed] == ["main", "ruff"]
    for _, message in routed:
        assert message["params"]["capabilities"]["textDocument"] == {"hover": {}}
    assert routed[1][1]["id"] == "mux:initialize"
    main_caps = {"completionProvider": {}, "codeActionProvider": True, "diagnosticProvider": {}}
    ruff_caps = {"documentFormattingProvider": True, "codeActionProvider": {"resolve": True}}
    answer = {"jsonrpc": "2.0", "id": 0, "result": {"capabilities": main_caps}}
    assert mux.from_server("main", answer) == []
    merged = mux.from_server(
        "ruff", {"jsonrpc": "2.0", "id": "mux:initialize", "result": {"capabilities": ruff_caps}}
    )
    assert merged == [
        {
            "jsonrpc": "2.0",
            "id": 0,
            "result": {
                "capabilities": {
                    "completionProvider": {},
                    "codeActionProvider": {"resolve": True},
                    "documentFormattingProvider": True,
                }
            },
        }
    ]


def test_requests_notifications_and_server_requests_are_routed() -> None:
    mux = Mux()
    formatting = {"jsonrpc": "2.0", "id": 5, "method": "textDocument/formatting", "params": {}}
    completion = {"jsonrpc": "2.0", "id": 6, "method": "textDocument/completion", "params": {}}
    change = {"jsonrpc": "2.0", "method": "textDocument/didChange", "params": {}}
    assert mux.from_client(formatting) == [("ruff", formatting)]
    assert mux.from_client(completion) == [("main", completion)]
    assert mux.from_client(change) == [("main", change), ("ruff", change)]
    # Both servers ask with id 1: the client sees two ids, each answer goes home.
    ask = {"jsonrpc": "2.0", "id": 1, "method": "workspace/configuration", "params": {}}
    [from_main] = mux.from_server("main", ask)
    [from_ruff] = mux.from_server("ruff", ask)
    assert from_main["id"] != from_ruff["id"]
    reply = {"jsonrpc": "2.0", "id": from_ruff["id"], "result": [None]}
    assert mux.from_client(reply) == [("ruff", {**reply, "id": 1})]
    assert mux.from_client(reply) == []  # answered once only


def test_diagnostics_are_the_union_of_both_servers() -> None:
    mux = Mux()

    def publish(server: str, *messages: str) -> list[str]:
        params = {"uri": "file:///app/a.py", "diagnostics": [{"message": m} for m in messages]}
        notification = {
            "jsonrpc": "2.0",
            "method": "textDocument/publishDiagnostics",
            "params": params,
        }
        [out] = mux.from_server(server, notification)  # type: ignore[arg-type]
        return [d["message"] for d in out["params"]["diagnostics"]]

    assert publish("ruff", "F821") == ["F821"]
    assert publish("main", "type error") == ["type error", "F821"]
    assert publish("ruff") == ["type error"]


def test_bucket_allows_a_burst_then_the_rate() -> None:
    now = [0.0]
    bucket = TokenBucket(rate=10, burst=3, clock=lambda: now[0])
    assert [bucket.take() for _ in range(4)] == [True, True, True, False]
    now[0] += 0.1
    assert bucket.take()
    assert not bucket.take()
