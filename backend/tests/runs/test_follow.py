"""Following a run while it runs (`GET /api/runs/{id}/events`) and typing into it
(`POST /api/runs/{id}/stdin`), through HTTP, in the real bubblewrap sandbox."""

from __future__ import annotations

import socket
import time
from contextlib import ExitStack
from urllib.parse import urlsplit

import httpx
import pytest

from tests.conftest import User
from tests.runs.events import follow, output_contains


@pytest.fixture
def ws(user: User) -> str:
    return user.workspace()


def start(user: User, ws: str, code: str, **body: object) -> str:
    response = user.client.post(f"/api/workspaces/{ws}/runs", json={"code": code, **body})
    assert response.status_code == 202, response.text
    run_id: str = response.json()["id"]
    return run_id


def status_of(user: User, run_id: str) -> str:
    status: str = user.client.get(f"/api/runs/{run_id}").json()["status"]
    return status


def send(user: User, run_id: str, **body: object) -> httpx.Response:
    return user.client.post(f"/api/runs/{run_id}/stdin", json=body)


def wait_finished(user: User, run_id: str) -> dict[str, object]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        run: dict[str, object] = user.client.get(f"/api/runs/{run_id}").json()
        if run["status"] != "running":
            return run
        time.sleep(0.1)
    raise AssertionError(f"run {run_id} never finished")


# Prints, then waits until the test writes the workspace file `go`: the run
# stays running for as long as the test looks, however slow the machine.
PRINT_WAIT_PRINT = """\
import os, time
print('first', flush=True)
while not os.path.exists('go'):
    time.sleep(0.02)
print('second')
"""


def release(user: User, ws: str) -> None:
    """Let a PRINT_WAIT_PRINT program go on: it waits for this file."""
    put = user.client.put(f"/api/workspaces/{ws}/files/go", content=b"")
    assert put.status_code == 201, put.text


def test_output_arrives_chunk_by_chunk_before_the_run_ends(user: User, ws: str) -> None:
    run_id = start(user, ws, PRINT_WAIT_PRINT)
    with follow(user.client, run_id) as events:
        assert events.next() == {"type": "start", "input_open": False, "after": 0}
        events.read_until(output_contains("first"))
        # Seen while the program waits: before "second", before the end.
        assert "second" not in events.output()
        assert status_of(user, run_id) == "running"
        release(user, ws)
        events.read_until(output_contains("second"))
        run = events.read_to_end()
    assert events.output("stdout") == "first\nsecond\n"
    assert run["status"] == "ok"
    assert run["stdout"] == "first\nsecond\n"
    assert run == user.client.get(f"/api/runs/{run_id}").json()


def from_segments(run: dict[str, object]) -> list[tuple[str, str]]:
    """The record's text cut by its segments, as a client rebuilds the console from it."""
    texts = {"stdout": run["stdout"], "stderr": run["stderr"], "stdin": run["typed"]}
    done = dict.fromkeys(texts, 0)
    pieces: list[tuple[str, str]] = []
    segments = run["segments"]
    assert isinstance(segments, list)
    for segment in segments:
        stream, end = segment["stream"], segment["end"]
        if stream != "image":
            pieces.append((stream, str(texts[stream])[done[stream] : end]))
            done[stream] = end
    return pieces


def joined_output(seen: list[dict[str, object]]) -> list[tuple[str, str]]:
    """Output events with consecutive pieces of one stream joined."""
    pieces: list[tuple[str, str]] = []
    for event in seen:
        if event["type"] != "output":
            continue
        stream, text = str(event["stream"]), str(event["text"])
        if pieces and pieces[-1][0] == stream:
            pieces[-1] = (stream, pieces[-1][1] + text)
        else:
            pieces.append((stream, text))
    return pieces


