"""A test client for `GET /api/runs/{id}/events`: reads server-sent events one by one."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import httpx

Event = dict[str, Any]


class RunEvents:
    """One follower of a run. `next()` answers the next event's JSON data."""

    def __init__(self, response: httpx.Response) -> None:
        self.response = response
        self._lines = response.iter_lines()
        self.seen: list[Event] = []

    def next(self) -> Event:
        data: list[str] = []
        for line in self._lines:
            if line == "":
                if data:
                    event: Event = json.loads("\n".join(data))
                    self.seen.append(event)
                    return event
                continue
            if line.startswith("data:"):
                data.append(line[5:].removeprefix(" "))
            # Comments (": ping") and other fields are not ours to check.
        raise AssertionError(f"the stream ended after {self.seen!r}")

    def read_until(self, done: Callable[[Event], bool]) -> list[Event]:
        """Events up to and including the first for which `done` is true."""
        events = []
        while True:
            event = self.next()
            events.append(event)
            if done(event):
                return events

    def read_to_end(self) -> Event:
        """Read up to the `end` event; answers the run it carries."""
        end = self.read_until(lambda event: event["type"] == "end")[-1]
        run: Event = end["run"]
        return run

    def output(self, stream: str | None = None) -> str:
        """The output text seen so far, of one stream or (in order) of all."""
        return "".join(
            event["text"]
            for event in self.seen
            if event["type"] == "output" and (stream is None or event["stream"] == stream)
        )


@contextmanager
def follow(client: httpx.Client, run_id: str) -> Iterator[RunEvents]:
    with client.stream("GET", f"/api/runs/{run_id}/events", timeout=60) as response:
        assert response.status_code == 200, response.read()
        assert response.headers["content-type"].startswith("text/event-stream")
        yield RunEvents(response)


def output_contains(text: str) -> Callable[[Event], bool]:
    """A `read_until` condition: an output event whose text contains `text`."""
    return lambda event: event["type"] == "output" and text in event["text"]
