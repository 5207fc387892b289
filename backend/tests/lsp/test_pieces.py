"""The language-server plumbing's pure parts: framing, the multiplexer, the rate bucket,
the documents' text and the completion lists."""

from __future__ import annotations

from typing import Any

import pytest

from sandpit.lsp.bucket import TokenBucket
from sandpit.lsp.completion import DETAIL_MAX, MAX_ASKED
from sandpit.lsp.documents import Documents
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


def test_pyrefly_is_told_to_report_type_errors_and_both_kinds_of_code_action_are_offered() -> None:
    mux = Mux()
    params = {"capabilities": {}, "initializationOptions": {"other": 1}}
    routed = mux.from_client({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": params})
    assert routed[0][1]["params"]["initializationOptions"] == {
        "other": 1,
        "pyrefly": {"displayTypeErrors": "force-on"},
    }
    assert routed[1][1]["params"]["initializationOptions"] == {"other": 1}  # as sent, for ruff
    main_caps = {"codeActionProvider": {"codeActionKinds": ["quickfix", "refactor.extract"]}}
    ruff_caps = {"codeActionProvider": {"codeActionKinds": ["quickfix"], "resolveProvider": True}}
    mux.from_server("main", {"jsonrpc": "2.0", "id": 0, "result": {"capabilities": main_caps}})
    [answer] = mux.from_server(
        "ruff", {"jsonrpc": "2.0", "id": "mux:initialize", "result": {"capabilities": ruff_caps}}
    )
    assert answer["result"]["capabilities"]["codeActionProvider"] == {
        "codeActionKinds": ["quickfix", "refactor.extract"],
        "resolveProvider": True,
    }


def action(title: str, new_text: str) -> dict[str, Any]:
    span = {"start": {"line": 0, "character": 0}, "end": {"line": 1, "character": 0}}
    edit = {"changes": {"file:///app/a.py": [{"range": span, "newText": new_text}]}}
    return {"title": title, "kind": "quickfix", "edit": edit}


def test_code_actions_come_from_both_servers_in_one_answer_each_fix_once() -> None:
    mux = Mux()
    ask = {"jsonrpc": "2.0", "id": 7, "method": "textDocument/codeAction", "params": {}}
    [(main, to_main), (ruff, to_ruff)] = mux.from_client(ask)
    assert (main, ruff, to_main["id"]) == ("main", "ruff", 7)
    assert to_ruff["id"] != 7
    ruffs = [action("Ruff (F401): Remove unused import: `os`", "")]
    pyreflys = [
        action("Remove unused import: `os`", ""),  # ruff's very change
        action("Add `# pyrefly: ignore[unused-import]`", "# pyrefly: ignore[unused-import]\n"),
        action("Generate variable `x`", "x = None\n"),
    ]
    assert mux.from_server("ruff", {"jsonrpc": "2.0", "id": to_ruff["id"], "result": ruffs}) == []
    [answer] = mux.from_server("main", {"jsonrpc": "2.0", "id": 7, "result": pyreflys})
    assert answer["id"] == 7
    assert [a["title"] for a in answer["result"]] == [
        "Ruff (F401): Remove unused import: `os`",
        "Generate variable `x`",
    ]
    # One server failing leaves the other's list; both failing, the error.
    ask2, ask3 = {**ask, "id": "a"}, {**ask, "id": "b"}
    [(_, _), (_, ruff2)] = mux.from_client(ask2)
    [(_, _), (_, ruff3)] = mux.from_client(ask3)
    error = {"code": -32603, "message": "boom"}
    assert mux.from_server("main", {"jsonrpc": "2.0", "id": "a", "error": error}) == []
    [only_ruff] = mux.from_server("ruff", {"jsonrpc": "2.0", "id": ruff2["id"], "result": ruffs})
    assert only_ruff == {"jsonrpc": "2.0", "id": "a", "result": ruffs}
    assert mux.from_server("ruff", {"jsonrpc": "2.0", "id": ruff3["id"], "error": error}) == []
    [failed] = mux.from_server("main", {"jsonrpc": "2.0", "id": "b", "error": error})
    assert failed == {"jsonrpc": "2.0", "id": "b", "error": error}


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


def publish(mux: Mux, server: str, *codes: str) -> list[str]:
    """The codes of the diagnostics the client gets after `server` publishes `codes`."""
    params = {"uri": "file:///app/a.py", "diagnostics": [{"code": c} for c in codes]}
    notification = {"jsonrpc": "2.0", "method": "textDocument/publishDiagnostics", "params": params}
    [out] = mux.from_server(server, notification)  # type: ignore[arg-type]
    return [d["code"] for d in out["params"]["diagnostics"]]


def test_diagnostics_are_the_union_of_both_servers() -> None:
    mux = Mux()
    assert publish(mux, "ruff", "E711") == ["E711"]
    assert publish(mux, "main", "bad-argument-type") == ["bad-argument-type", "E711"]
    assert publish(mux, "ruff") == ["bad-argument-type"]


def test_a_closed_documents_diagnostics_are_forgotten() -> None:
    mux = Mux()
    publish(mux, "ruff", "E711")
    close = {"textDocument": {"uri": "file:///app/a.py"}}
    mux.from_client({"jsonrpc": "2.0", "method": "textDocument/didClose", "params": close})
    assert publish(mux, "main", "bad-argument-type") == ["bad-argument-type"]


def test_each_problem_is_reported_once_by_the_server_that_owns_its_rule() -> None:
    mux = Mux()
    # An undefined name and a syntax error are pyrefly's; an unused import is ruff's.
    assert publish(mux, "ruff", "F821", "invalid-syntax", "F401") == ["F401"]
    assert publish(mux, "main", "unknown-name", "parse-error", "unused-import") == [
        "unknown-name",
        "parse-error",
        "F401",
    ]


def change(uri: str, version: int, *changes: dict[str, Any]) -> dict[str, Any]:
    return {
        "jsonrpc": "2.0",
        "method": "textDocument/didChange",
        "params": {
            "textDocument": {"uri": uri, "version": version},
            "contentChanges": list(changes),
        },
    }


def ranged(line: int, start: int, end: int, text: str) -> dict[str, Any]:
    span = {"start": {"line": line, "character": start}, "end": {"line": line, "character": end}}
    return {"range": span, "text": text}


def test_documents_follow_whole_and_ranged_changes_in_utf16() -> None:
    documents = Documents()
    uri = "file:///app/a.py"
    opened = {"textDocument": {"uri": uri, "languageId": "python", "version": 1, "text": "x\r\n"}}
    documents.notify("textDocument/didOpen", opened)
    # "😀" is two UTF-16 code units: character 3 on line 1 is after it.
    whole = change(uri, 2, {"text": "a = 1\r\n😀 = np.\n"})
    documents.notify("textDocument/didChange", whole["params"])
    edit = change(uri, 3, ranged(1, 8, 8, "ar"), ranged(1, 0, 2, "b"))
    documents.notify("textDocument/didChange", edit["params"])
    assert documents.text(uri) == "a = 1\r\nb = np.ar\n"
    typed = documents.typed(uri, {"line": 1, "character": 9})
    assert typed is not None
    assert typed.prefix == "ar"
    # A range past the end forgets the document rather than guess.
    documents.notify("textDocument/didChange", change(uri, 4, ranged(7, 0, 0, "x"))["params"])
    assert documents.text(uri) is None
    assert documents.typed(uri, {"line": 0, "character": 0}) is None


def test_documents_kept_are_bounded_oldest_change_forgotten_first() -> None:
    documents = Documents(max_chars=10)

    def open_document(name: str, text: str) -> None:
        document = {"uri": name, "languageId": "python", "version": 1, "text": text}
        documents.notify("textDocument/didOpen", {"textDocument": document})

    open_document("a", "aaaa")
    open_document("b", "bbbb")
    documents.notify("textDocument/didChange", change("a", 2, {"text": "aaaaa"})["params"])
    open_document("c", "cc")  # 11 characters: b, changed longest ago, goes
    assert [documents.text(name) for name in "abc"] == ["aaaaa", None, "cc"]
    open_document("d", "d" * 11)  # over the bound alone: nothing is kept
    assert [documents.text(name) for name in "abcd"] == [None, None, None, None]


NUMPY = [
    {"label": "arange", "detail": "def arange(...)", "sortText": "a"},
    {"label": "array", "detail": "x" * 5000},
    {"label": "asarray"},
    {"label": "abs"},
    {"label": "zeros"},
]


class Editor:
    """The client's side of a multiplexer: document changes and completion requests."""

    def __init__(self, text: str) -> None:
        self.mux = Mux()
        self.uri = "file:///app/main.py"
        self.version = 1
        self.next_id = 0
        document = {"uri": self.uri, "languageId": "python", "version": 1, "text": text}
        self.mux.from_client(
            {
                "jsonrpc": "2.0",
                "method": "textDocument/didOpen",
                "params": {"textDocument": document},
            }
        )

    def type(self, text: str) -> None:
        self.version += 1
        routed = self.mux.from_client(change(self.uri, self.version, {"text": text}))
        assert [destination for destination, _ in routed] == ["main", "ruff"]

    def complete(self, line: int, character: int) -> tuple[str, dict[str, Any]]:
        """Where the request went, and the answer the client gets (pyrefly's is `NUMPY`)."""
        self.next_id += 1
        params = {
            "textDocument": {"uri": self.uri},
            "position": {"line": line, "character": character},
        }
        request = {
            "jsonrpc": "2.0",
            "id": self.next_id,
            "method": "textDocument/completion",
            "params": params,
        }
        [(destination, out)] = self.mux.from_client(request)
        if destination == "client":
            return "client", out
        assert (destination, out) == ("main", request)
        answer = {
            "jsonrpc": "2.0",
            "id": self.next_id,
            "result": {"isIncomplete": False, "items": NUMPY},
        }
        [out] = self.mux.from_server("main", answer)
        return "main", out


def labels(answer: dict[str, Any]) -> list[str]:
    return [item["label"] for item in answer["result"]["items"]]


def test_completion_is_cut_to_the_prefix_and_answered_again_while_the_name_is_typed() -> None:
    editor = Editor("import numpy as np\nnp.")
    # After the dot: everything, complete (the editor filters as the user types on).
    asked, answer = editor.complete(1, 3)
    assert asked == "main"
    assert labels(answer) == ["arange", "array", "asarray", "abs", "zeros"]
    assert answer["result"]["isIncomplete"] is False
    assert answer["result"]["items"][0] == NUMPY[0]
    assert len(answer["result"]["items"][1]["detail"]) == DETAIL_MAX
    # Typing on in the name: cut, incomplete (so the editor asks again), no server.
    editor.type("import numpy as np\nnp.ar")
    asked, answer = editor.complete(1, 5)
    assert (asked, labels(answer)) == ("client", ["arange", "array", "asarray"])
    assert answer["result"]["isIncomplete"] is True
    assert answer["id"] == editor.next_id
    # One character must start the name; a shorter prefix gets back what it lost.
    editor.type("import numpy as np\nnp.z")
    assert editor.complete(1, 4)[1]["result"]["items"] == [NUMPY[4]]
    editor.type("import numpy as np\nnp.")
    assert labels(editor.complete(1, 3)[1]) == [*labels(answer), "abs", "zeros"]


def test_completion_asks_the_server_again_after_any_other_change() -> None:
    editor = Editor("import numpy as np\nnp.ar")
    asked, answer = editor.complete(1, 5)
    assert (asked, labels(answer)) == ("main", ["arange", "array", "asarray"])
    assert answer["result"]["isIncomplete"] is True
    assert editor.complete(1, 5)[0] == "client"
    editor.type("import numpy as np\nx = 1\nnp.ar")  # a change elsewhere
    assert editor.complete(2, 5)[0] == "main"
    editor.type("import numpy as np\nx = 1\nnp.ar")
    assert editor.complete(2, 4)[0] == "main"  # inside the name: the text after it differs


def test_bucket_allows_a_burst_then_the_rate() -> None:
    now = [0.0]
    bucket = TokenBucket(rate=10, burst=3, clock=lambda: now[0])
    assert [bucket.take() for _ in range(4)] == [True, True, True, False]
    now[0] += 0.1
    assert bucket.take()
    assert not bucket.take()


def test_completion_remembers_a_bounded_number_of_requests() -> None:
    editor = Editor("np.ar")
    params = {"textDocument": {"uri": editor.uri}, "position": {"line": 0, "character": 5}}
    for ident in range(1, MAX_ASKED + 2):
        request = {"jsonrpc": "2.0", "id": ident, "method": "textDocument/completion"}
        assert editor.mux.from_client({**request, "params": params})[0][0] == "main"
    # The first was forgotten: its answer passes as the server wrote it.
    answer = {"jsonrpc": "2.0", "id": 1, "result": {"isIncomplete": False, "items": NUMPY}}
    assert editor.mux.from_server("main", answer) == [answer]
    answer = {**answer, "id": MAX_ASKED + 1}
    assert labels(editor.mux.from_server("main", answer)[0]) == ["arange", "array", "asarray"]