def test_stdout_and_stderr_keep_their_order_and_stream(user: User, ws: str) -> None:
    code = (
        "import sys, time\n"
        "for i in range(3):\n"
        "    print('out', i)\n"
        "    time.sleep(0.05)\n"
        "    print('err', i, file=sys.stderr)\n"
        "    time.sleep(0.05)\n"
    )
    run_id = start(user, ws, code)
    with follow(user.client, run_id) as events:
        run = events.read_to_end()
    # Unbuffered, print() writes its pieces one by one: join each stream's run.
    pieces = joined_output(events.seen)
    assert pieces == [
        item for i in range(3) for item in (("stdout", f"out {i}\n"), ("stderr", f"err {i}\n"))
    ]
    assert run["stdout"] == "out 0\nout 1\nout 2\n"
    assert run["stderr"] == "err 0\nerr 1\nerr 2\n"
    # The record keeps the order: a reloaded page and a late follower see it too.
    assert from_segments(run) == pieces
    with follow(user.client, run_id) as replayed:
        replayed.read_to_end()
    assert joined_output(replayed.seen) == pieces


def test_input_is_answered_through_the_endpoint(user: User, ws: str) -> None:
    code = (
        "name = input('Your name? ')\n"
        "age = int(input('Your age? '))\n"
        "print(f'Hello {name}, next year you will be {age + 1}.')\n"
    )
    # The `stdin` given at the start is read first; the rest is typed.
    run_id = start(user, ws, code, stdin="Ada\n", interactive=True)
    with follow(user.client, run_id) as events:
        assert events.next() == {"type": "start", "input_open": True, "after": 0}
        events.read_until(output_contains("Your age? "))
        assert status_of(user, run_id) == "running"
        assert user.client.get(f"/api/runs/{run_id}").json()["input_open"] is True
        assert send(user, run_id, text="36\n").status_code == 204
        run = events.read_to_end()
    assert run["status"] == "ok", run
    assert run["stdout"] == "Your name? Your age? Hello Ada, next year you will be 37.\n"
    # The typed line shows in the stream where it was typed, never in the record.
    assert events.output() == "Your name? Your age? 36\nHello Ada, next year you will be 37.\n"
    assert {"type": "input", "open": False} in events.seen
    assert run["input_open"] is False
    # The typed input is kept apart from the output, and where it was typed.
    assert run["typed"] == "36\n"
    assert from_segments(run) == [
        ("stdout", "Your name? Your age? "),
        ("stdin", "36\n"),
        ("stdout", "Hello Ada, next year you will be 37.\n"),
    ]
    with follow(user.client, run_id) as replayed:
        replayed.read_to_end()
    assert replayed.output() == events.output()


def test_a_running_run_shows_its_output_so_far(user: User, ws: str) -> None:
    # What a client that cannot follow (it polls) shows meanwhile.
    code = "name = input('Your name? ')\nage = input('Your age? ')\nprint('bye')\n"
    run_id = start(user, ws, code, interactive=True)
    with follow(user.client, run_id) as events:
        events.read_until(output_contains("Your name? "))
        assert send(user, run_id, text="Ada\n").status_code == 204
        events.read_until(output_contains("Your age? "))
        run = user.client.get(f"/api/runs/{run_id}").json()
        assert run["status"] == "running"
        assert (run["stdout"], run["typed"]) == ("Your name? Your age? ", "Ada\n")
        assert from_segments(run) == [
            ("stdout", "Your name? "),
            ("stdin", "Ada\n"),
            ("stdout", "Your age? "),
        ]
        # The list gives a summary; the output is the run's own (`GET /api/runs/{id}`).
        listed = user.client.get(f"/api/workspaces/{ws}/runs").json()
        summary = next(r for r in listed if r["id"] == run_id)
        assert summary["status"] == "running"
        assert "stdout" not in summary
        assert send(user, run_id, text="36\n").status_code == 204
        assert events.read_to_end()["stdout"] == "Your name? Your age? bye\n"


