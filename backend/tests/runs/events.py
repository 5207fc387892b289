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
        # Each seen event's `id` field (None: it had none), and the last one
        # given, which a browser would send back as Last-Event-ID.
        self.ids: list[str | None] = []
        self.last_id: str | None = None
        self.retry: int | None = None

    def next(self) -> Event:
        data: list[str] = []
        event_id: str | None = None
        for line in self._lines:
            if line == "":
                if data:
                    event: Event = json.loads("\n".join(data))
                    self.seen.append(event)
                    self.ids.append(event_id)
                    if event_id is not None:
                        self.last_id = event_id
                    return event
                continue
            field, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if field == "data":
                data.append(value)
            elif field == "id":
                event_id = value
            elif field == "retry":
                self.retry = int(value)
            # Comments (": ping") are not ours to check.
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
def follow(
    client: httpx.Client, run_id: str, last_event_id: str | None = None
) -> Iterator[RunEvents]:
    """Follow `run_id`; with `last_event_id`, as a browser reconnecting after that event."""
    headers = {} if last_event_id is None else {"Last-Event-ID": last_event_id}
    with client.stream(
        "GET", f"/api/runs/{run_id}/events", headers=headers, timeout=60
    ) as response:
        assert response.status_code == 200, response.read()
        assert response.headers["content-type"].startswith("text/event-stream")
        yield RunEvents(response)


def output_contains(text: str) -> Callable[[Event], bool]:
    """A `read_until` condition: an output event whose text contains `text`."""
    return lambda event: event["type"] == "output" and text in event["text"]
