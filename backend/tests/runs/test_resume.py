"""A follower that reconnects (`Last-Event-ID`) gets what it had not seen, once,
whether the run still runs or has ended meanwhile; in the real bubblewrap sandbox."""

from __future__ import annotations

import pytest

from tests.conftest import User
from tests.runs.events import Event, RunEvents, follow, output_contains
from tests.runs.test_follow import send, start, wait_finished

# Characters beyond ASCII (one counts one), both streams, a plot, and two
# questions to hold the run at known points.
PROGRAM = (
    "import sys\n"
    "import matplotlib.pyplot as plt\n"
    "print('héllo 🌍')\n"
    "print('to stderr', file=sys.stderr, flush=True)\n"
    "plt.plot([1, 2])\n"
    "plt.show()\n"
    "name = input('name? ')\n"
    "print('hello', name)\n"
    "input('again? ')\n"
    "print('bye', file=sys.stderr)\n"
)


@pytest.fixture
def ws(user: User) -> str:
    return user.workspace()


def shown(events: list[Event]) -> list[tuple[str, str]]:
    """What a console shows from `events`: output and plots, pieces of a stream merged."""
    pieces: list[tuple[str, str]] = []
    for event in events:
        if event["type"] == "output":
            piece = (event["stream"], event["text"])
        elif event["type"] == "image":
            piece = ("image", str(event["index"]))
        else:
            continue
        if pieces and pieces[-1][0] == piece[0] != "image":
            pieces[-1] = (piece[0], pieces[-1][1] + piece[1])
        else:
            pieces.append(piece)
    return pieces


def merged(*parts: list[Event]) -> list[Event]:
    return [event for part in parts for event in part]


def assert_positions(events: RunEvents, after: int) -> None:
    """Output events carry where they end, growing by their size from `after`."""
    at = after
    for event, event_id in zip(events.seen, events.ids, strict=True):
        if event["type"] in ("output", "image"):
            at += len(event["text"]) if event["type"] == "output" else 1
            assert event_id == str(at), (event, event_id, at)
        else:
            assert event_id is None, event


def test_a_follower_that_comes_back_gets_only_what_it_missed(user: User, ws: str) -> None:
    run_id = start(user, ws, PROGRAM, interactive=True)
    with follow(user.client, run_id) as first:
        assert first.next() == {"type": "start", "input_open": True, "after": 0}
        first.read_until(output_contains("name? "))
    assert first.retry == 1000, "the browser is told to come back within a second"
    assert_positions(first, 0)
    assert first.last_id is not None
    # Gone while the program answers and asks again.
    assert send(user, run_id, text="Ada\n").status_code == 204

    with follow(user.client, run_id, first.last_id) as second:
        assert second.next() == {"type": "start", "input_open": True, "after": int(first.last_id)}
        second.read_until(output_contains("again? "))
    assert_positions(second, int(first.last_id))
    assert second.last_id is not None
    # Gone again while the run ends: the rest comes from its record.
    assert send(user, run_id, text="\n").status_code == 204
    assert wait_finished(user, run_id)["status"] == "ok"

    with follow(user.client, run_id, second.last_id) as third:
        assert third.next() == {"type": "start", "input_open": False, "after": int(second.last_id)}
        run = third.read_to_end()
    assert_positions(third, int(second.last_id))

    with follow(user.client, run_id) as whole:
        whole.read_to_end()
    pieces = shown(merged(first.seen, second.seen, third.seen))
    assert pieces == shown(whole.seen)
    assert pieces == [
        ("stdout", "héllo 🌍\n"),
        ("stderr", "to stderr\n"),
        ("image", "0"),
        ("stdout", "name? "),
        ("stdin", "Ada\n"),
        ("stdout", "hello Ada\nagain? "),
        ("stdin", "\n"),
        ("stderr", "bye\n"),
    ]
    assert run["stdout"] == "héllo 🌍\nname? hello Ada\nagain? "


def test_resuming_inside_an_event_sends_the_rest_of_its_text(user: User, ws: str) -> None:
    run_id = start(user, ws, "print('abcdefghij')\n")
    wait_finished(user, run_id)
    with follow(user.client, run_id, "4") as events:
        events.read_to_end()
    assert shown(events.seen) == [("stdout", "efghij\n")]
    assert events.ids[1] == "11"


def test_a_position_past_the_end_gives_the_end_alone(user: User, ws: str) -> None:
    run_id = start(user, ws, "print('short')\n")
    wait_finished(user, run_id)
    with follow(user.client, run_id, "1000") as events:
        run = events.read_to_end()
    assert [event["type"] for event in events.seen] == ["start", "end"]
    assert run["stdout"] == "short\n"


@pytest.mark.parametrize("header", ["-1", "abc", "12.5", "9" * 40])
def test_a_last_event_id_that_is_no_position_is_refused(user: User, ws: str, header: str) -> None:
    run_id = start(user, ws, "print('x')\n")
    response = user.client.get(f"/api/runs/{run_id}/events", headers={"Last-Event-ID": header})
    assert response.status_code == 400, response.text
    assert response.json()["detail"] == (
        "Last-Event-ID must be the id of an event this stream sent (a whole number)."
    )
    wait_finished(user, run_id)