def test_eof_ends_the_input(user: User, ws: str) -> None:
    code = "import sys\nprint(repr(sys.stdin.read()))\ninput()\n"
    run_id = start(user, ws, code, interactive=True)
    assert send(user, run_id, text="a\nb").status_code == 204
    assert send(user, run_id, text="c\n", eof=True).status_code == 204
    run = wait_finished(user, run_id)
    assert run["stdout"] == "'a\\nbc\\n'\n"
    assert run["status"] == "error"
    assert "EOFError" in str(run["stderr"])


def test_input_refused_when_the_run_takes_none(user: User, ws: str) -> None:
    # Ended: 409 with a sentence.
    done = start(user, ws, "print(1)", interactive=True)
    wait_finished(user, done)
    refused = send(user, done, text="late\n")
    assert refused.status_code == 409
    assert "ended" in refused.json()["detail"]

    # Not interactive: the input closed after `stdin`, as it always did.
    waiting = start(user, ws, "import time\ntime.sleep(30)")
    refused = send(user, waiting, text="x\n")
    assert refused.status_code == 409
    assert "interactive" in refused.json()["detail"]

    # After EOF.
    interactive = start(user, ws, "import time\ntime.sleep(30)", interactive=True)
    assert send(user, interactive, eof=True).status_code == 204
    refused = send(user, interactive, text="x\n")
    assert refused.status_code == 409
    for run_id in (waiting, interactive):
        user.client.post(f"/api/runs/{run_id}/stop")


def test_input_size_is_capped(user: User, ws: str) -> None:
    run_id = start(user, ws, "import time\ntime.sleep(30)", interactive=True)
    too_big = send(user, run_id, text="x" * (64 * 1024 + 1))
    assert too_big.status_code == 413
    assert "64 KiB" in too_big.json()["detail"]
    # The program never reads: what may wait for it is capped too (1 MiB, and
    # what the pipe itself holds).
    chunk = "y" * (64 * 1024)
    accepted = 0
    while (answer := send(user, run_id, text=chunk)).status_code == 204:
        accepted += 1
        assert accepted <= 18
    assert answer.status_code == 413
    assert accepted >= 16
    user.client.post(f"/api/runs/{run_id}/stop")


def test_other_users_cannot_follow_or_type(user: User, other_user: User, ws: str) -> None:
    run_id = start(user, ws, "input()", interactive=True)
    assert other_user.client.get(f"/api/runs/{run_id}/events").status_code == 404
    assert send(other_user, run_id, text="x\n").status_code == 404
    assert other_user.client.get(f"/api/runs/{run_id}/images/0").status_code == 404
    assert user.client.get("/api/runs/nope/events").status_code == 404
    assert send(user, run_id, text="mine\n").status_code == 204
    assert wait_finished(user, run_id)["status"] == "ok"


def test_followers_of_one_run_are_capped(user: User, ws: str) -> None:
    run_id = start(user, ws, "input()", interactive=True)
    with ExitStack() as stack:
        followers = [stack.enter_context(follow(user.client, run_id)) for _ in range(16)]
        for events in followers:
            assert events.next()["type"] == "start"
        refused = user.client.get(f"/api/runs/{run_id}/events")
        assert refused.status_code == 429
        assert "followed" in refused.json()["detail"]
        assert "Retry-After" in refused.headers
    # Gone followers no longer count (once the server has seen them go).
    deadline = time.monotonic() + 10
    while True:
        with user.client.stream("GET", f"/api/runs/{run_id}/events") as probe:
            if probe.status_code == 200:
                break
        assert time.monotonic() < deadline
        time.sleep(0.1)
    with follow(user.client, run_id) as events:
        assert events.next()["type"] == "start"
        assert send(user, run_id, text="\n").status_code == 204
        assert events.read_to_end()["status"] == "ok"


def test_a_finished_run_is_replayed(user: User, ws: str) -> None:
    result = user.client.post(
        f"/api/workspaces/{ws}/runs",
        params={"wait": True},
        json={"code": "import sys\nprint('out')\nprint('err', file=sys.stderr)"},
        timeout=60,
    ).json()
    with follow(user.client, result["id"]) as events:
        run = events.read_to_end()
    assert events.seen[0] == {"type": "start", "input_open": False, "after": 0}
    assert events.output("stdout") == "out\n"
    assert events.output("stderr") == "err\n"
    assert run == user.client.get(f"/api/runs/{result['id']}").json()


# A fresh sandbox imports numpy, pandas and matplotlib within the default 30 s
# run limit: on a host busy with other workers' tests it can take longer.
@pytest.mark.exclusive
def test_plots_stream_as_they_appear(user: User, ws: str) -> None:
    code = "import matplotlib.pyplot as plt\nplt.plot([1, 2, 3])\nplt.show()\ninput('next? ')\n"
    run_id = start(user, ws, code, interactive=True)
    with follow(user.client, run_id) as events:
        image = events.read_until(lambda event: event["type"] == "image")[-1]
        assert image["index"] == 0
        assert image["url"] == f"/api/runs/{run_id}/images/0"
        # Served while the run still waits for its input.
        assert status_of(user, run_id) == "running"
        png = user.client.get(image["url"])
        assert png.status_code == 200
        assert png.headers["content-type"] == "image/png"
        assert png.content.startswith(b"\x89PNG")
        send(user, run_id, text="\n")
        run = events.read_to_end()
    assert run["status"] == "ok", run["stderr"]
    assert run["images"] == [image["url"]]
    assert user.client.get(image["url"]).content == png.content


def test_a_stopped_run_keeps_what_it_printed(user: User, ws: str) -> None:
    code = "import sys, time\nsys.stdout.write('before\\n')\ntime.sleep(60)"
    run_id = start(user, ws, code)
    with follow(user.client, run_id) as events:
        events.read_until(output_contains("before"))
        stopped = user.client.post(f"/api/runs/{run_id}/stop", timeout=30).json()
        run = events.read_to_end()
    assert stopped["status"] == run["status"] == "killed"
    assert run["stdout"] == "before\n"
    assert run["message"] == "The run was stopped."


def test_output_cap_holds_for_followers(user: User, ws: str) -> None:
    run_id = start(user, ws, "import sys\nsys.stdout.write('x' * (3 * 1024 * 1024))")
    with follow(user.client, run_id) as events:
        run = events.read_to_end()
    assert run["truncated"] is True
    assert events.output("stdout") == "x" * (1024 * 1024)


def test_a_follower_that_never_reads_does_not_block(user: User, ws: str) -> None:
    # The program waits until both followers are there, then floods: control
    # characters, which JSON makes six bytes each, so the stream (~6 MiB) is
    # far more than the socket buffers hold while nobody reads.
    code = "import sys\ninput()\nfor _ in range(64):\n    sys.stdout.write('\\x01' * 16384)\n"
    run_id = start(user, ws, code, interactive=True)
    url = urlsplit(str(user.client.base_url))
    stalled = socket.socket()
    stalled.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    stalled.connect((url.hostname or "127.0.0.1", url.port or 80))
    try:
        stalled.sendall(
            f"GET /api/runs/{run_id}/events HTTP/1.1\r\nHost: {url.netloc}\r\n"
            f"Authorization: Bearer {user.token}\r\n\r\n".encode()
        )
        # It reads up to its first event, then never again.
        received = b""
        while b'"type":"start"' not in received:
            received += stalled.recv(4096)
        assert received.startswith(b"HTTP/1.1 200")
        # Another follower, reading, gets everything; the run ends as always.
        with follow(user.client, run_id) as events:
            events.next()
            assert send(user, run_id, text="go\n").status_code == 204
            run = events.read_to_end()
        assert run["status"] == "ok"
        assert events.output("stdout") == "\x01" * (1024 * 1024)
        assert user.client.get("/api/health").status_code == 200
        # And a later run is not held up either.
        again = user.client.post(
            f"/api/workspaces/{ws}/runs", params={"wait": True}, json={"code": "print(2)"}
        )
        assert again.json()["stdout"] == "2\n"
    finally:
        stalled.close()
